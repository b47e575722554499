import type { TaskSummary } from "./api";

export type FacetCounts = [value: string, count: number][];

function count(values: Iterable<string>): FacetCounts {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Filter values with their row counts, most frequent first, for the browser's filters. */
export function facetsOf(summaries: readonly TaskSummary[]): { sources: FacetCounts; difficulties: FacetCounts; tags: FacetCounts } {
  return {
    sources: count(summaries.map((s) => s.source)),
    difficulties: count(summaries.flatMap((s) => (s.difficulty ? [s.difficulty] : []))),
    tags: count(summaries.flatMap((s) => s.tags)),
  };
}

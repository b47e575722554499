// The format of a dataset, told from the fields of its first readable record (Parquet: its
// columns), never from the file name.
import type { DatasetFormat } from "./api";
import { DatasetError } from "./errors";
import { dataFiles, openSource } from "./files";
import { ParquetFile } from "./sources/parquet";
import type { RecordSource } from "./sources/types";

const DETECTABLE: DatasetFormat[] = ["taco", "mbpp", "mbpp-sanitized", "humaneval", "humaneval+", "mbpp+", "tasks"];

export function formatFromFields(fields: readonly string[]): DatasetFormat | undefined {
  const has = (...keys: string[]) => keys.every((k) => fields.includes(k));
  if (has("question", "input_output")) return "taco";
  if (has("base_input", "plus_input")) return fields.includes("test") ? "humaneval+" : "mbpp+";
  if (has("id", "source", "prompt", "solutions", "tests")) return "tasks";
  if (has("text", "code", "test_list")) return "mbpp";
  if (has("prompt", "code", "test_list")) return "mbpp-sanitized";
  if (has("task_id", "prompt", "canonical_solution", "test", "entry_point")) return "humaneval";
  return undefined;
}

class Found extends Error {
  constructor(readonly fields: string[]) {
    super("found");
  }
}

/** The fields of the first record that parses, or undefined when there is none. */
async function firstFields(source: RecordSource): Promise<string[] | undefined> {
  if (source instanceof ParquetFile) return source.columnNames().length ? source.columnNames() : undefined;
  try {
    await source.scan({
      records(batch) {
        const good = batch.find((r) => r.fields);
        // Stops the scan at the first good record: a large file is not read to the end.
        if (good?.fields) throw new Found(Object.keys(good.fields));
      },
      problem() {},
      progress() {},
    });
  } catch (err) {
    if (err instanceof Found) return err.fields;
    throw err;
  }
  return undefined;
}

export async function detectFormat(path: string): Promise<DatasetFormat> {
  for (const file of await dataFiles(path)) {
    const source = await openSource(file, { required: [] });
    try {
      const fields = await firstFields(source);
      if (!fields) continue;
      const format = formatFromFields(fields);
      if (format) return format;
      throw new DatasetError(
        `cannot tell the format of ${file} from its fields (${fields.join(", ")}): give one of ${DETECTABLE.join(", ")}, or "custom" with a field mapping`,
      );
    } finally {
      await source.close();
    }
  }
  throw new DatasetError(`cannot tell the format of ${path}: it has no readable record (empty or malformed); give the format explicitly`);
}

// The arrows of DESIGN.md's layout, checked on the import graph of src/ and webview/: no cycles,
// no panel reaching into another panel's folder, and one reader of the workspace and its
// codistill.yaml.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "./helpers";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\b[^'"]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

/** Repo-relative paths of the project files `file` imports (packages are left out). */
function localImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const targets: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3]!;
    if (!spec.startsWith(".")) continue;
    const base = resolve(dirname(file), spec);
    const found = [`${base}.ts`, join(base, "index.ts"), base].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
    assert.ok(found, `${relative(REPO, file)} imports "${spec}", which is not a file of the project`);
    targets.push(relative(REPO, found));
  }
  return targets;
}

const files = [...sourceFiles(join(REPO, "src")), ...sourceFiles(join(REPO, "webview"))];
const graph = new Map(files.map((file) => [relative(REPO, file), localImports(file)]));

/** Every import cycle, each as the path that closes it (Tarjan's strongly connected components). */
function importCycles(edges: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || edges.get(node)?.includes(node)) cycles.push(component.reverse());
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/** "training" for src/panels/training/Panel.ts and webview/training/main.ts; undefined elsewhere. */
function panelOf(path: string): string | undefined {
  return /^(?:src\/panels|webview)\/([^/]+)\//.exec(path)?.[1];
}

describe("architecture: the import graph of src/ and webview/", () => {
  it("reads the whole tree", () => {
    assert.ok(graph.size > 80, `only ${graph.size} files found`);
    assert.ok(graph.get("src/extension.ts")!.includes("src/workspace.ts"));
  });

  it("finds a cycle when there is one (the checker itself)", () => {
    const cycles = importCycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]));
    assert.deepEqual(cycles, [["a", "b", "c"]]);
  });

  it("has no import cycles", () => {
    assert.deepEqual(importCycles(graph), []);
  });

  it("has no imports from one panel's folder into another's (shared/ is for all of them)", () => {
    const crossings: string[] = [];
    for (const [file, targets] of graph) {
      const from = panelOf(file);
      if (!from) continue;
      for (const target of targets) {
        const to = panelOf(target);
        if (to && to !== from && to !== "shared") crossings.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(crossings, []);
  });

  it("keeps panels, views, editor glue and core from importing the command modules", () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      /^src\/(panels|views|editor|core|sidecar)\//.test(file) ? targets.filter((t) => t === "src/commands.ts" || t === "src/datasetCommands.ts" || t === "src/extension.ts").map((t) => `${file} -> ${t}`) : [],
    );
    assert.deepEqual(upward, []);
  });

  it("reads the workspace folders and codistill.yaml in one place", () => {
    const readers = (pattern: RegExp) => [...graph.keys()].filter((file) => pattern.test(readFileSync(join(REPO, file), "utf8"))).sort();
    assert.deepEqual(readers(/\bworkspaceFolders\b/), ["src/workspace.ts"]);
    assert.deepEqual(readers(/\breadExperimentConfig\(/), ["src/core/experiment/config.ts", "src/core/experiment/configCache.ts"]);
    assert.deepEqual(readers(/new ExperimentConfigCache\(/), ["src/workspace.ts"]);
  });
});

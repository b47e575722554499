// Shared by the tests that follow JSON values from a source file to the exported Task JSONL
// (datasets.floats, datasets.keyOrder): a scratch folder, a parse-and-write round trip, and
// every task of a file read the way the extension reads it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { openDataset, parseJson, serializeTask, type DatasetFormat, type Task } from "../../src/core/datasets/index";
import { stringifyValue } from "../../src/core/datasets/json";

/** A fresh temporary folder, removed when the calling test file's tests are done. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** JSON text parsed and written back as the exported Task JSONL writes it. */
export const roundTrip = (text: string): string => stringifyValue(parseJson(text));

/** Every task of `file`, which must reject no row; task(0) must re-read the first one identically. */
export async function tasksOf(file: string, format?: DatasetFormat): Promise<Task[]> {
  const dataset = await openDataset(file, format ? { format } : {});
  const tasks: Task[] = [];
  try {
    assert.deepEqual(dataset.rejected, []);
    await dataset.forEachTask((task) => {
      tasks.push(task);
    });
    // task() re-reads the row: the same values, in the same order.
    assert.equal(serializeTask(await dataset.task(0)), serializeTask(tasks[0]!));
  } finally {
    await dataset.close();
  }
  return tasks;
}

// Dataset loading: every source format mapped to the Task schema, indexed for browsing.
import type { OpenDatasetOptions } from "./api";
import { Dataset } from "./dataset";
import { detectFormat } from "./detect";
import { dataFiles } from "./files";
import { mapperFor } from "./formats/index";

export type { DatasetFormat, DatasetIndex, DatasetStats, FieldMapping, OpenDatasetOptions, Rejection, TaskFilter, TaskSummary } from "./api";
export type { AssertTests, CallTests, SpecialJudge, StdioTests, Task, TaskSource, TaskTests } from "./task";
export { Dataset, NO_DIFFICULTY } from "./dataset";
export { detectFormat, formatFromFields } from "./detect";
export { DatasetError, FieldError } from "./errors";
export { loadSpecialJudges } from "./formats/index";
export { parseJson } from "./json";
export { pythonSyntax, type PythonSyntax } from "./pythonSyntax";
export { serializeTask } from "./serialize";
export { validateTask, TASK_SOURCES } from "./validate";

export const DATASET_FORMATS = ["taco", "mbpp", "mbpp-sanitized", "humaneval", "humaneval+", "mbpp+", "tasks", "custom"] as const;

/**
 * Opens and indexes a dataset file or folder. Resolves when every row is indexed, or, with
 * `firstPage`, as soon as that many are (the rest goes on in the background). Rows that cannot
 * be mapped are in `rejected`; a dataset that cannot be read at all rejects with DatasetError.
 */
export async function openDataset(path: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const format = options.format ?? (await detectFormat(path));
  const mapper = await mapperFor(format, options);
  const files = await dataFiles(path);
  const dataset = new Dataset(path, format, mapper, options);
  try {
    await dataset.start(files);
  } catch (err) {
    await dataset.close();
    throw err;
  }
  return dataset;
}


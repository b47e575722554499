// codistill.yaml as the extension keeps it: parsed once per version of the file. Every read
// stats the file, so a reader never sees a config older than the file on disk, whether or not a
// file watcher has fired yet (watchers lag, and some file systems have none).
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { CONFIG_FILE, describeProblem, readExperimentConfig, type ExperimentConfig } from "./config";

export interface LoadedExperiment {
  /** The folder that holds codistill.yaml. */
  root: string;
  /** Undefined when there is no codistill.yaml, or it cannot be read (then `problems` says why). */
  config: ExperimentConfig | undefined;
  /** Each problem with its file, line and field, as describeProblem writes it. */
  problems: string[];
}

export class ExperimentConfigCache {
  private cached: { stamp: string; loaded: Promise<LoadedExperiment> } | undefined;

  constructor(readonly root: string) {}

  get file(): string {
    return join(this.root, CONFIG_FILE);
  }

  /** The parsed file; parsed again only when its size, times or inode changed. */
  async load(): Promise<LoadedExperiment> {
    const stamp = await this.stamp();
    if (this.cached?.stamp !== stamp) this.cached = { stamp, loaded: this.parse() };
    return this.cached.loaded;
  }

  private async stamp(): Promise<string> {
    try {
      const s = await stat(this.file, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (err) {
      return `missing:${(err as NodeJS.ErrnoException).code ?? "?"}`;
    }
  }

  private async parse(): Promise<LoadedExperiment> {
    try {
      const result = await readExperimentConfig(this.root);
      if (!result) return { root: this.root, config: undefined, problems: [] };
      return { root: this.root, config: result.config, problems: result.problems.map(describeProblem) };
    } catch (err) {
      // A folder named codistill.yaml, no permission: not a config, and the user should be told.
      return { root: this.root, config: undefined, problems: [`${this.file}: ${(err as Error).message}`] };
    }
  }
}

// Host glue for the teacher's reasoning: the settings and the secret API key made into a source,
// the sidecar's sandbox made into a verifier, and one CotStore per set shared by the Generate
// command, the Dataset Browser and the explorer, so their appends never race. Everything that
// decides something is in src/core/cot.
import { mkdir } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import * as vscode from "vscode";
import { readSettings, type TeacherSettingsView } from "../config";
import { reasonFor } from "../core/cot/generate";
import { readPromptTemplate, type CotMode } from "../core/cot/prompt";
import { rationalizerSource, teacherSource, type ReasoningSource } from "../core/cot/sources";
import { CotStore, type CotRecord, type ReviewDecision } from "../core/cot/store";
import { TeacherClient } from "../core/cot/teacher";
import { reviewed } from "../core/cot/curate";
import { sandboxVerifier, withVerdict, type ExecuteSamples, type Verifier } from "../core/cot/verify";
import type { Task } from "../core/datasets/task";
import type { CotSetDecl } from "../core/experiment/config";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import type { ExperimentWorkspace } from "../workspace";

export const API_KEY_SECRET = "codistill.teacher.apiKey";

/** A CoT set's name becomes a file name: letters, digits, dot, dash and underscore. */
export const COT_SET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

interface Host {
  extensionUri: vscode.Uri;
  secrets: vscode.SecretStorage;
  log: vscode.LogOutputChannel;
  supervisor: SidecarSupervisor;
  workspace: ExperimentWorkspace;
}

export class ReasoningService implements vscode.Disposable {
  private readonly stores = new Map<string, Promise<CotStore>>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with a set's name after this window appended to it. */
  readonly onDidChangeSet = this.changed.event;

  constructor(private readonly host: Host) {}

  dispose(): void {
    this.changed.dispose();
  }

  /** `.codistill/cots` of the workspace folder; an error without one. */
  cotsDir(): string {
    const root = this.host.workspace.root;
    if (!root) throw new Error("Open a folder first: CoT sets live in its .codistill/cots/.");
    return join(root, ".codistill", "cots");
  }

  setPath(name: string): string {
    if (!COT_SET_NAME.test(name)) throw new Error(`"${name}" is not a CoT set name: use letters, digits, ".", "-" and "_"`);
    return join(this.cotsDir(), `${name}.jsonl`);
  }

  /** The set's store, shared; opened again when another process wrote to the file. */
  async store(name: string): Promise<CotStore> {
    const path = this.setPath(name);
    const cached = this.stores.get(path);
    if (cached) {
      const store = await cached.catch(() => undefined);
      if (store && !(await store.changedOnDisk())) return store;
    }
    await mkdir(this.cotsDir(), { recursive: true });
    const opening = CotStore.open(path);
    this.stores.set(path, opening);
    const store = await opening.catch((err: unknown) => {
      this.stores.delete(path);
      throw err;
    });
    if (store.tornLine) this.host.log.warn(`${path}:${store.tornLine.line}: a torn last line (${store.tornLine.bytes} bytes) from an interrupted run; cut off at the next append`);
    return store;
  }

  async append(name: string, record: CotRecord): Promise<void> {
    await (await this.store(name)).append(record);
    this.changed.fire(name);
  }

  teacherSettings(): TeacherSettingsView {
    return readSettings().teacher;
  }

  /** The configured teacher, or the offline rationalizer when no endpoint is set. */
  async source(): Promise<ReasoningSource> {
    const teacher = this.teacherSettings();
    if (!teacher.endpoint) return rationalizerSource();
    return this.endpointSource(teacher.mode);
  }

  /** Who writes a CoT set of codistill.yaml's `cots:` for the experiment: its own teacher and mode. */
  async experimentSource(set: CotSetDecl): Promise<ReasoningSource> {
    if (set.teacher === "offline") return rationalizerSource();
    if (!this.teacherSettings().endpoint) {
      throw new Error(`CoT set ${set.name} has teacher: endpoint, and "codistill.teacher.endpoint" is empty: set it (or write teacher: offline in codistill.yaml)`);
    }
    return this.endpointSource(set.mode);
  }

  private async endpointSource(mode: CotMode): Promise<ReasoningSource> {
    const teacher = this.teacherSettings();
    if (!teacher.model) throw new Error('Set "codistill.teacher.model" to the model the teacher endpoint serves.');
    const apiKey = await this.host.secrets.get(API_KEY_SECRET);
    const template = await readPromptTemplate(this.templatePath(teacher.promptTemplate));
    const settings = { endpoint: teacher.endpoint, model: teacher.model, temperature: teacher.temperature };
    const client = new TeacherClient({
      ...settings,
      maxTokens: teacher.maxTokens,
      concurrency: teacher.concurrency,
      maxRetries: teacher.maxRetries,
      timeoutMs: teacher.timeoutMs,
      stream: teacher.stream,
      ...(apiKey ? { apiKey } : {}),
    });
    return teacherSource(client, settings, template, mode);
  }

  private templatePath(setting: string): string {
    if (!setting) return vscode.Uri.joinPath(this.host.extensionUri, "media", "cot-prompt.md").fsPath;
    if (isAbsolute(setting)) return setting;
    const root = this.host.workspace.root;
    if (!root) throw new Error(`codistill.teacher.promptTemplate "${setting}" is relative, and no folder is open`);
    return join(root, setting);
  }

  /** The sandbox verifier when codistill.teacher.verify is on: the sidecar's eval/execute. */
  verifier(): Verifier | undefined {
    if (!this.teacherSettings().verify) return undefined;
    const root = this.host.workspace.root;
    if (!root) return undefined;
    const execute: ExecuteSamples = async (job, signal) => {
      const result = await this.host.supervisor.request(
        "eval/execute",
        { tasksPath: job.tasksPath, samplesPath: job.samplesPath, outDir: job.outDir, cacheDir: join(root, ".codistill", "cache", "expected-outputs") },
        { timeoutMs: 0, ...(signal ? { signal } : {}) },
      );
      return result.resultsPath;
    };
    return sandboxVerifier(execute, join(root, ".codistill", "cache", "verify"));
  }

  /** Asks the teacher again for one task, appends the answer and, when verification is on, its verdict. */
  async regenerate(name: string, task: Task, signal?: AbortSignal): Promise<CotRecord> {
    const teacher = this.teacherSettings();
    const record = await reasonFor(task, { source: await this.source(), maxReasks: teacher.maxRetries, ...(signal ? { signal } : {}) }, new Date());
    await this.append(name, record);
    const verifier = record.status === "valid" && record.teacherCode ? this.verifier() : undefined;
    if (!verifier) return record;
    const verdict = (await verifier.verify([{ task, record }], signal)).get(task.id);
    if (!verdict) return record;
    const judged = withVerdict(record, verdict, new Date());
    await this.append(name, judged);
    return judged;
  }

  /** Appends the task's record again with a person's decision; the last record counts. */
  async review(name: string, taskId: string, decision: Exclude<ReviewDecision, "edited">): Promise<CotRecord> {
    const current = await (await this.store(name)).get(taskId);
    if (!current) throw new Error(`no CoT record for ${taskId} in ${name}`);
    const record = reviewed(current, decision, new Date());
    await this.append(name, record);
    return record;
  }
}

/** "Codistill: Set Teacher API Key": kept in SecretStorage only; an empty answer removes it. */
export async function setTeacherApiKey(secrets: vscode.SecretStorage): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: "Codistill: Set Teacher API Key",
    prompt: "The API key of the teacher endpoint (codistill.teacher.endpoint). It is kept in VS Code's secret storage, never in settings or files. Leave empty to remove it.",
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  if (key.trim()) {
    await secrets.store(API_KEY_SECRET, key.trim());
    void vscode.window.showInformationMessage("Codistill: the teacher API key is stored in VS Code's secret storage.");
  } else {
    await secrets.delete(API_KEY_SECRET);
    void vscode.window.showInformationMessage("Codistill: the teacher API key is removed.");
  }
}

// "Codistill: Generate Code": the prompt at the cursor, in the format the student was trained
// on, answered by the student (ONNX worker or sidecar); the reasoning goes beside the editor or
// above the code, and the code streams in as one undoable edit. With several samples, the
// structural consensus picks the candidate to insert.
import { basename } from "node:path";
import * as vscode from "vscode";
import { CANDIDATE_TEMPERATURE, readSettings, type GenerationSettings } from "../config";
import type { CodistillContext } from "../context";
import { AnswerStream, reasoningWords, splitAnswer, type AnswerParts } from "../core/generation/answer";
import { promptAt, NoPromptError, type EditorPrompt } from "../core/generation/editorPrompt";
import type { CodeGeneration, CodeGenerator, SamplingSettings } from "../core/generation/generator";
import { answerIndent, answerReplacesStub, candidateProgram, LineIndenter } from "../core/generation/insertion";
import type { PromptFormatName } from "../core/generation/promptFormat";
import { NoStudentError, type Student } from "../core/generation/students";
import type { ConsensusDiagnostics } from "./consensusDiagnostics";
import { exportStudentCommand } from "./exportStudent";
import { ReasoningView } from "./reasoningView";
import type { GenerationService } from "./service";
import { StreamingEdit } from "./streamingEdit";

export async function generateCodeCommand(ctx: CodistillContext, service: GenerationService, consensus: ConsensusDiagnostics): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "python") {
    void vscode.window.showErrorMessage("Open a Python file and put the cursor under a docstring, a signature or a comment: the student writes the code there.");
    return;
  }
  const prompt = editorPrompt(editor);
  if (!prompt) return;
  const student = await studentOrExplain(ctx, service);
  if (!student) return;
  const settings = readSettings().generation;
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Codistill: the student is writing code", cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        progress.report({ message: `loading ${describeStudent(student)}` });
        const generator = await service.generator(student);
        if (abort.signal.aborted) return;
        const result =
          settings.samples > 1
            ? await generateByConsensus(editor, prompt, generator, settings, consensus, abort.signal, (message) => progress.report({ message }))
            : await generateStreamed(editor, prompt, generator, settings, abort.signal, () => progress.report({ message: "writing…" }));
        reportDone(ctx, generator, result);
      },
    );
  } catch (error) {
    ctx.log.error(`Generate Code: ${(error as Error).stack ?? error}`);
    void vscode.window.showErrorMessage(`Codistill could not generate code: ${(error as Error).message}`);
  }
}

function editorPrompt(editor: vscode.TextEditor): EditorPrompt | undefined {
  const doc = editor.document;
  const lines = Array.from({ length: doc.lineCount }, (_, i) => doc.lineAt(i).text);
  const { selection } = editor;
  try {
    return promptAt(lines, selection.active, { start: selection.start, end: selection.end });
  } catch (error) {
    if (!(error instanceof NoPromptError)) throw error;
    void vscode.window.showErrorMessage(error.message);
    return undefined;
  }
}

/** The student to run, or a message that says what to do when there is none. */
async function studentOrExplain(ctx: CodistillContext, service: GenerationService): Promise<Student | undefined> {
  try {
    return await service.student();
  } catch (error) {
    if (!(error instanceof NoStudentError)) throw error;
    const exportRun = "Export Student to ONNX";
    const pick = "Pick Model Folder…";
    const train = "Open Training";
    const actions = error.exportableRun ? [exportRun, pick] : [pick, train];
    const answer = await vscode.window.showErrorMessage(error.message, ...actions);
    if (answer === exportRun) await exportStudentCommand(ctx, error.exportableRun);
    else if (answer === train) await vscode.commands.executeCommand("codistill.startTraining");
    else if (answer === pick) await pickModelFolder();
    return undefined;
  }
}

async function pickModelFolder(): Promise<void> {
  const [folder] = (await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, openLabel: "Generate With This Student" })) ?? [];
  if (!folder) return;
  await vscode.workspace.getConfiguration("codistill").update("generation.model", folder.fsPath, vscode.ConfigurationTarget.Workspace);
  void vscode.window.showInformationMessage(`Codistill generates with ${folder.fsPath} (setting codistill.generation.model). Run "Generate Code" again.`);
}

function describeStudent(student: Student): string {
  const where = student.backend === "onnx" ? student.folder : student.adapter ?? student.model;
  return student.runId ? `run ${student.runId} (${student.backend})` : `${basename(where)} (${student.backend})`;
}

function sampling(settings: GenerationSettings, candidate?: number): SamplingSettings {
  const consensus = candidate !== undefined;
  return {
    maxNewTokens: settings.maxNewTokens,
    temperature: consensus && settings.temperature === 0 ? CANDIDATE_TEMPERATURE : settings.temperature,
    topP: settings.topP,
    seed: settings.seed + (candidate ?? 0),
  };
}

/** Reasoning to its destination and code into the editor, token by token. */
async function generateStreamed(
  editor: vscode.TextEditor,
  prompt: EditorPrompt,
  generator: CodeGenerator,
  settings: GenerationSettings,
  signal: AbortSignal,
  onFirstText: () => void,
): Promise<CodeGeneration> {
  const edit = new StreamingEdit(editor, new vscode.Position(prompt.insertAt.line, prompt.insertAt.character));
  const indenter = new LineIndenter(answerIndent(prompt));
  const view = settings.reasoning === "sideView" ? new ReasoningView(editor.document.uri, "The student's reasoning") : undefined;
  await view?.show();
  let answer: AnswerStream | undefined;
  let reasoning = "";
  let code = "";
  let format: PromptFormatName = "completion";
  const take = (parts: AnswerParts) => {
    reasoning += parts.reasoning;
    code += parts.code;
    const text = (view ? "" : parts.reasoning) + parts.code;
    edit.append(indenter.push(text));
    view?.update(reasoningWords(reasoning));
  };
  let first = true;
  const result = await generator.generate(prompt, sampling(settings), {
    signal,
    onStart: (f) => {
      format = f;
      answer = new AnswerStream(f);
    },
    onText: (delta) => {
      if (first) onFirstText();
      first = false;
      take(answer!.push(delta));
    },
  });
  if (answer) take(answer.end());
  view?.update(reasoningWords(reasoning), true);
  if (answerReplacesStub(prompt, format, code, documentLines(editor.document))) edit.remove(stubRange(prompt));
  await edit.finish();
  return result;
}

function documentLines(doc: vscode.TextDocument): string[] {
  return Array.from({ length: doc.lineCount }, (_, i) => doc.lineAt(i).text);
}

function stubRange(prompt: EditorPrompt): vscode.Range {
  return new vscode.Range(prompt.startLine, 0, prompt.endLine, 0);
}

/** k candidates, the one closest in structure to the others inserted, disagreements marked. */
async function generateByConsensus(
  editor: vscode.TextEditor,
  prompt: EditorPrompt,
  generator: CodeGenerator,
  settings: GenerationSettings,
  consensus: ConsensusDiagnostics,
  signal: AbortSignal,
  report: (message: string) => void,
): Promise<CodeGeneration> {
  const candidates: { result: CodeGeneration; parts: AnswerParts }[] = [];
  for (let i = 0; i < settings.samples && !signal.aborted; i++) {
    report(`candidate ${i + 1} of ${settings.samples}`);
    const result = await generator.generate(prompt, sampling(settings, i), { signal });
    if (result.finishReason === "cancelled") break;
    candidates.push({ result, parts: splitAnswer(result.text, result.format) });
  }
  if (!candidates.length) throw new Error("cancelled before the first candidate was complete");
  report(`choosing among ${candidates.length} candidates`);
  const format = candidates[0]!.result.format;
  const programs = candidates.map((c) => candidateProgram(prompt, format, c.parts.code));
  const choice = await consensus.choose(programs.map((p) => p.program));
  const chosen = candidates[choice.index]!;
  const view = settings.reasoning === "sideView" ? new ReasoningView(editor.document.uri, `The student's reasoning (candidate ${choice.index + 1} of ${candidates.length}, chosen by structural consensus)`) : undefined;
  if (view) {
    await view.show();
    view.update(reasoningWords(chosen.parts.reasoning), true);
  }
  const lines = documentLines(editor.document);
  const edit = new StreamingEdit(editor, new vscode.Position(prompt.insertAt.line, prompt.insertAt.character));
  const text = (view ? "" : chosen.parts.reasoning) + chosen.parts.code;
  edit.append(new LineIndenter(answerIndent(prompt)).push(text));
  const replacesStub = answerReplacesStub(prompt, format, chosen.parts.code, lines);
  if (replacesStub) edit.remove(stubRange(prompt));
  const { start } = await edit.finish();
  const codeStart = start.line + (view ? 0 : lineCount(chosen.parts.reasoning));
  const offset = programs[choice.index]!.offset;
  consensus.show(
    editor.document,
    choice.disagreements.filter((d) => d.line >= offset).map((d) => ({ line: codeStart + d.line - offset, agreeing: d.agreeing, of: d.of })),
    candidates.length,
  );
  return chosen.result;
}

function lineCount(text: string): number {
  return text ? text.split("\n").length - (text.endsWith("\n") ? 1 : 0) : 0;
}

function reportDone(ctx: CodistillContext, generator: CodeGenerator, result: CodeGeneration): void {
  const summary = `${result.newTokens} tokens, first after ${Math.round(result.firstTokenMs)} ms, ${result.tokensPerS.toFixed(1)} tokens/s (${generator.label})`;
  ctx.log.info(`Generate Code: ${result.finishReason}: ${summary}`);
  const ending = result.finishReason === "cancelled" ? "Stopped; what the student wrote so far stays (one Undo takes it back)" : "Generated";
  vscode.window.setStatusBarMessage(`Codistill: ${ending}: ${summary}`, 10_000);
}

// The Code Lens's third number: the cosine between the encoder embeddings of a function and of its
// reference, with the encoder the structural loss trains with, exported to ONNX. Computed after
// the syntax/dataflow comparison and cached by text, since an embedding takes tens of milliseconds.
import { existsSync } from "node:fs";
import { basename, isAbsolute, join } from "node:path";
import * as vscode from "vscode";
import type { CodistillContext } from "../context";
import { cosine, loadEncoder, type EncoderEmbedder } from "../core/inference/encoder";
import type { StructureReport, UnitComparison } from "../core/structure/index";
import type { StructureReference } from "./references";

/** Where "Codistill: Export Encoder to ONNX" writes the workspace's encoder. */
export function exportedEncoderFolder(root: string, encoderModel: string): string {
  return join(root, ".codistill", "encoders", basename(encoderModel));
}

/** Enough for the functions of the files open at once. */
const MAX_CACHED_EMBEDDINGS = 512;

export class EncoderCosines implements vscode.Disposable {
  private encoder: Promise<EncoderEmbedder | undefined> | undefined;
  private readonly embeddings = new Map<string, Promise<Float32Array>>();
  private readonly cosines = new Map<string, number>();
  private reported = "";

  constructor(
    private readonly ctx: CodistillContext,
    private readonly configuredFolder: () => string,
    private readonly onChange: () => void,
  ) {}

  /** The cosine of a unit once computed; undefined before, or without an encoder. */
  cosine(document: vscode.Uri, unit: UnitComparison): number | undefined {
    return this.cosines.get(cosineKey(document, unit));
  }

  /** Computes the cosines of a report's units in the background, then refreshes the lenses. */
  request(document: vscode.Uri, reference: StructureReference, report: StructureReport): void {
    void this.computeAll(document, reference, report).catch((err: unknown) => this.report(`encoder cosine: ${(err as Error).message}`));
  }

  reset(): void {
    const previous = this.encoder;
    this.encoder = undefined;
    this.embeddings.clear();
    this.cosines.clear();
    void previous?.then((e) => e?.dispose());
  }

  dispose(): void {
    this.reset();
  }

  private async computeAll(document: vscode.Uri, reference: StructureReference, report: StructureReport): Promise<void> {
    const encoder = await this.load();
    if (!encoder) return;
    const referenceLines = reference.text.split("\n");
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === document.toString());
    if (!doc) return;
    const documentLines = doc.getText().split("\n");
    let changed = false;
    for (const unit of report.units) {
      const [a, b] = await Promise.all([this.embed(encoder, sliceLines(referenceLines, unit.reference.span)), this.embed(encoder, sliceLines(documentLines, unit.document.span))]);
      this.cosines.set(cosineKey(document, unit), cosine(a, b));
      changed = true;
    }
    if (changed) this.onChange();
  }

  private embed(encoder: EncoderEmbedder, text: string): Promise<Float32Array> {
    let embedding = this.embeddings.get(text);
    if (!embedding) {
      embedding = encoder.embed(text);
      this.embeddings.set(text, embedding);
      if (this.embeddings.size > MAX_CACHED_EMBEDDINGS) this.embeddings.delete(this.embeddings.keys().next().value!);
    }
    return embedding;
  }

  private load(): Promise<EncoderEmbedder | undefined> {
    this.encoder ??= this.locate().then((folder) => (folder ? loadEncoder(folder) : undefined));
    return this.encoder;
  }

  /** The configured folder, else the workspace's export of codistill.yaml's encoder, if it was exported. */
  private async locate(): Promise<string | undefined> {
    const root = this.ctx.workspace.root;
    const configured = this.configuredFolder();
    if (configured) return isAbsolute(configured) || !root ? configured : join(root, configured);
    const encoderModel = (await this.ctx.workspace.experiment())?.config?.encoder?.model;
    if (!root || !encoderModel) return undefined;
    const folder = exportedEncoderFolder(root, encoderModel);
    return existsSync(join(folder, "model.onnx")) ? folder : undefined;
  }

  private report(message: string): void {
    if (message === this.reported) return;
    this.reported = message;
    this.ctx.log.warn(message);
  }
}

function cosineKey(document: vscode.Uri, unit: UnitComparison): string {
  return `${document.toString()}#${unit.name}#${unit.referenceName}#${unit.scores}`;
}

/** A unit's whole lines: the reference and the document are cut the same way, indentation included. */
function sliceLines(lines: string[], span: UnitComparison["reference"]["span"]): string {
  return lines.slice(span.start.row, span.end.row + 1).join("\n");
}

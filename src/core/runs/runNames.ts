// A run's name, as the Training panel proposes it and every list of runs shows it. No Node
// imports: the Training webview computes the same default as the user edits the form.

/** Longest name kept: a name labels tree rows and table cells, it is not a description. */
export const MAX_RUN_NAME_LENGTH = 80;

/** The last segment of a model folder or hub id ("./models/tiny/" -> "tiny"). */
export function modelShortName(model: string): string {
  return model.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || model;
}

/**
 * "<student> <arm> <HH:MM>", e.g. "tiny humaneval-cots 17:05" or "tiny sft 09:30": what tells runs
 * of one workspace apart at a glance. The arm is the CoT sets trained on ("+"-joined), or "sft" for
 * code-only SFT (no CoT set), the paper's ablation arm; the time is local, as the user started it.
 */
export function defaultRunName(student: string, cotSets: readonly string[], now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const arm = cotSets.length ? [...new Set(cotSets)].join("+") : "sft";
  return [modelShortName(student.trim()) || "run", arm, `${pad(now.getHours())}:${pad(now.getMinutes())}`].join(" ");
}

/** A typed name, trimmed and cut to MAX_RUN_NAME_LENGTH; "" when it says nothing (the default is used). */
export function cleanRunName(name: unknown): string {
  return typeof name === "string" ? name.replace(/\s+/g, " ").trim().slice(0, MAX_RUN_NAME_LENGTH) : "";
}

/** The slice of VS Code's LogOutputChannel that non-host code logs through. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** For tests and the CLI: writes to stderr, never stdout. */
export function consoleLogger(prefix = "codistill", minimum: "debug" | "info" | "warn" | "error" = "info"): Logger & { lines: string[] } {
  const order = ["trace", "debug", "info", "warn", "error"];
  const lines: string[] = [];
  const emit = (level: string) => (message: string) => {
    const line = `[${prefix}] ${level}: ${message}`;
    lines.push(line);
    if (order.indexOf(level) >= order.indexOf(minimum)) process.stderr.write(line + "\n");
  };
  return { trace: emit("trace"), debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), lines };
}

export type SidecarLineLevel = "debug" | "info" | "warn" | "error";

const SIDECAR_LEVELS: Record<string, SidecarLineLevel> = { DEBUG: "debug", INFO: "info", WARNING: "warn", ERROR: "error", CRITICAL: "error" };
/** A record of the sidecar's logging: "12:34:56.789 LEVEL logger: message" (sidecar/src/codistill/cli.py, LOG_FORMAT). */
const RECORD = /^\d{2}:\d{2}:\d{2}\.\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) /;
/** What Python's default warnings.showwarning writes: "…/modeling_utils.py:3314: FutureWarning: …". */
const PY_WARNING = /^\S.*\.py:\d+: \w*Warning: /;

/**
 * The level of each line of the sidecar's stderr, for the output channel. A record of its logging
 * has its own level (libraries' records are written at DEBUG, errors excepted). The lines that
 * continue a record (indented, such as warnings' "  warnings.warn(" source line, or a traceback
 * with its last "ValueError: …" line) keep its level. A traceback outside any record (an uncaught
 * exception) is an error. Anything else is a library writing to stderr on its own (transformers'
 * handler, a progress bar, a Python warning from a child process): debug.
 */
export function sidecarLineLevels(): (line: string) => SidecarLineLevel {
  let last: SidecarLineLevel = "debug";
  // Whether the line before belongs to a record (or to an uncaught traceback).
  let inRecord = false;
  let traceback = false;
  return (line) => {
    const record = RECORD.exec(line);
    if (record) {
      last = SIDECAR_LEVELS[record[1]!]!;
      inRecord = true;
      traceback = false;
    } else if (line.startsWith("Traceback (most recent call last):") || line.startsWith("Fatal Python error")) {
      if (!inRecord) last = "error";
      inRecord = traceback = true;
    } else if (PY_WARNING.test(line)) {
      last = "debug";
      inRecord = true;
      traceback = false;
    } else if (!traceback && !(inRecord && (line === "" || /^\s/.test(line)))) {
      last = "debug";
      inRecord = false;
    }
    return last;
  };
}

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

// Two kinds of failure: a row that cannot be mapped (FieldError, becomes a Rejection and the
// load goes on) and a dataset that cannot be read at all (DatasetError, thrown to the caller).

/** One field of one record is missing, mistyped or malformed. `field` is a path: "input_output.inputs[3]". */
export class FieldError extends Error {
  constructor(
    readonly field: string | undefined,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = "FieldError";
  }
}

/** The dataset as a whole cannot be opened or read (usage or IO error). */
export class DatasetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DatasetError";
  }
}

export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Uint8Array) return "binary";
  return typeof value;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

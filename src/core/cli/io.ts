// What every `codistill <group> ...` command module shares: where it writes, how it reports a
// usage mistake, and the shape main.ts dispatches on.

export interface Output {
  write(text: string): unknown;
}

export interface Io {
  stdout: Output;
  stderr: Output;
}

/** A mistake in the command line: main prints it with the usage text and exits 1. */
export class UsageError extends Error {}

export interface CliCommand {
  /** The first word of the command line: `codistill <name> ...`. */
  name: string;
  /** Its lines of the usage text, options included. */
  usage: string;
  /** Runs with the whole argv (its own name first); "help" asks main to print the usage. */
  run(argv: string[], io: Io): Promise<number | "help">;
}

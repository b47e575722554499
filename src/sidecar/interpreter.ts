import { existsSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { execa } from "execa";

export const MIN_PYTHON: readonly [number, number] = [3, 10];

export type InterpreterSource = "setting" | "setupVenv" | "pythonExtension" | "path";

export interface InterpreterCandidate {
  source: InterpreterSource;
  /** An absolute path, or a bare command name looked up on PATH. */
  path: string;
}

export interface InterpreterProbe {
  executable: string;
  version: [number, number, number];
  codistillVersion: string | null;
}

export interface ResolvedInterpreter {
  ok: true;
  source: InterpreterSource;
  executable: string;
  version: string;
  codistillVersion: string;
}

export interface InterpreterProblem {
  ok: false;
  /** What is wrong, naming the interpreter and where it came from. */
  problem: string;
  /** What the user can do about it. */
  fix: string;
}

export type InterpreterResult = ResolvedInterpreter | InterpreterProblem;

export type Prober = (executable: string) => Promise<InterpreterProbe>;

const SOURCE_LABEL: Record<InterpreterSource, string> = {
  setting: "the codistill.pythonPath setting",
  setupVenv: "the venv made by Codistill: Set Up Python Environment",
  pythonExtension: "the Python extension's active interpreter",
  path: "python3 on PATH",
};

// Runs without the sidecar installed, so it can tell "no sidecar" apart from "no Python".
const PROBE_SCRIPT = [
  "import json, sys",
  "try:",
  "    from importlib.metadata import version, PackageNotFoundError",
  "    try:",
  "        v = version('codistill')",
  "    except PackageNotFoundError:",
  "        v = None",
  "except Exception:",
  "    v = None",
  "print(json.dumps({'executable': sys.executable, 'version': list(sys.version_info[:3]), 'codistill': v}))",
].join("\n");

export async function probeInterpreter(executable: string): Promise<InterpreterProbe> {
  const { stdout } = await execa(executable, ["-c", PROBE_SCRIPT], { timeout: 20_000, reject: true });
  const lastLine = stdout.trim().split("\n").pop() ?? "";
  const parsed = JSON.parse(lastLine) as { executable: string; version: [number, number, number]; codistill: string | null };
  return { executable: parsed.executable, version: parsed.version, codistillVersion: parsed.codistill };
}

export function venvPython(venvDir: string, platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? join(venvDir, "Scripts", "python.exe") : join(venvDir, "bin", "python");
}

/** The absolute path of a command on PATH, or undefined. */
export function findOnPath(command: string, pathEnv = process.env.PATH): string | undefined {
  for (const dir of (pathEnv ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

function locate(candidate: InterpreterCandidate, pathEnv: string | undefined): string | undefined {
  if (isAbsolute(candidate.path)) return existsSync(candidate.path) ? candidate.path : undefined;
  return findOnPath(candidate.path, pathEnv);
}

const versionText = (v: [number, number, number]) => v.join(".");

const isRecentEnough = (v: [number, number, number]) =>
  v[0] > MIN_PYTHON[0] || (v[0] === MIN_PYTHON[0] && v[1] >= MIN_PYTHON[1]);

const setupFix = (executable?: string) =>
  `Run "Codistill: Set Up Python Environment"` +
  (executable ? `, or install the sidecar yourself: "${executable}" -m pip install <codistill>/sidecar` : "") +
  `, or point the codistill.pythonPath setting at a Python ${MIN_PYTHON.join(".")}+ that has it.`;

/**
 * Walks the candidates in priority order and returns the first interpreter that has the
 * sidecar installed. An explicit setting that is broken is reported, never skipped:
 * silently using another Python would hide the user's mistake.
 */
export async function resolveInterpreter(
  candidates: InterpreterCandidate[],
  probe: Prober = probeInterpreter,
  pathEnv: string | undefined = process.env.PATH,
): Promise<InterpreterResult> {
  const seen: string[] = [];
  let withoutSidecar: { probe: InterpreterProbe; source: InterpreterSource } | undefined;
  let tooOld: { probe: InterpreterProbe; source: InterpreterSource } | undefined;

  for (const candidate of candidates) {
    if (!candidate.path) continue;
    const executable = locate(candidate, pathEnv);
    seen.push(`${candidate.path} (${SOURCE_LABEL[candidate.source]})`);
    if (!executable) {
      if (candidate.source === "setting") {
        return {
          ok: false,
          problem: `codistill.pythonPath is "${candidate.path}", but no such file exists.`,
          fix: `Fix or clear the codistill.pythonPath setting. ${setupFix()}`,
        };
      }
      continue;
    }
    let probed: InterpreterProbe;
    try {
      probed = await probe(executable);
    } catch (err) {
      if (candidate.source === "setting") {
        return {
          ok: false,
          problem: `codistill.pythonPath is "${candidate.path}", which did not run as Python: ${firstLine((err as Error).message)}`,
          fix: `Fix or clear the codistill.pythonPath setting. ${setupFix()}`,
        };
      }
      continue;
    }
    if (!isRecentEnough(probed.version)) {
      tooOld ??= { probe: probed, source: candidate.source };
      if (candidate.source === "setting") break;
      continue;
    }
    if (probed.codistillVersion) {
      return {
        ok: true,
        source: candidate.source,
        // The setting is run as given, so a wrapper script (conda run, module load, a memory
        // limit) stays in the way; a discovered Python runs as the interpreter it resolves to.
        executable: candidate.source === "setting" ? executable : probed.executable || executable,
        version: versionText(probed.version),
        codistillVersion: probed.codistillVersion,
      };
    }
    withoutSidecar ??= { probe: { ...probed, executable: probed.executable || executable }, source: candidate.source };
    if (candidate.source === "setting") break;
  }

  if (withoutSidecar) {
    const { probe: p, source } = withoutSidecar;
    return {
      ok: false,
      problem: `Python ${versionText(p.version)} at ${p.executable} (${SOURCE_LABEL[source]}) does not have the Codistill sidecar (the "codistill" package) installed.`,
      fix: setupFix(p.executable),
    };
  }
  if (tooOld) {
    const { probe: p, source } = tooOld;
    return {
      ok: false,
      problem: `Python ${versionText(p.version)} at ${p.executable} (${SOURCE_LABEL[source]}) is too old: the sidecar needs Python ${MIN_PYTHON.join(".")} or newer.`,
      fix: setupFix(),
    };
  }
  return {
    ok: false,
    problem: `No Python interpreter was found. Looked at: ${seen.length ? seen.join("; ") : "nothing (no candidates)"}.`,
    fix: `Install Python ${MIN_PYTHON.join(".")}+ (for example "sudo apt install python3 python3-venv"), then run "Codistill: Set Up Python Environment", or set codistill.pythonPath.`,
  };
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

export function describeSource(source: InterpreterSource): string {
  return SOURCE_LABEL[source];
}

/** How the extension runs the sidecar with a resolved interpreter. */
export function sidecarLaunchArgs(logLevel: string): string[] {
  return ["-m", "codistill", "serve", "--log-level", logLevel];
}

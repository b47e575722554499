/**
 * End-to-end harness: runs the packaged extension inside a real VS Code
 * (code-server, the browser build of VS Code) driven by headless Chromium
 * through playwright-core. No mocks and no `vscode` import.
 *
 *   const s = await startVsCode({ vsix, workspace });
 *   try {
 *     await trustWorkspace(s);
 *     await runCommand(s, 'Codistill: Show Sidecar Status');
 *     const view = await webviewFrame(s, 'Codistill');
 *     await view.getByText('ready').waitFor();
 *   } finally {
 *     await stop(s);
 *   }
 *
 * Or `withVsCode(opts, async (s) => { ... })`, which stops the session and
 * saves a screenshot when the body throws. See test/e2e/README.md.
 *
 * Environment:
 *   CODISTILL_CODE_SERVER            code-server binary (default: .cache/code-server, made by `npm run setup`)
 *   CODISTILL_CHROMIUM               Chromium binary (default: /usr/bin/chromium)
 *   CODISTILL_E2E_TIMEOUT_SCALE      multiplies every timeout (slow machines)
 *   CODISTILL_E2E_KEEP=1             keep the temporary directories after stop()
 *   CODISTILL_REPO_ROOT              repository root (default: found from this file or the cwd)
 *   CODISTILL_E2E_DEBUG=1            log harness retries to stderr
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';

// ---------------------------------------------------------------------------
// Public types

export interface StartOptions {
  /** Path of the .vsix to install. */
  vsix: string;
  /** Folder to open; it must exist. */
  workspace: string;
  /** Written to <user-data-dir>/User/settings.json, over the harness defaults. */
  userSettings?: Record<string, unknown>;
  /** Extra environment of code-server, hence of the extension host and of what the extension spawns. */
  env?: Record<string, string>;
  /** Browser viewport; default 1400x900. */
  viewport?: { width: number; height: number };
}

export interface VsCodeSession {
  /** The workbench URL that was opened (with ?folder=). */
  readonly url: string;
  readonly port: number;
  /** Absolute path of the opened folder. */
  readonly workspace: string;
  /**
   * Temporary root of this session. It appears in the command line or in the
   * environment (CODISTILL_E2E_MARKER) of every process the session starts, so
   * `leftoverProcesses(session.marker)` finds whatever is left of it.
   */
  readonly marker: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** `publisher.name` of the installed VSIX. */
  readonly extensionId: string;
  /** Where the VSIX was unpacked. */
  readonly extensionPath: string;
  /** code-server's stdout and stderr. */
  readonly serverLog: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Milliseconds: install, serverReady, browserLaunch, workbenchReady (each from the start), total. */
  readonly timings: Readonly<Record<string, number>>;
  /** Uncaught page errors and console errors of the workbench, latest last (at most 200). */
  readonly pageErrors: readonly string[];
}

export interface ProcessInfo {
  pid: number;
  pgid: number;
  /** Command line, NUL separators turned into spaces. */
  cmdline: string;
  /** Where the marker was found. */
  matchedIn: 'cmdline' | 'environ';
}

export interface StopReport {
  /** Processes still alive after SIGTERM and the grace period, killed with SIGKILL. Empty on a clean shutdown. */
  forceKilled: ProcessInfo[];
  /** Milliseconds stop() took. */
  ms: number;
  /** Kept temporary root (CODISTILL_E2E_KEEP=1 or keepTemp), else undefined. */
  keptTemp?: string;
}

export interface StatusBarItem {
  id: string;
  text: string;
  ariaLabel: string;
}

export interface WaitOptions {
  /** Milliseconds (multiplied by CODISTILL_E2E_TIMEOUT_SCALE). */
  timeoutMs?: number;
}

export type TrustOutcome = 'dialog' | 'editor' | 'already-trusted';

/** Error raised by the harness; its message says what was awaited, and where the failure screenshot and logs are. */
export class HarnessError extends Error {
  override name = 'HarnessError';
}

// ---------------------------------------------------------------------------
// Paths and binaries

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Defaults written to settings.json; userSettings override them. Workspace trust stays ENABLED. */
export const DEFAULT_TEST_SETTINGS: Readonly<Record<string, unknown>> = Object.freeze({
  'telemetry.telemetryLevel': 'off',
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'always',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'terminal.integrated.enablePersistentSessions': false,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
});

function timeoutScale(): number {
  const v = Number(process.env.CODISTILL_E2E_TIMEOUT_SCALE ?? '1');
  return Number.isFinite(v) && v > 0 ? v : 1;
}

function debug(message: string): void {
  if (process.env.CODISTILL_E2E_DEBUG === '1') process.stderr.write(`[e2e-harness] ${message}\n`);
}

function ms(base: number, opts?: WaitOptions): number {
  return Math.round((opts?.timeoutMs ?? base) * timeoutScale());
}

function isRepoRoot(dir: string): boolean {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'codistill';
  } catch {
    return false;
  }
}

/** Root of the Codistill repository (where package.json says name "codistill"). */
export function repoRoot(): string {
  if (process.env.CODISTILL_REPO_ROOT) return resolve(process.env.CODISTILL_REPO_ROOT);
  // __dirname exists when tsx runs this file as CommonJS; the typeof guard keeps ESM working.
  const starts = [typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    if (!start) continue;
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      if (isRepoRoot(dir)) return dir;
      if (dirname(dir) === dir) break;
    }
  }
  return process.cwd();
}

/** The code-server binary: $CODISTILL_CODE_SERVER, else the copy `npm run setup` caches in .cache/code-server. */
export function codeServerBin(): string {
  const fromEnv = process.env.CODISTILL_CODE_SERVER;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new HarnessError(`CODISTILL_CODE_SERVER=${fromEnv} does not exist.`);
    }
    return fromEnv;
  }
  const bin = join(repoRoot(), '.cache', 'code-server', 'node_modules', '.bin', 'code-server');
  if (!existsSync(bin)) {
    throw new HarnessError(
      `code-server is not installed (looked for ${bin}). Run \`npm run setup\` first, ` +
        'or point CODISTILL_CODE_SERVER at a code-server 4.100.x binary.',
    );
  }
  return bin;
}

function chromiumBin(): string {
  const bin = process.env.CODISTILL_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(bin)) {
    throw new HarnessError(`Chromium not found at ${bin}; install Debian's chromium or set CODISTILL_CHROMIUM.`);
  }
  return bin;
}

function resultsDir(): string {
  const dir = join(repoRoot(), 'test-results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'screenshot';
}

// ---------------------------------------------------------------------------
// Internal session state

interface Internals {
  child: ChildProcess;
  pgid: number;
  tmpRoot: string;
  stopped?: Promise<StopReport>;
  failures: number;
  /** Trust answered by trustWorkspace()/restrictWorkspace() in this session. */
  trusted?: boolean;
}

const internals = new WeakMap<VsCodeSession, Internals>();
/** Process groups and temp roots still alive, killed on process exit if a test forgot stop(). */
const liveGroups = new Map<number, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const [pgid, tmp] of liveGroups) {
      signal(-pgid, 'SIGKILL');
      try {
        for (const p of leftoverProcesses(tmp)) signal(p.pid, 'SIGKILL');
        if (process.env.CODISTILL_E2E_KEEP !== '1') {
          rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
        }
      } catch {
        /* best effort while exiting */
      }
    }
    liveGroups.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

function internalsOf(session: VsCodeSession): Internals {
  const i = internals.get(session);
  if (!i) throw new HarnessError('Not a session made by startVsCode().');
  return i;
}

function tail(file: string, bytes = 4000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > bytes ? '…' + text.slice(-bytes) : text;
  } catch {
    return '(no log)';
  }
}

/**
 * Runs one harness step; on failure saves a screenshot and throws a HarnessError naming
 * the step, the screenshot and the tail of code-server's log.
 */
async function step<T>(session: VsCodeSession, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    throw await failure(session, what, err);
  }
}

async function failure(session: VsCodeSession, what: string, err: unknown): Promise<HarnessError> {
  const i = internals.get(session);
  const n = i ? ++i.failures : 0;
  let shot = '(no screenshot)';
  try {
    shot = await screenshot(session, `failure-${basename(session.marker)}-${n}-${safeName(what).slice(0, 60)}`);
  } catch (e) {
    shot = `(screenshot failed: ${(e as Error).message.split('\n')[0]})`;
  }
  // The temp dir goes away at stop(): keep a copy of code-server's log next to the screenshot.
  let log = session.serverLog;
  try {
    log = join(resultsDir(), `${basename(session.marker)}-code-server.log`);
    copyFileSync(session.serverLog, log);
  } catch {
    log = session.serverLog;
  }
  const cause = err instanceof Error ? err.message : String(err);
  const errors = session.pageErrors.slice(-5).join('\n  ');
  return new HarnessError(
    `${what} failed: ${cause}\n` +
      `screenshot: ${shot}\n` +
      (errors ? `last page errors:\n  ${errors}\n` : '') +
      `code-server log (${log}) tail:\n${tail(session.serverLog, 2000)}`,
    { cause: err },
  );
}

// ---------------------------------------------------------------------------
// Processes

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** [state, ppid, pgid] from /proc/<pid>/stat (the comm field may hold spaces and parentheses). */
function procStat(pid: number): [string, number, number] | undefined {
  const stat = readProc(pid, 'stat');
  if (!stat) return undefined;
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [rest[0] ?? '?', Number(rest[1]), Number(rest[2])];
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

function ancestorsOfSelf(): Set<number> {
  const out = new Set<number>([process.pid]);
  for (let pid = process.ppid; pid > 1 && !out.has(pid); ) {
    out.add(pid);
    const st = procStat(pid);
    if (!st) break;
    pid = st[1];
  }
  return out;
}

/**
 * Live (non-zombie) processes whose command line or environment contains `marker`,
 * e.g. `session.marker`, a temp user-data-dir, or `codistill serve`. The current
 * process and its ancestors are left out. Linux only (reads /proc).
 */
export function leftoverProcesses(marker: string): ProcessInfo[] {
  if (!marker) throw new HarnessError('leftoverProcesses() needs a non-empty marker.');
  if (!existsSync('/proc/self/stat')) throw new HarnessError('leftoverProcesses() needs Linux /proc.');
  const skip = ancestorsOfSelf();
  const found: ProcessInfo[] = [];
  for (const pid of allPids()) {
    if (skip.has(pid)) continue;
    const st = procStat(pid);
    if (!st || st[0] === 'Z' || st[0] === 'X') continue;
    const cmdline = (readProc(pid, 'cmdline') ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
    let matchedIn: ProcessInfo['matchedIn'] | undefined;
    if (cmdline.includes(marker)) matchedIn = 'cmdline';
    else if ((readProc(pid, 'environ') ?? '').includes(marker)) matchedIn = 'environ';
    if (matchedIn) found.push({ pid, pgid: st[2], cmdline, matchedIn });
  }
  return found;
}

function liveGroupMembers(pgid: number): number[] {
  return allPids().filter((pid) => {
    const st = procStat(pid);
    return st !== undefined && st[2] === pgid && st[0] !== 'Z' && st[0] !== 'X';
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

async function runToEnd(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid) signal(-child.pid, 'SIGKILL');
      reject(new HarnessError(`\`${basename(cmd)} ${args.join(' ')}\` timed out after ${timeoutMs} ms.\n${output}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output });
    });
  });
}

// ---------------------------------------------------------------------------
// Start

/**
 * Installs the VSIX into a fresh profile, starts code-server on a free port in its
 * own process group, opens the folder in headless Chromium and waits for the workbench.
 * Does not answer the workspace-trust prompt: call trustWorkspace() or restrictWorkspace().
 */
export async function startVsCode(opts: StartOptions): Promise<VsCodeSession> {
  const t0 = Date.now();
  const bin = codeServerBin();
  const browserBin = chromiumBin();
  const vsix = resolve(opts.vsix);
  const workspace = resolve(opts.workspace);
  if (!existsSync(vsix)) throw new HarnessError(`VSIX not found: ${vsix} (build it with \`npm run package\`).`);
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
    throw new HarnessError(`Workspace folder not found: ${workspace}`);
  }

  const tmpRoot = await mkdtemp(join(tmpdir(), 'codistill-e2e-'));
  const userDataDir = join(tmpRoot, 'user-data');
  const extensionsDir = join(tmpRoot, 'extensions');
  const dataHome = join(tmpRoot, 'xdg-data');
  const browserProfile = join(tmpRoot, 'browser');
  const configFile = join(tmpRoot, 'config.yaml');
  const serverLog = join(tmpRoot, 'code-server.log');
  await Promise.all([userDataDir, extensionsDir, dataHome, browserProfile].map((d) => mkdir(d, { recursive: true })));
  await mkdir(join(userDataDir, 'User'), { recursive: true });
  // Own config file, so code-server neither reads nor writes ~/.config/code-server/config.yaml.
  await writeFile(configFile, 'auth: none\ncert: false\n');
  await writeFile(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_TEST_SETTINGS, ...(opts.userSettings ?? {}) }, null, 2),
  );

  // Drop what would reconfigure code-server or tie it to a VS Code the tests run from.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('VSCODE_') && !['ELECTRON_RUN_AS_NODE', 'PASSWORD', 'HASHED_PASSWORD', 'PORT'].includes(k),
    ),
  );
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    // code-server keeps its logs and heartbeat under $XDG_DATA_HOME/code-server.
    XDG_DATA_HOME: dataHome,
    ...(opts.env ?? {}),
    CODISTILL_E2E_MARKER: tmpRoot,
  };
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  const cleanupEarly = async (err: unknown, child?: ChildProcess): Promise<never> => {
    if (child?.pid) {
      signal(-child.pid, 'SIGKILL');
      liveGroups.delete(child.pid);
    }
    let saved = '';
    try {
      saved = join(resultsDir(), `${basename(tmpRoot)}-code-server.log`);
      copyFileSync(serverLog, saved);
    } catch {
      saved = '';
    }
    if (process.env.CODISTILL_E2E_KEEP !== '1') await rm(tmpRoot, { recursive: true, force: true });
    const msg = err instanceof Error ? err.message : String(err);
    throw err instanceof HarnessError && !saved
      ? err
      : new HarnessError(`startVsCode: ${msg}${saved ? `\ncode-server log: ${saved}` : ''}`, { cause: err });
  };

  // 1. Install the VSIX.
  const before = new Set(await readdir(extensionsDir));
  const install = await runToEnd(bin, [...common, '--install-extension', vsix, '--force'], env, ms(120_000)).catch(
    (e: unknown) => cleanupEarly(e),
  );
  const added = (await readdir(extensionsDir, { withFileTypes: true })).filter(
    (d) => d.isDirectory() && !before.has(d.name) && !d.name.startsWith('.'),
  );
  if (install.code !== 0 || added.length !== 1) {
    await cleanupEarly(
      new HarnessError(
        `installing ${vsix} failed (exit ${install.code}, new extension folders: ${added.map((d) => d.name).join(', ') || 'none'}):\n${install.output}`,
      ),
    );
  }
  const extensionPath = join(extensionsDir, added[0]!.name);
  const manifest = JSON.parse(await readFile(join(extensionPath, 'package.json'), 'utf8')) as {
    publisher?: string;
    name?: string;
  };
  const extensionId = `${manifest.publisher}.${manifest.name}`;
  const tInstall = Date.now() - t0;

  // 2. Start code-server in its own process group; retry on a port race.
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const logFd = openSync(serverLog, 'a');
    child = spawn(
      bin,
      [
        ...common,
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        // Deliberately NOT --disable-workspace-trust: tests cover restricted mode.
      ],
      { env, detached: true, stdio: ['ignore', logFd, logFd] },
    );
    closeSync(logFd);
    const pid = child.pid;
    if (!pid) await cleanupEarly(new HarnessError(`could not spawn ${bin}`));
    liveGroups.set(pid!, tmpRoot);
    installExitHook();
    child.unref();
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code ?? -1));
    const ready = await waitForServer(`http://127.0.0.1:${port}/healthz`, ms(60_000), () => exited !== undefined);
    if (ready) break;
    const log = tail(serverLog);
    if (exited !== undefined && /EADDRINUSE/.test(log) && attempt < 3) {
      signal(-pid!, 'SIGKILL');
      liveGroups.delete(pid!);
      continue;
    }
    await cleanupEarly(
      new HarnessError(
        exited !== undefined
          ? `code-server exited (code ${exited}) before answering /healthz:\n${log}`
          : `code-server did not answer http://127.0.0.1:${port}/healthz within ${ms(60_000)} ms:\n${log}`,
      ),
      child,
    );
  }
  const tServer = Date.now() - t0;

  // 3. Browser.
  const viewport = opts.viewport ?? { width: 1400, height: 900 };
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(browserProfile, {
      executablePath: browserBin,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      locale: 'en-US',
      timeout: ms(60_000),
    });
  } catch (e) {
    return cleanupEarly(e, child);
  }
  const tBrowser = Date.now() - t0;
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(ms(30_000));
  const pageErrors: string[] = [];
  const note = (s: string) => {
    pageErrors.push(s);
    if (pageErrors.length > 200) pageErrors.shift();
  };
  page.on('pageerror', (e) => note(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') note(`console: ${m.text()}`);
  });

  const url = `http://127.0.0.1:${port}/?${new URLSearchParams({ folder: workspace })}`;
  const timings: Record<string, number> = {
    install: tInstall,
    serverReady: tServer,
    browserLaunch: tBrowser,
  };
  const session: VsCodeSession = {
    url,
    port,
    workspace,
    marker: tmpRoot,
    userDataDir,
    extensionsDir,
    extensionId,
    extensionPath,
    serverLog,
    context,
    page,
    timings,
    pageErrors,
  };
  internals.set(session, { child: child!, pgid: child!.pid!, tmpRoot, failures: 0 });

  // 4. Workbench.
  try {
    await step(session, `opening ${url}`, async () => {
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: ms(60_000) });
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: ms(90_000) });
      await page.locator('[id="workbench.parts.statusbar"]').waitFor({ state: 'visible', timeout: ms(60_000) });
      await page.locator('[id="workbench.parts.editor"]').waitFor({ state: 'visible', timeout: ms(60_000) });
    });
  } catch (e) {
    await stop(session, { keepTemp: false }).catch(() => undefined);
    throw e;
  }
  timings.workbenchReady = Date.now() - t0;
  timings.total = timings.workbenchReady;
  return session;
}

async function waitForServer(url: string, timeoutMs: number, exited: () => boolean): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (exited()) return false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      /* not listening yet */
    }
    await sleep(150);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Workspace trust

const TRUST_DIALOG_YES = 'Yes, I trust the authors';
const TRUST_DIALOG_NO = "No, I don't trust the authors";

function trustDialogButton(page: Page, name: string): Locator {
  return page.locator('.monaco-dialog-box').getByRole('button', { name, exact: true });
}

function restrictedIndicator(page: Page): Locator {
  return page.locator('[id="status.workspaceTrust"]');
}

/**
 * Trusts the opened folder, with workspace trust left enabled: answers "Yes, I trust the
 * authors" in the startup dialog; if no dialog comes, uses the Workspace Trust editor.
 * No-op when the folder is already trusted. Verifies that Restricted Mode is gone.
 */
export async function trustWorkspace(session: VsCodeSession, opts?: WaitOptions): Promise<TrustOutcome> {
  const { page } = session;
  return step(session, 'trustWorkspace', async () => {
    const end = Date.now() + ms(30_000, opts);
    // Once answered in this session, no dialog will come: check with the Trust editor at once.
    const grace = internalsOf(session).trusted === undefined ? ms(6_000) : 0;
    const started = Date.now();
    const yes = trustDialogButton(page, TRUST_DIALOG_YES);
    let outcome: TrustOutcome | undefined;
    while (!outcome) {
      if (Date.now() > end) throw new Error('no workspace-trust dialog and no way to reach the Workspace Trust editor');
      if (await yes.isVisible()) {
        await yes.click();
        outcome = 'dialog';
      } else if (Date.now() - started > grace) {
        // No dialog (trusted already, or the prompt was dismissed): ask the Trust editor.
        // If the dialog shows up meanwhile, runCommand refuses and the loop answers it.
        try {
          outcome = (await trustViaEditor(session, true)) ? 'editor' : 'already-trusted';
        } catch (err) {
          if (!(await yes.isVisible()) && Date.now() > end) throw err;
          await sleep(500);
        }
      } else {
        await sleep(150);
      }
    }
    await yes.waitFor({ state: 'hidden', timeout: ms(10_000) });
    await restrictedIndicator(page).waitFor({ state: 'detached', timeout: ms(15_000) });
    internalsOf(session).trusted = true;
    return outcome;
  });
}

/**
 * Keeps the folder untrusted (Restricted Mode): answers "No, I don't trust the authors"
 * in the startup dialog, then checks the Restricted Mode status bar item is shown.
 */
export async function restrictWorkspace(session: VsCodeSession, opts?: WaitOptions): Promise<void> {
  const { page } = session;
  await step(session, 'restrictWorkspace', async () => {
    const no = trustDialogButton(page, TRUST_DIALOG_NO);
    const started = Date.now();
    const end = started + ms(20_000, opts);
    // The Restricted Mode item shows up before the dialog: only a dialog-less grace period
    // means there is no prompt to answer (startupPrompt "never", or answered before).
    while (Date.now() < end) {
      if (await no.isVisible()) {
        await no.click();
        break;
      }
      if (Date.now() - started > ms(6_000) && (await restrictedIndicator(page).isVisible())) break;
      await sleep(150);
    }
    internalsOf(session).trusted = false;
    await no.waitFor({ state: 'hidden', timeout: ms(10_000) });
    await restrictedIndicator(page)
      .waitFor({ state: 'visible', timeout: ms(10_000) })
      .catch(() => {
        throw new Error('the Restricted Mode status item did not appear: is the folder trusted already?');
      });
  });
}

/** Whether the folder is trusted, as the Workspace Trust editor says (opens and closes that editor). */
export async function isWorkspaceTrusted(session: VsCodeSession): Promise<boolean> {
  return step(session, 'isWorkspaceTrusted', async () => !(await trustViaEditor(session, false)));
}

/**
 * Opens "Workspaces: Manage Workspace Trust". Returns true when the folder was restricted
 * (and, with grant, clicks "Trust"), false when it was already trusted. Closes the editor.
 */
async function trustViaEditor(session: VsCodeSession, grant: boolean): Promise<boolean> {
  const { page } = session;
  await runCommand(session, 'Workspaces: Manage Workspace Trust');
  const editor = page.locator('.workspace-trust-editor');
  await editor.waitFor({ state: 'visible', timeout: ms(15_000) });
  const title = editor.locator('.workspace-trust-title-text');
  await title.waitFor({ state: 'visible', timeout: ms(10_000) });
  const restricted = /restricted mode/i.test(await title.innerText());
  if (restricted && grant) {
    await editor.getByRole('button', { name: 'Trust', exact: true }).click();
    await page
      .locator('.workspace-trust-editor .workspace-trust-title-text', { hasNotText: /restricted mode/i })
      .waitFor({ timeout: ms(10_000) });
  }
  await closeEditorTab(page, 'Workspace Trust');
  return restricted;
}

async function closeEditorTab(page: Page, title: string): Promise<void> {
  const tab = editorTab(page, title).first();
  if ((await tab.count()) === 0) return;
  await tab.hover();
  await tab.locator('.tab-actions .action-label').first().click();
  await tab.waitFor({ state: 'detached', timeout: ms(10_000) });
}

function editorTab(page: Page, title: string): Locator {
  return page.locator('.tabs-container .tab').filter({
    has: page.locator('.tab-label .label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------
// Command palette

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = '.quick-input-widget .quick-input-box input';

async function assertNoModalDialog(page: Page, action: string): Promise<void> {
  const dialog = page.locator('.monaco-dialog-box');
  if (await dialog.isVisible()) {
    const text = (await dialog.innerText()).replace(/\s+/g, ' ').trim();
    const hint = text.includes('trust the authors') ? ' Call trustWorkspace() or restrictWorkspace() first.' : '';
    throw new Error(`cannot ${action}: a modal dialog is open: "${text.slice(0, 300)}".${hint}`);
  }
}

async function openCommandPalette(page: Page): Promise<Locator> {
  const input = page.locator(QUICK_INPUT_BOX);
  // F1 is the most reliable in headless Chromium; Ctrl+Shift+P and the command center are fallbacks.
  const tries: Array<() => Promise<void>> = [
    () => page.keyboard.press('F1'),
    () => page.keyboard.press('Control+Shift+P'),
    async () => {
      await page.locator('.command-center .search-label, .command-center-center').first().click({ timeout: 3000 });
      await input.waitFor({ state: 'visible', timeout: 3000 });
      await input.fill('>');
    },
  ];
  for (const [n, attempt] of tries.entries()) {
    if (n > 0) debug(`command palette: fallback ${n}`);
    await attempt().catch(() => undefined);
    if (await input.waitFor({ state: 'visible', timeout: ms(4_000) }).then(
      () => true,
      () => false,
    )) {
      return input;
    }
    // Some keys land in a focused iframe or an editor: put focus back on the workbench.
    await page.keyboard.press('Escape').catch(() => undefined);
    await page.locator('[id="workbench.parts.statusbar"]').click({ position: { x: 1, y: 1 } }).catch(() => undefined);
  }
  throw new Error('the command palette did not open (tried F1, Ctrl+Shift+P and the command center)');
}

/**
 * Runs a command by its palette title (with category, e.g. "Codistill: Show Log"):
 * opens the palette, types ">" + title, picks the row whose label is exactly the title.
 */
export async function runCommand(session: VsCodeSession, title: string, opts?: WaitOptions): Promise<void> {
  const { page } = session;
  await step(session, `runCommand(${JSON.stringify(title)})`, async () => {
    const typed = `>${title}`;
    const end = Date.now() + ms(15_000, opts);
    // Something may steal focus while the palette is open (a terminal starting, an editor
    // opening), which closes the palette: start over, but never after the row was clicked.
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) debug(`runCommand(${JSON.stringify(title)}): attempt ${attempt}`);
      await assertNoModalDialog(page, `run "${title}"`);
      const input = await openCommandPalette(page);
      const filled = await input.fill(typed, { timeout: ms(5_000) }).then(
        () => true,
        () => false,
      );
      const row = filled ? await findPaletteRow(page, title, typed, end) : { closed: true as const };
      if ('index' in row) {
        const clicked = await page
          .locator(`${QUICK_INPUT} .monaco-list-row[data-index="${row.index}"]`)
          .click({ timeout: ms(5_000) })
          .then(
            () => true,
            () => false,
          );
        if (clicked) break;
      } else if (!row.closed || Date.now() > end || attempt >= 4) {
        await assertNoModalDialog(page, `run "${title}"`);
        throw new Error(
          row.closed
            ? `the command palette kept closing while looking for "${title}"`
            : `no palette entry titled "${title}"; rows shown: ${JSON.stringify(row.seen.slice(0, 15))}`,
        );
      }
      if (attempt >= 4) throw new Error(`could not click the palette entry "${title}"`);
    }
    // Done when the palette closes, or shows something else (the command opened its own quick pick).
    await page.waitForFunction(
      ([sel, text]) => {
        const w = document.querySelector<HTMLElement>(sel!);
        const box = document.querySelector<HTMLInputElement>(`${sel} .quick-input-box input`);
        return !w || w.style.display === 'none' || !w.offsetParent || box?.value !== text;
      },
      [QUICK_INPUT, typed] as const,
      { timeout: ms(10_000) },
    );
  });
}

/** Polls the palette for the row labelled exactly `title`; reports the rows seen, or that the palette closed. */
async function findPaletteRow(
  page: Page,
  title: string,
  typed: string,
  end: number,
): Promise<{ index: number } | { closed: true } | { closed: false; seen: string[] }> {
  for (;;) {
    const state = await page.evaluate(
      ([sel, text]) => {
        const w = document.querySelector<HTMLElement>(sel!);
        const box = document.querySelector<HTMLInputElement>(`${sel} .quick-input-box input`);
        if (!w || !w.offsetParent || box?.value !== text) return null;
        return Array.from(w.querySelectorAll('.monaco-list-row')).map((e) => ({
          label: (e.querySelector('.label-name')?.textContent ?? '').replace(/\s+/g, ' ').trim(),
          aria: e.getAttribute('aria-label') ?? '',
          index: Number(e.getAttribute('data-index')),
        }));
      },
      [QUICK_INPUT, typed] as const,
    );
    if (state === null) return { closed: true };
    const hit = state.find((r) => r.label === title || r.aria === title || r.aria.startsWith(`${title}, `));
    if (hit) return { index: hit.index };
    if (Date.now() > end) return { closed: false, seen: state.map((r) => r.label || r.aria) };
    await sleep(150);
  }
}

// ---------------------------------------------------------------------------
// Webviews

/**
 * The content frame of the webview shown in the editor tab titled `panelTitle` (or, when
 * no tab has that title, in the side-bar/panel view of that name). Brings the tab to
 * front, then returns a FrameLocator on `iframe.webview[name=<id>] >> iframe#active-frame`
 * once its document is attached.
 */
export async function webviewFrame(session: VsCodeSession, panelTitle: string, opts?: WaitOptions): Promise<FrameLocator> {
  const { page } = session;
  return step(session, `webviewFrame(${JSON.stringify(panelTitle)})`, async () => {
    const end = Date.now() + ms(20_000, opts);
    let id: string | undefined;
    let last = '';
    while (!id) {
      const tab = editorTab(page, panelTitle).first();
      let area: Locator | undefined;
      if (await tab.count()) {
        if (!(await tab.evaluate((e) => e.classList.contains('active')))) await tab.click();
        area = tab.locator('xpath=ancestor::*[contains(concat(" ", normalize-space(@class), " "), " editor-group-container ")][1]').locator('.editor-container');
      } else {
        const header = page.locator('.pane-header').filter({
          has: page.locator('.title', { hasText: new RegExp(`^\\s*${escapeRegExp(panelTitle)}\\s*$`, 'i') }),
        });
        if (await header.count()) area = header.first().locator('xpath=..').locator('.pane-body');
      }
      if (area && (await area.count())) {
        const box = await area.first().boundingBox();
        if (box) {
          id = await page.evaluate((r) => {
            for (const f of Array.from(document.querySelectorAll<HTMLIFrameElement>('iframe.webview'))) {
              const b = f.getBoundingClientRect();
              const cx = b.left + b.width / 2;
              const cy = b.top + b.height / 2;
              const shown = b.width > 0 && b.height > 0 && getComputedStyle(f).visibility !== 'hidden' &&
                (f.parentElement ? getComputedStyle(f.parentElement).visibility !== 'hidden' : true);
              if (shown && cx >= r.x && cx <= r.x + r.width && cy >= r.y && cy <= r.y + r.height) {
                return f.name || new URL(f.src).searchParams.get('id') || undefined;
              }
            }
            return undefined;
          }, box);
          last = id ? '' : 'tab found, but no visible webview iframe over its editor area';
        }
      } else {
        last = `no editor tab or view titled "${panelTitle}"; tabs: ${JSON.stringify(
          await page.locator('.tabs-container .tab .label-name').allInnerTexts(),
        )}`;
      }
      if (!id) {
        if (Date.now() > end) throw new Error(last || 'webview not found');
        await sleep(200);
      }
    }
    const inner = page.frameLocator(`iframe.webview[name="${id}"]`).frameLocator('iframe#active-frame');
    await inner.locator('body').waitFor({ state: 'attached', timeout: Math.max(1000, end - Date.now()) });
    return inner;
  });
}

// ---------------------------------------------------------------------------
// Status bar and notifications

/** All status bar items, left to right. */
export async function statusBarItems(session: VsCodeSession): Promise<StatusBarItem[]> {
  return session.page.locator('.statusbar-item').evaluateAll((els) =>
    els.map((e) => ({
      id: e.id,
      text: ((e as HTMLElement).innerText ?? '').replace(/\s+/g, ' ').trim(),
      ariaLabel: (e.getAttribute('aria-label') ?? '').replace(/\s+/g, ' ').trim(),
    })),
  );
}

function findItem(items: StatusBarItem[], key: string): StatusBarItem | undefined {
  return (
    items.find((i) => i.id === key) ??
    items.find((i) => i.id.startsWith(key)) ??
    items.find((i) => i.ariaLabel.startsWith(key)) ??
    items.find((i) => i.text.startsWith(key))
  );
}

/**
 * Text of a status bar item (whitespace collapsed; codicons are not text), waiting for it
 * to appear. `idOrPrefix` matches, in order: the DOM id exactly (`<publisher>.<name>.<itemId>`,
 * e.g. "codistill.codistill.sidecar"), an id prefix, an aria-label prefix, a text prefix.
 */
export async function statusBarText(session: VsCodeSession, idOrPrefix: string, opts?: WaitOptions): Promise<string> {
  return step(session, `statusBarText(${JSON.stringify(idOrPrefix)})`, async () => {
    const end = Date.now() + ms(15_000, opts);
    for (;;) {
      const items = await statusBarItems(session);
      const item = findItem(items, idOrPrefix);
      if (item) return item.text;
      if (Date.now() > end) {
        throw new Error(`no status bar item matches "${idOrPrefix}"; items: ${JSON.stringify(items)}`);
      }
      await sleep(150);
    }
  });
}

/** Waits until the status bar item's text includes `expected` (or matches it) and returns the text. */
export async function waitForStatusBarText(
  session: VsCodeSession,
  idOrPrefix: string,
  expected: string | RegExp,
  opts?: WaitOptions,
): Promise<string> {
  return step(session, `waitForStatusBarText(${JSON.stringify(idOrPrefix)}, ${String(expected)})`, async () => {
    const end = Date.now() + ms(30_000, opts);
    let last: StatusBarItem | undefined;
    for (;;) {
      last = findItem(await statusBarItems(session), idOrPrefix);
      if (last && (typeof expected === 'string' ? last.text.includes(expected) : expected.test(last.text))) {
        return last.text;
      }
      if (Date.now() > end) {
        throw new Error(last ? `status bar item "${last.id}" still reads "${last.text}"` : `no status bar item matches "${idOrPrefix}"`);
      }
      await sleep(200);
    }
  });
}

/** Messages of the notification toasts visible now (newest first, as VS Code stacks them). */
export async function notificationTexts(session: VsCodeSession): Promise<string[]> {
  const toasts = session.page.locator('.notifications-toasts .notification-toast-container .notification-list-item-message');
  const texts = await toasts.evaluateAll((els) =>
    els
      .filter((e) => (e as HTMLElement).offsetParent !== null)
      .map((e) => ((e as HTMLElement).innerText ?? '').replace(/\s+/g, ' ').trim()),
  );
  return texts.filter((t) => t.length > 0);
}

/** Waits for a visible toast whose message includes `expected` (or matches it); returns that message. */
export async function waitForNotification(
  session: VsCodeSession,
  expected: string | RegExp,
  opts?: WaitOptions,
): Promise<string> {
  return step(session, `waitForNotification(${String(expected)})`, async () => {
    const end = Date.now() + ms(30_000, opts);
    for (;;) {
      const texts = await notificationTexts(session);
      const hit = texts.find((t) => (typeof expected === 'string' ? t.includes(expected) : expected.test(t)));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no such notification; visible: ${JSON.stringify(texts)}`);
      await sleep(200);
    }
  });
}

// ---------------------------------------------------------------------------
// Screenshots

/** Saves a PNG of the whole browser page to <repo>/test-results/<name>.png and returns its path. */
export async function screenshot(session: VsCodeSession, name: string): Promise<string> {
  const path = join(resultsDir(), `${safeName(name)}.png`);
  await session.page.screenshot({ path, timeout: ms(15_000) });
  return path;
}

// ---------------------------------------------------------------------------
// Stop

/**
 * Closes the browser, sends SIGTERM to code-server's process group, waits, SIGKILLs
 * whatever is left of the group or still carries the session marker, and removes the
 * temporary directories. Safe to call more than once and after a failed test.
 */
export async function stop(session: VsCodeSession, opts?: { keepTemp?: boolean }): Promise<StopReport> {
  const i = internalsOf(session);
  i.stopped ??= (async () => {
    const t0 = Date.now();
    await Promise.race([session.context.close().catch(() => undefined), sleep(ms(15_000))]);

    debug(`stop: browser closed after ${Date.now() - t0} ms`);
    signal(-i.pgid, 'SIGTERM');
    const forceKilled: ProcessInfo[] = [];
    const graceful = await waitUntil(() => liveGroupMembers(i.pgid).length === 0, ms(10_000));
    debug(`stop: process group ${graceful ? 'exited' : 'still alive'} after ${Date.now() - t0} ms`);
    if (!graceful) {
      for (const pid of liveGroupMembers(i.pgid)) {
        const cmdline = (readProc(pid, 'cmdline') ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
        forceKilled.push({ pid, pgid: i.pgid, cmdline, matchedIn: 'cmdline' });
      }
      signal(-i.pgid, 'SIGKILL');
      await waitUntil(() => liveGroupMembers(i.pgid).length === 0, ms(5_000));
    }
    liveGroups.delete(i.pgid);

    // Processes that left the group (setsid, detached spawns) but carry the marker.
    const strays = leftoverProcesses(i.tmpRoot);
    if (strays.length) debug(`stop: strays outside the group: ${strays.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`);
    for (const p of strays) signal(p.pid, 'SIGTERM');
    if (strays.length && !(await waitUntil(() => leftoverProcesses(i.tmpRoot).length === 0, ms(5_000)))) {
      for (const p of leftoverProcesses(i.tmpRoot)) {
        forceKilled.push(p);
        signal(p.pid, 'SIGKILL');
      }
      await waitUntil(() => leftoverProcesses(i.tmpRoot).length === 0, ms(5_000));
    }

    const keep = opts?.keepTemp ?? process.env.CODISTILL_E2E_KEEP === '1';
    if (!keep) {
      // Retries: a dying process may still write for a moment (ENOTEMPTY).
      await rm(i.tmpRoot, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch(() => undefined);
    }
    return { forceKilled, ms: Date.now() - t0, ...(keep ? { keptTemp: i.tmpRoot } : {}) };
  })();
  return i.stopped;
}

/**
 * Starts a session, runs `fn`, and always stops. When `fn` throws, a screenshot is saved
 * (its path is added to the error) before the teardown.
 */
export async function withVsCode<T>(opts: StartOptions, fn: (session: VsCodeSession) => Promise<T>): Promise<T> {
  const session = await startVsCode(opts);
  try {
    return await fn(session);
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    throw await failure(session, 'test body', err);
  } finally {
    await stop(session);
  }
}

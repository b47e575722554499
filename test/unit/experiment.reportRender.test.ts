import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import type { ExperimentReport, LossPoint, ReportArm, ReportRow } from "../../src/core/experiment/reportModel";
import { escapeHtml, findChartLibrary, NONCE_PLACEHOLDER, renderReportHtml, renderReportMarkdown } from "../../src/core/experiment/reportRender";
import { REPO } from "./helpers";

const ARMS = ["base", "sft-code", "sft-cot", "sft-cot-struct"];
const CAVEAT = "The student is a tiny random-weight model: these numbers cannot mean anything.";
const HOSTILE_ARM = "<img src=x onerror=alert(1)>";
const HOSTILE_CONFIG = 'experiment:\n  name: "</script><script>alert(1)</script>"\n';

function lossCurve(start: number, structural: boolean): LossPoint[] {
  return [0, 50, 100, 150].map((step, i) => {
    const ce = start * 0.8 ** i;
    const lStruct = structural ? 0.5 * 0.9 ** i : null;
    return { step, loss: ce + (lStruct ?? 0) * 0.1, ce, lStruct, alpha: 1, beta: structural ? 0.1 : 0 };
  });
}

function arm(name: string, description: string, loss: LossPoint[]): ReportArm {
  const trained = name !== "base";
  return { name, description, run: trained ? `runs/${name}` : null, steps: trained ? 150 : null, trainWallS: trained ? 3725.4 : null, loss };
}

function row(arm: string, pass1: number, tasks: number): ReportRow {
  const isBase = arm === "base";
  return {
    arm,
    tasks,
    samplesPerTask: 10,
    pass1: { value: pass1, low: Math.max(0, pass1 - 0.05), high: pass1 + 0.05 },
    deltaVsBase: isBase ? null : { value: pass1 - 0.25, low: pass1 - 0.3, high: pass1 - 0.2, pairedTasks: tasks },
    syntaxMatch: isBase ? null : 0.4567,
    dataflowMatch: arm === "sft-cot-struct" ? 0.3123 : null,
    results: `eval/${arm}/results.json`,
  };
}

/** 2 benchmarks × 4 arms, as a finished experiment writes report.json. */
function fixtureReport(overrides: Partial<ExperimentReport> = {}): ExperimentReport {
  return {
    format: 1,
    title: "Structural loss ablation",
    createdAt: "2025-06-10T12:00:00.000Z",
    caveat: CAVEAT,
    benchmarks: ["humaneval+", "mbpp+"],
    arms: [
      arm("base", "The student as downloaded", []),
      arm("sft-code", "Code only, CE", lossCurve(2.0, false)),
      arm("sft-cot", "CoT then code, CE", lossCurve(2.2, false)),
      arm("sft-cot-struct", "CoT then code, CE + 0.1·L_struct", lossCurve(2.2, true)),
    ],
    tables: [
      { benchmark: "humaneval+", rows: [row("base", 0.25, 164), row("sft-code", 0.3, 164), row("sft-cot", 0.3125, 164), row("sft-cot-struct", 0.35, 164)] },
      { benchmark: "mbpp+", rows: [row("base", 0.25, 378), row("sft-code", 0.2, 378), row("sft-cot", 0.275, 378), row("sft-cot-struct", 0.26, 378)] },
    ],
    cots: [{ name: "taco-offline", dataset: "taco", teacher: "offline rationalizer", total: 120, valid: 100, invalid: 12, verified: 90, failedVerification: 10, failed: 8, rejected: 3 }],
    provenance: {
      git: { commit: "0123456789abcdef0123456789abcdef01234567", branch: "main", dirty: true, dirtyFiles: Array.from({ length: 23 }, (_, i) => `src/file${i}.ts`) },
      datasets: [{ name: "taco", path: "data/taco.jsonl", sha256: "ab".repeat(32) }],
      cots: [{ name: "taco-offline", sha256: "cd".repeat(32) }],
      student: { path: "models/student", parameters: 124_439_808 },
      encoder: { path: "models/encoder", parameters: 22_700_000 },
      packages: { python: "3.11.9", torch: "2.3.1", transformers: "4.44.0", codistill: "0.1.0" },
      device: "cuda:0 NVIDIA H100",
    },
    stages: [
      { id: "cots", outcome: "up to date", wallS: 0.4 },
      { id: "train:sft-code", outcome: "ran", wallS: 3725.4 },
    ],
    config: { file: "codistill.yaml", text: "experiment:\n  name: ablation\n  arms: [base, sft-code, sft-cot, sft-cot-struct]\n" },
    ...overrides,
  };
}

const CHART_LIBRARY = readFileSync(join(REPO, "node_modules", "chart.js", "dist", "chart.umd.js"), "utf8");

/** The text of the <table> that follows the benchmark's heading in the HTML. */
function htmlSummaryTable(html: string, benchmark: string): string {
  const start = html.indexOf(`<table data-benchmark="${escapeHtml(benchmark)}"`);
  assert.ok(start >= 0, `no summary table for ${benchmark}`);
  return html.slice(start, html.indexOf("</table>", start));
}

/** The Markdown table rows under "### <benchmark>". */
function markdownSummaryRows(markdown: string, benchmark: string): string[] {
  const start = markdown.indexOf(`### ${benchmark}\n`);
  assert.ok(start >= 0, `no section for ${benchmark}`);
  // Past the heading, the blank line, the header row and the delimiter row.
  const lines = markdown.slice(start).split("\n").slice(4);
  return lines.slice(0, lines.findIndex((line) => !line.startsWith("|")));
}

function attributeUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]!);
}

/** <style> contents: where a remote @import or url() would load something. */
function styleUrls(html: string): string[] {
  const styles = [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]!).join("\n");
  return [...styles.matchAll(/@import\s+(?:url\()?\s*["']?([^"')\s;]+)|url\(\s*["']?([^"')\s]+)/gi)].map((m) => m[1] ?? m[2]!);
}

function embeddedData(html: string): unknown {
  const match = /<script[^>]*id="report-data"[^>]*>([\s\S]*?)<\/script>/.exec(html);
  assert.ok(match, "no report-data script");
  return JSON.parse(match[1]!);
}

function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

describe("experiment report: Markdown", () => {
  const markdown = renderReportMarkdown(fixtureReport());

  it("says the caveat right after the title, before any table", () => {
    const lines = markdown.split("\n");
    assert.equal(lines[0], "# Structural loss ablation");
    assert.match(lines[2]!, /^> \*\*Warning:\*\* The student is a tiny random-weight model/);
    assert.ok(markdown.indexOf("Warning") < markdown.indexOf("\n|"));
  });

  it("has no warning when there is no caveat", () => {
    const plain = renderReportMarkdown(fixtureReport({ caveat: null }));
    assert.ok(!plain.includes("Warning"));
    assert.ok(!plain.includes("\n> "));
  });

  it("shows every arm on each benchmark with pass@1, interval and delta", () => {
    const rows = markdownSummaryRows(markdown, "humaneval+");
    assert.deepEqual(
      rows.map((line) => line.split(" | ")[0]),
      ARMS.map((name) => `| ${name}`),
    );
    assert.equal(rows[0], "| base | 25.0% [20.0, 30.0] | — | n/a | n/a | 164 | 10 |");
    assert.equal(rows[3], "| sft-cot-struct | 35.0% [30.0, 40.0] | +10.0 pp [+5.0, +15.0] (164 paired) | 0.457 | 0.312 | 164 | 10 |");
    const mbpp = markdownSummaryRows(markdown, "mbpp+");
    assert.equal(mbpp.length, 4);
    assert.match(mbpp[1]!, /^\| sft-code \| 20\.0% \[15\.0, 25\.0\] \| -5\.0 pp \[-10\.0, 0\.0\] \(378 paired\) \|/);
  });

  it("gives each trained arm's last loss point and the CoT counts", () => {
    assert.match(markdown, /\| sft-cot-struct \| 150 \| 1\.\d{3} \| 1\.\d{3} \| 0\.365 \| 1 \| 0\.1 \|/);
    assert.ok(!/\| base \| \d+ \|/.test(markdown.slice(markdown.indexOf("## Training loss"), markdown.indexOf("## Arms"))));
    assert.match(markdown, /\| taco-offline \| taco \| offline rationalizer \| 120 \| 100 \| 90 \| 10 \| 12 \| 8 \| 3 \|/);
  });

  it("keeps the sections in the agreed order", () => {
    const order = ["## Results", "## Training loss", "## Arms", "## CoT sets", "## Provenance", "## Stages", "## Configuration"].map((h) => markdown.indexOf(h));
    assert.ok(order.every((at) => at > 0));
    assert.deepEqual([...order].sort((a, b) => a - b), order);
  });

  it("shows provenance with short hashes and at most 20 dirty files", () => {
    assert.match(markdown, /0123456789 on main, with uncommitted changes/);
    assert.match(markdown, /sha256 abababababab \|/);
    assert.ok(!markdown.includes("ab".repeat(7)));
    assert.ok(markdown.includes("src/file19.ts (and 3 more)"));
    assert.ok(!markdown.includes("src/file20.ts"));
    assert.ok(markdown.includes("(124.4M parameters)"));
    assert.ok(markdown.includes("1 h 02 min 05 s"));
  });

  it("escapes | and raw HTML in cells, and fences the configuration", () => {
    const report = fixtureReport({ config: { file: "codistill.yaml", text: "a: ```\n" } });
    report.tables[0]!.rows[1]!.arm = `a|b ${HOSTILE_ARM}`;
    const text = renderReportMarkdown(report);
    assert.ok(text.includes("| a\\|b \\<img src=x onerror=alert(1)\\> |"));
    assert.ok(!text.includes(HOSTILE_ARM));
    assert.ok(text.includes("````yaml\na: ```\n````"));
  });
});

describe("experiment report: HTML", () => {
  const html = renderReportHtml(fixtureReport(), CHART_LIBRARY);

  it("shows the caveat as an alert before any table", () => {
    const alert = html.indexOf('role="alert"');
    assert.ok(alert > html.indexOf("<h1>") && alert < html.indexOf("<table"));
    assert.ok(html.includes(escapeHtml(CAVEAT)));
    assert.ok(!renderReportHtml(fixtureReport({ caveat: null }), CHART_LIBRARY).includes('role="alert"'));
  });

  it("has a summary row per arm with pass@1 and delta on each benchmark", () => {
    assert.ok(html.includes('<section id="summary">'));
    for (const benchmark of ["humaneval+", "mbpp+"]) {
      const table = htmlSummaryTable(html, benchmark);
      assert.deepEqual([...table.matchAll(/<tr data-arm="([^"]+)"/g)].map((m) => m[1]), ARMS);
    }
    const humaneval = htmlSummaryTable(html, "humaneval+");
    assert.match(humaneval, /<tr data-arm="sft-cot"><th>sft-cot<\/th><td class="num">31\.3% \[26\.3, 36\.3\]<\/td>/);
    const mbpp = htmlSummaryTable(html, "mbpp+");
    assert.match(mbpp, /<tr data-arm="sft-cot">.*<td class="num">27\.5% \[22\.5, 32\.5\]<\/td><td class="num">\+2\.5 pp \[-2\.5, \+7\.5\] \(378 paired\)<\/td>/);
    assert.match(humaneval, /<tr data-arm="base">.*<td class="num">—<\/td>/);
    for (const id of ["chart-pass1", "chart-loss", "chart-cots"]) assert.ok(html.includes(`id="${id}"`), id);
  });

  it("loads nothing remote: no http(s) in src or href, @import or url()", () => {
    const urls = [...attributeUrls(html), ...styleUrls(html)];
    assert.deepEqual(
      urls.filter((url) => /^(?:https?:)?\/\//i.test(url)),
      [],
    );
    assert.ok(!/<link\b/i.test(html));
    assert.ok(!/<script[^>]*\ssrc=/i.test(html));
  });

  it("stamps every <script> with the nonce placeholder", () => {
    const tags = [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0]);
    assert.equal(tags.length, 3);
    for (const tag of tags) assert.ok(tag.includes(`nonce="${NONCE_PLACEHOLDER}"`), tag);
  });

  it("escapes a hostile arm name and a configuration that closes <script>", () => {
    const report = fixtureReport({ config: { file: "codistill.yaml", text: HOSTILE_CONFIG } });
    report.arms[1]!.name = HOSTILE_ARM;
    report.tables[0]!.rows[1]!.arm = HOSTILE_ARM;
    report.title = `Report ${HOSTILE_ARM}\u2028`;
    const hostile = renderReportHtml(report, CHART_LIBRARY);
    assert.ok(!hostile.includes(HOSTILE_ARM));
    assert.ok(!hostile.includes("</script><script>alert(1)"));
    assert.ok(hostile.includes(`data-arm="${escapeHtml(HOSTILE_ARM)}"`));
    assert.equal(occurrences(hostile.toLowerCase(), "</script>"), 3);
    const data = embeddedData(hostile) as { arms: string[] };
    assert.equal(data.arms[1], HOSTILE_ARM);
    assert.ok(!/[\u2028\u2029]/.test(hostile.slice(hostile.indexOf('id="report-data"'), hostile.indexOf("</script>", hostile.indexOf('id="report-data"')))));
  });

  it("embeds chart data that parses back to the report's values", () => {
    const report = fixtureReport();
    const data = embeddedData(html) as {
      benchmarks: string[];
      arms: string[];
      pass1: { benchmark: string; arm: string; value: number; low: number; high: number }[];
      loss: { arm: string; points: { step: number; loss: number | null; ce: number | null; lStruct: number | null }[] }[];
      cots: { name: string; counts: Record<string, number> }[];
    };
    assert.deepEqual(data.benchmarks, report.benchmarks);
    assert.deepEqual(data.arms, ARMS);
    const expectedPass1 = report.tables.flatMap((t) => t.rows.map((r) => ({ benchmark: t.benchmark, arm: r.arm, value: r.pass1.value * 100, low: r.pass1.low * 100, high: r.pass1.high * 100 })));
    assert.deepEqual(data.pass1, expectedPass1);
    assert.deepEqual(
      data.loss,
      report.arms.filter((a) => a.loss.length > 0).map((a) => ({ arm: a.name, points: a.loss.map(({ step, loss, ce, lStruct }) => ({ step, loss, ce, lStruct })) })),
    );
    const set = report.cots[0]!;
    assert.deepEqual(data.cots, [
      { name: set.name, counts: { valid: set.valid, verified: set.verified, failedVerification: set.failedVerification, invalid: set.invalid, failed: set.failed, rejected: set.rejected } },
    ]);
  });

  it("inlines the chart library exactly once", () => {
    assert.equal(occurrences(html, CHART_LIBRARY), 1);
  });

  it("keeps the configuration text in a <pre>", () => {
    assert.ok(html.includes(`<pre><code>${escapeHtml(fixtureReport().config.text)}</code></pre>`));
  });
});

describe("findChartLibrary", () => {
  it("finds Chart.js's UMD build in node_modules", () => {
    assert.equal(findChartLibrary(), CHART_LIBRARY);
  });

  it("reads the first candidate that exists", () => {
    const real = join(REPO, "node_modules", "chart.js", "dist", "chart.umd.js");
    assert.equal(findChartLibrary(["/nonexistent/chart.umd.js", real]), CHART_LIBRARY);
  });

  it("names every path it tried when none exists", () => {
    const candidates = ["/nonexistent/a/chart.umd.js", "/nonexistent/b/chart.umd.js"];
    assert.ok(candidates.every((path) => !existsSync(path)));
    assert.throws(
      () => findChartLibrary(candidates),
      (err: Error) => candidates.every((path) => err.message.includes(path)),
    );
  });
});

// The HTML in a real browser: Chart.js must draw the three charts from the embedded data, under
// the page's own Content-Security-Policy, with no errors.
const CHROMIUM = process.env.CODISTILL_CHROMIUM ?? "/usr/bin/chromium";

describe("experiment report: HTML in Chromium", { timeout: 20_000 }, () => {
  let browser: Browser;
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: npm run setup installs Debian's chromium (or set CODISTILL_CHROMIUM)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  });
  after(async () => {
    await browser?.close();
  });

  /** Opens the page and returns its errors (uncaught exceptions, console errors, CSP violations) once the charts are drawn. */
  async function drawn(report: ExperimentReport): Promise<{ errors: string[]; charts: number; pass1Max: number; page: import("playwright-core").Page }> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    page.on("request", (request) => {
      if (!request.url().startsWith("data:") && request.url() !== "about:blank") errors.push(`request: ${request.url()}`);
    });
    await page.setContent(renderReportHtml(report, CHART_LIBRARY), { waitUntil: "load" });
    await page.waitForFunction(() =>
      ["chart-pass1", "chart-loss", "chart-cots"].every((id) => {
        const canvas = document.querySelector<HTMLCanvasElement>(`#${id} canvas`);
        return canvas !== null && canvas.width > 0 && canvas.height > 0;
      }),
    );
    const { charts, pass1Max } = await page.evaluate(() => {
      const chartJs = (window as unknown as { Chart: { instances: Record<string, unknown>; getChart(c: HTMLCanvasElement): { scales: Record<string, { max: number }> } } }).Chart;
      const canvas = document.querySelector<HTMLCanvasElement>("#chart-pass1 canvas")!;
      return { charts: Object.keys(chartJs.instances).length, pass1Max: chartJs.getChart(canvas).scales.y!.max };
    });
    return { errors, charts, pass1Max, page };
  }

  it("draws the three charts without errors", async () => {
    const { errors, charts, page } = await drawn(fixtureReport());
    assert.equal(charts, 3);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("gives an all-zero pass@1 chart a visible scale", async () => {
    const report = fixtureReport();
    for (const table of report.tables) for (const row of table.rows) row.pass1 = { value: 0, low: 0, high: 0 };
    const { errors, charts, pass1Max, page } = await drawn(report);
    assert.equal(charts, 3);
    assert.ok(pass1Max >= 10, `y axis ends at ${pass1Max}`);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

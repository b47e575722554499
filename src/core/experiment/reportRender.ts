// The experiment report (reportModel.ts) as two documents with the same sections in the same order:
// GitHub-flavoured Markdown, and one self-contained HTML file that draws its charts with an inlined
// Chart.js, so it opens the same in a browser, offline, and in a VS Code webview.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExperimentReport, Interval, LossPoint, ReportRow, ReportTable } from "./reportModel";

/** Stamped on every <script> and <style>; the panel that shows the file swaps it for a per-load nonce. */
export const NONCE_PLACEHOLDER = "__CODISTILL_NONCE__";

const CHART_LIBRARY_FILE = "chart.umd.js";
const DIRTY_FILES_SHOWN = 20;
const HASH_CHARS = 12;
const COMMIT_CHARS = 10;

// ---------------------------------------------------------------------------
// Formatting shared by both documents

function percent(fraction: number): string {
  return (fraction * 100).toFixed(1);
}

/** One decimal with its sign; a value that rounds to zero reads "0.0", never "-0.0". */
function signedPoints(fraction: number): string {
  const text = percent(fraction);
  if (Number(text) === 0) return "0.0";
  return fraction > 0 ? `+${text}` : text;
}

function formatPass1(pass1: Interval): string {
  return `${percent(pass1.value)}% [${percent(pass1.low)}, ${percent(pass1.high)}]`;
}

function formatDelta(delta: ReportRow["deltaVsBase"]): string {
  if (delta === null) return "—";
  return `${signedPoints(delta.value)} pp [${signedPoints(delta.low)}, ${signedPoints(delta.high)}] (${delta.pairedTasks} paired)`;
}

function formatMatch(value: number | null): string {
  return value === null ? "n/a" : value.toFixed(3);
}

function formatOptional(value: number | null): string {
  return value === null ? "—" : String(value);
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours > 0 ? `${hours} h ${String(minutes).padStart(2, "0")} min ${rest} s` : `${minutes} min ${rest} s`;
}

function formatParameters(parameters: number | null): string {
  if (parameters === null) return "parameters unknown";
  const scales: [number, string][] = [
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  const [divisor, suffix] = scales.find(([size]) => parameters >= size) ?? [1, ""];
  return `${divisor === 1 ? parameters : (parameters / divisor).toFixed(1)}${suffix} parameters`;
}

function shortHash(hash: string): string {
  return hash.slice(0, HASH_CHARS);
}

// ---------------------------------------------------------------------------
// The tables, as plain text cells: each document escapes and lays them out its own way

interface TextTable {
  headers: string[];
  rows: { cells: string[]; arm?: string }[];
  /** Column indexes that hold figures, right-aligned. */
  numeric?: number[];
}

function summaryTable(table: ReportTable): TextTable {
  return {
    headers: ["Arm", "pass@1 (95% CI)", "Δ vs base (pp, 95% CI)", "Syntax match", "Dataflow match", "Tasks", "n"],
    rows: table.rows.map((row) => ({
      arm: row.arm,
      cells: [row.arm, formatPass1(row.pass1), formatDelta(row.deltaVsBase), formatMatch(row.syntaxMatch), formatMatch(row.dataflowMatch), String(row.tasks), String(row.samplesPerTask)],
    })),
    numeric: [1, 2, 3, 4, 5, 6],
  };
}

function armsTable(report: ExperimentReport): TextTable {
  return {
    headers: ["Arm", "Description", "Run folder", "Steps", "Training time"],
    rows: report.arms.map((arm) => ({
      arm: arm.name,
      cells: [arm.name, arm.description, arm.run ?? "—", formatOptional(arm.steps), formatDuration(arm.trainWallS)],
    })),
    numeric: [3, 4],
  };
}

function lastLossPoint(points: LossPoint[]): LossPoint | undefined {
  return points.reduce<LossPoint | undefined>((last, point) => (last === undefined || point.step > last.step ? point : last), undefined);
}

/** Markdown cannot draw the loss curves: it gets where each arm's training ended. */
function finalLossTable(report: ExperimentReport): TextTable {
  const trained = report.arms.flatMap((arm) => {
    const last = lastLossPoint(arm.loss);
    return last ? [{ arm: arm.name, last }] : [];
  });
  return {
    headers: ["Arm", "Step", "Loss", "CE", "L_struct", "α", "β"],
    rows: trained.map(({ arm, last }) => ({
      arm,
      cells: [arm, String(last.step), formatMatch(last.loss), formatMatch(last.ce), formatMatch(last.lStruct), formatOptional(last.alpha), formatOptional(last.beta)],
    })),
    numeric: [1, 2, 3, 4, 5, 6],
  };
}

type CotCount = "valid" | "verified" | "failedVerification" | "invalid" | "failed" | "rejected";

const COT_COUNTS: { key: CotCount; label: string }[] = [
  { key: "valid", label: "Valid" },
  { key: "verified", label: "Verified" },
  { key: "failedVerification", label: "Failed verification" },
  { key: "invalid", label: "Invalid" },
  { key: "failed", label: "Failed" },
  { key: "rejected", label: "Rejected" },
];

function cotTable(report: ExperimentReport): TextTable {
  return {
    headers: ["CoT set", "Dataset", "Teacher", "Total", ...COT_COUNTS.map((count) => count.label)],
    rows: report.cots.map((set) => ({
      cells: [set.name, set.dataset, set.teacher, String(set.total), ...COT_COUNTS.map((count) => String(set[count.key]))],
    })),
    numeric: [3, 4, 5, 6, 7, 8, 9],
  };
}

function gitCells(git: NonNullable<ExperimentReport["provenance"]["git"]>): string[][] {
  const commit = `${git.commit.slice(0, COMMIT_CHARS)} on ${git.branch ?? "a detached HEAD"}${git.dirty ? ", with uncommitted changes" : ", clean"}`;
  const rows = [["Git commit", commit]];
  if (git.dirty && git.dirtyFiles.length > 0) {
    const shown = git.dirtyFiles.slice(0, DIRTY_FILES_SHOWN).join(", ");
    const more = git.dirtyFiles.length - DIRTY_FILES_SHOWN;
    rows.push(["Uncommitted files", more > 0 ? `${shown} (and ${more} more)` : shown]);
  }
  return rows;
}

function provenanceTable(report: ExperimentReport): TextTable {
  const p = report.provenance;
  const cells: string[][] = [
    ...(p.git ? gitCells(p.git) : [["Git commit", "not a git checkout"]]),
    ...p.datasets.map((dataset) => [`Dataset ${dataset.name}`, `${dataset.path}, sha256 ${shortHash(dataset.sha256)}`]),
    ...p.cots.map((set) => [`CoT set ${set.name}`, `sha256 ${shortHash(set.sha256)}`]),
    ["Student", `${p.student.path} (${formatParameters(p.student.parameters)})`],
    ["Encoder", p.encoder ? `${p.encoder.path} (${formatParameters(p.encoder.parameters)})` : "none"],
    ["Packages", Object.entries(p.packages).map(([name, version]) => `${name} ${version}`).join(", ") || "unknown"],
    ["Device", p.device ?? "unknown"],
  ];
  return { headers: ["", ""], rows: cells.map((row) => ({ cells: row })) };
}

function stagesTable(report: ExperimentReport): TextTable {
  return {
    headers: ["Stage", "Outcome", "Wall time"],
    rows: report.stages.map((stage) => ({ cells: [stage.id, stage.outcome, formatDuration(stage.wallS)] })),
    numeric: [2],
  };
}

// ---------------------------------------------------------------------------
// Markdown

/** Backslash-escapes what would otherwise end a cell, start markup or raw HTML. */
function escapeMarkdown(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/[\\`*_[\]<>|#&]/g, (c) => `\\${c}`);
}

function markdownTable(table: TextTable): string {
  const numeric = new Set(table.numeric ?? []);
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(table.headers.map(escapeMarkdown)),
    line(table.headers.map((_, i) => (numeric.has(i) ? "---:" : "---"))),
    // Figure columns are our own formatting: their brackets are left readable in the raw text.
    ...table.rows.map((row) => line(row.cells.map((text, i) => (numeric.has(i) ? text.replace(/\|/g, "\\|") : escapeMarkdown(text))))),
  ].join("\n");
}

function markdownBlockquote(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line, i) => `> ${i === 0 ? "**Warning:** " : ""}${escapeMarkdown(line)}`)
    .join("\n");
}

/** A fence longer than any backtick run in the text, so the text cannot close it. */
function markdownFence(text: string, language: string): string {
  const longestRun = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  return `${fence}${language}\n${text.replace(/\n$/, "")}\n${fence}`;
}

function createdLine(report: ExperimentReport): string {
  return `Written ${report.createdAt} from ${report.config.file}.`;
}

export function renderReportMarkdown(report: ExperimentReport): string {
  const parts = [`# ${escapeMarkdown(report.title)}`];
  if (report.caveat !== null) parts.push(markdownBlockquote(report.caveat));
  parts.push(escapeMarkdown(createdLine(report)));
  parts.push("## Results");
  for (const table of report.tables) parts.push(`### ${escapeMarkdown(table.benchmark)}`, markdownTable(summaryTable(table)));
  parts.push("## Training loss", "The last logged step of each arm.", markdownTable(finalLossTable(report)));
  parts.push("## Arms", markdownTable(armsTable(report)));
  parts.push("## CoT sets", markdownTable(cotTable(report)));
  parts.push("## Provenance", markdownTable(provenanceTable(report)));
  parts.push("## Stages", markdownTable(stagesTable(report)));
  parts.push("## Configuration", markdownFence(report.config.text, "yaml"));
  return parts.join("\n\n") + "\n";
}

// ---------------------------------------------------------------------------
// HTML

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * JSON that can sit inside <script>: no "<" can open "</script>" or "<!--", and U+2028/U+2029
 * (valid in JSON, line terminators in older JavaScript) are escaped too.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** In JavaScript "</script" can only occur in strings, regexes and comments, where "<\/script" means the same. */
function scriptSafeSource(source: string): string {
  return source.replace(/<\/(script)/gi, "<\\/$1");
}

function htmlTable(table: TextTable, attributes = ""): string {
  const numeric = new Set(table.numeric ?? []);
  const cell = (tag: string, text: string, i: number) => `<${tag}${numeric.has(i) ? ' class="num"' : ""}>${escapeHtml(text)}</${tag}>`;
  const head = table.headers.some((header) => header !== "") ? `<thead><tr>${table.headers.map((h, i) => cell("th", h, i)).join("")}</tr></thead>` : "";
  const rows = table.rows.map((row) => {
    const arm = row.arm === undefined ? "" : ` data-arm="${escapeHtml(row.arm)}"`;
    return `<tr${arm}>${row.cells.map((text, i) => cell(i === 0 ? "th" : "td", text, i)).join("")}</tr>`;
  });
  return `<table${attributes}>${head}<tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

/** What the page's script draws: plain numbers, in the same units the tables show. */
export interface ReportChartData {
  benchmarks: string[];
  arms: string[];
  /** pass@1 and its interval in percent, one entry per table row. */
  pass1: { benchmark: string; arm: string; value: number; low: number; high: number }[];
  loss: { arm: string; points: { step: number; loss: number | null; ce: number | null; lStruct: number | null }[] }[];
  cots: { name: string; counts: Record<string, number> }[];
  cotLabels: Record<string, string>;
}

export function reportChartData(report: ExperimentReport): ReportChartData {
  return {
    benchmarks: report.tables.map((table) => table.benchmark),
    arms: report.arms.map((arm) => arm.name),
    pass1: report.tables.flatMap((table) =>
      table.rows.map((row) => ({ benchmark: table.benchmark, arm: row.arm, value: row.pass1.value * 100, low: row.pass1.low * 100, high: row.pass1.high * 100 })),
    ),
    loss: report.arms
      .filter((arm) => arm.loss.length > 0)
      .map((arm) => ({ arm: arm.name, points: arm.loss.map(({ step, loss, ce, lStruct }) => ({ step, loss, ce, lStruct })) })),
    cots: report.cots.map((set) => ({ name: set.name, counts: Object.fromEntries(COT_COUNTS.map((count) => [count.key, set[count.key]])) })),
    cotLabels: Object.fromEntries(COT_COUNTS.map((count) => [count.key, count.label])),
  };
}

// Light and dark from the OS, and inside a VS Code webview its theme variables win.
const STYLE = `
:root { color-scheme: light dark; --fg: #222; --bg: #fff; --muted: #666; --border: #d0d0d0; --head: #f3f3f3;
  --warn-fg: #5c3c00; --warn-bg: #fff4d6; --warn-border: #e0a800; --code-bg: #f6f6f6; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #ddd; --bg: #1e1e1e; --muted: #9a9a9a; --border: #444; --head: #2a2a2a;
    --warn-fg: #ffe3a3; --warn-bg: #3a2e10; --warn-border: #b38600; --code-bg: #252526; }
}
body { margin: 0 auto; max-width: 1200px; padding: 1.5rem;
  font-family: var(--vscode-font-family, system-ui, -apple-system, "Segoe UI", sans-serif); font-size: var(--vscode-font-size, 14px);
  color: var(--vscode-editor-foreground, var(--fg)); background: var(--vscode-editor-background, var(--bg)); }
h1, h2, h3 { font-weight: 600; }
h2 { margin-top: 2rem; border-bottom: 1px solid var(--vscode-panel-border, var(--border)); padding-bottom: .25rem; }
.meta, .note { color: var(--vscode-descriptionForeground, var(--muted)); }
.warning { border: 1px solid var(--vscode-inputValidation-warningBorder, var(--warn-border)); border-left-width: 6px;
  background: var(--vscode-inputValidation-warningBackground, var(--warn-bg)); color: var(--vscode-editorWarning-foreground, var(--warn-fg));
  padding: .75rem 1rem; margin: 1rem 0; white-space: pre-wrap; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--vscode-panel-border, var(--border)); padding: .3rem .6rem; text-align: left; vertical-align: top; }
thead th { background: var(--vscode-editorWidget-background, var(--head)); }
tbody th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.chart { position: relative; height: 340px; margin: 1rem 0; }
pre { background: var(--vscode-textCodeBlock-background, var(--code-bg)); padding: .75rem; overflow: auto;
  font-family: var(--vscode-editor-font-family, ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace); }
`;

// Runs in the page after Chart.js: reads the embedded data and draws the three charts.
// Colors come from the computed page style, so the charts follow the light or dark theme.
const CHART_SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var style = getComputedStyle(document.body);
  var foreground = style.color;
  Chart.defaults.color = foreground;
  Chart.defaults.borderColor = "rgba(128, 128, 128, 0.3)";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  var palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  function color(i) { return palette[i % palette.length]; }
  function canvas(id) { return document.getElementById(id).querySelector("canvas"); }
  function fixed1(x) { return (Math.round(x * 10) / 10).toFixed(1); }

  // Value labels and 95% interval whiskers over each bar, so a 0% bar still says "0.0%".
  var barAnnotations = {
    id: "codistillBarAnnotations",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var y = chart.scales.y;
      ctx.save();
      ctx.fillStyle = foreground;
      ctx.strokeStyle = foreground;
      ctx.textAlign = "center";
      ctx.textBaseline = "bottom";
      ctx.font = "11px sans-serif";
      chart.data.datasets.forEach(function (dataset, d) {
        if (!chart.isDatasetVisible(d)) return;
        chart.getDatasetMeta(d).data.forEach(function (bar, i) {
          var value = dataset.data[i];
          if (value === null || value === undefined) return;
          var top = bar.y;
          var interval = dataset.intervals && dataset.intervals[i];
          if (interval) {
            var low = y.getPixelForValue(interval[0]);
            var high = y.getPixelForValue(interval[1]);
            ctx.beginPath();
            ctx.moveTo(bar.x, low); ctx.lineTo(bar.x, high);
            ctx.moveTo(bar.x - 4, low); ctx.lineTo(bar.x + 4, low);
            ctx.moveTo(bar.x - 4, high); ctx.lineTo(bar.x + 4, high);
            ctx.stroke();
            top = Math.min(top, high);
          }
          ctx.fillText(dataset.labelFormat(value), bar.x, top - 3);
        });
      });
      ctx.restore();
    }
  };

  function drawPass1() {
    var maxHigh = data.pass1.reduce(function (m, p) { return Math.max(m, p.high); }, 0);
    var datasets = data.arms.map(function (arm, a) {
      var rows = data.benchmarks.map(function (benchmark) {
        return data.pass1.find(function (p) { return p.benchmark === benchmark && p.arm === arm; });
      });
      return {
        label: arm,
        backgroundColor: color(a),
        data: rows.map(function (r) { return r ? r.value : null; }),
        intervals: rows.map(function (r) { return r ? [r.low, r.high] : null; }),
        labelFormat: function (v) { return fixed1(v) + "%"; }
      };
    });
    new Chart(canvas("chart-pass1"), {
      type: "bar",
      data: { labels: data.benchmarks, datasets: datasets },
      plugins: [barAnnotations],
      options: {
        layout: { padding: { top: 18 } },
        scales: { y: { min: 0, suggestedMax: Math.min(100, Math.max(10, Math.ceil((maxHigh * 1.15) / 5) * 5)), title: { display: true, text: "pass@1 (%)" } } },
        plugins: {
          title: { display: true, text: "pass@1 per arm, with 95% intervals" },
          tooltip: { callbacks: { label: function (item) {
            var interval = item.dataset.intervals[item.dataIndex];
            return item.dataset.label + ": " + fixed1(item.raw) + "% [" + fixed1(interval[0]) + ", " + fixed1(interval[1]) + "]";
          } } }
        }
      }
    });
  }

  function drawLoss() {
    var series = [["loss", "total", []], ["ce", "CE", [6, 4]], ["lStruct", "L_struct", [2, 3]]];
    var datasets = [];
    data.loss.forEach(function (arm, a) {
      // CE and L_struct get their own lines only where the arm has a structural term; otherwise CE is the total.
      var structural = arm.points.some(function (p) { return p.lStruct !== null; });
      series.forEach(function (s) {
        if (s[0] !== "loss" && !structural) return;
        var points = arm.points.filter(function (p) { return p[s[0]] !== null; }).map(function (p) { return { x: p.step, y: p[s[0]] }; });
        if (points.length === 0) return;
        datasets.push({ label: arm.arm + " " + s[1], data: points, borderColor: color(a), backgroundColor: color(a),
          borderDash: s[2], borderWidth: s[0] === "loss" ? 2 : 1.5, pointRadius: points.length > 40 ? 0 : 2 });
      });
    });
    new Chart(canvas("chart-loss"), {
      type: "line",
      data: { datasets: datasets },
      options: {
        parsing: true,
        scales: { x: { type: "linear", title: { display: true, text: "step" } }, y: { title: { display: true, text: "loss" } } },
        plugins: { title: { display: true, text: "Training loss per arm (solid: total; dashed: CE; dotted: L_struct)" } }
      }
    });
  }

  function drawCots() {
    var keys = Object.keys(data.cotLabels);
    var datasets = keys.map(function (key, k) {
      return { label: data.cotLabels[key], backgroundColor: color(k), data: data.cots.map(function (set) { return set.counts[key]; }),
        labelFormat: function (v) { return String(v); } };
    });
    new Chart(canvas("chart-cots"), {
      type: "bar",
      data: { labels: data.cots.map(function (set) { return set.name; }), datasets: datasets },
      plugins: [barAnnotations],
      options: {
        layout: { padding: { top: 18 } },
        scales: { y: { min: 0, suggestedMax: 1, grace: "10%", title: { display: true, text: "records" } } },
        plugins: { title: { display: true, text: "CoT records per set" } }
      }
    });
  }

  drawPass1();
  drawLoss();
  drawCots();
})();
`;

function htmlSection(id: string, title: string, body: string): string {
  return `<section id="${id}">\n<h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

function chartBox(id: string, label: string, note?: string): string {
  const empty = note === undefined ? "" : `<p class="note">${escapeHtml(note)}</p>`;
  return `${empty}<div class="chart" id="${id}"><canvas role="img" aria-label="${escapeHtml(label)}"></canvas></div>`;
}

function htmlSummary(report: ExperimentReport): string {
  const tables = report.tables.map(
    (table) => `<h3>${escapeHtml(table.benchmark)}</h3>\n${htmlTable(summaryTable(table), ` data-benchmark="${escapeHtml(table.benchmark)}"`)}`,
  );
  return htmlSection("summary", "Results", tables.join("\n"));
}

function htmlCharts(report: ExperimentReport): string {
  const noLoss = report.arms.every((arm) => arm.loss.length === 0) ? "No arm logged training loss." : undefined;
  const noCots = report.cots.length === 0 ? "No CoT sets." : undefined;
  return htmlSection(
    "charts",
    "Charts",
    [
      chartBox("chart-pass1", "pass@1 per arm, grouped by benchmark"),
      chartBox("chart-loss", "Training loss per arm over steps", noLoss),
      chartBox("chart-cots", "CoT records per set", noCots),
    ].join("\n"),
  );
}

function script(body: string, attributes = ""): string {
  return `<script nonce="${NONCE_PLACEHOLDER}"${attributes}>${body}</script>`;
}

export function renderReportHtml(report: ExperimentReport, chartLibrary: string): string {
  // The file loads nothing: everything it needs is inline, and its policy says so to the browser too.
  const csp = `default-src 'none'; script-src 'nonce-${NONCE_PLACEHOLDER}'; style-src 'nonce-${NONCE_PLACEHOLDER}'; img-src data:`;
  const caveat = report.caveat === null ? "" : `<div class="warning" role="alert"><strong>Warning:</strong> ${escapeHtml(report.caveat)}</div>\n`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(report.title)}</title>
<style nonce="${NONCE_PLACEHOLDER}">${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(report.title)}</h1>
${caveat}<p class="meta">${escapeHtml(createdLine(report))}</p>
${htmlSummary(report)}
${htmlCharts(report)}
${htmlSection("arms", "Arms", htmlTable(armsTable(report)))}
${htmlSection("cots", "CoT sets", htmlTable(cotTable(report)))}
${htmlSection("provenance", "Provenance", htmlTable(provenanceTable(report)))}
${htmlSection("stages", "Stages", htmlTable(stagesTable(report)))}
${htmlSection("config", "Configuration", `<p class="meta">${escapeHtml(report.config.file)}</p>\n<pre><code>${escapeHtml(report.config.text)}</code></pre>`)}
${script(scriptSafeJson(reportChartData(report)), ' type="application/json" id="report-data"')}
${script(scriptSafeSource(chartLibrary), ' id="chart-library"')}
${script(CHART_SCRIPT)}
</body>
</html>
`;
}

// ---------------------------------------------------------------------------
// Finding Chart.js

/**
 * Where chart.umd.js may be: beside the bundle (esbuild.mjs copies it into dist/, and defines
 * import.meta.url as the bundle's own URL), else in node_modules when running from source.
 */
function defaultChartLibraryCandidates(): string[] {
  const here = fileURLToPath(import.meta.url);
  const candidates = [join(dirname(here), CHART_LIBRARY_FILE)];
  try {
    // chart.js's "exports" hides dist/chart.umd.js from resolve(); it sits beside the main file, dist/chart.cjs.
    candidates.push(join(dirname(createRequire(here).resolve("chart.js")), CHART_LIBRARY_FILE));
  } catch {
    // Not installed: the error below names the file it looked for beside the bundle.
  }
  return candidates;
}

/** The source of Chart.js's UMD build, from the first candidate that exists. */
export function findChartLibrary(candidates: string[] = defaultChartLibraryCandidates()): string {
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(`cannot find Chart.js (${CHART_LIBRARY_FILE}) for the HTML report; looked at: ${candidates.join(", ") || "no paths"}`);
  }
  return readFileSync(found, "utf8");
}

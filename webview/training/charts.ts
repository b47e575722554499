// The training panel's line charts (Chart.js): the α/β curriculum preview, and one chart per
// metric with a line per run, so runs overlay. Colors come from VS Code's theme variables.
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";
import type { CurriculumPoint } from "../../src/core/training/curriculum";
import type { MetricsLine } from "../../src/core/training/runs";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

const PALETTE = ["--vscode-charts-blue", "--vscode-charts-orange", "--vscode-charts-green", "--vscode-charts-purple", "--vscode-charts-red", "--vscode-charts-yellow"];

function themeColor(variable: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(variable).trim() || fallback;
}

const color = (i: number) => themeColor(PALETTE[i % PALETTE.length]!, "#3794ff");

type XY = { x: number; y: number };

interface Series {
  label: string;
  points: XY[];
  color: string;
  dash?: number[];
}

function lineChart(canvas: HTMLCanvasElement, title: string, series: Series[], yTitle?: string): Chart<"line", XY[]> {
  const foreground = themeColor("--vscode-foreground", "#cccccc");
  const grid = themeColor("--vscode-panel-border", "rgba(128,128,128,0.35)");
  return new Chart(canvas, {
    type: "line",
    data: {
      datasets: series.map((s) => ({ label: s.label, data: s.points, borderColor: s.color, backgroundColor: s.color, borderDash: s.dash ?? [], pointRadius: 0, borderWidth: 1.5, parsing: false as const })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "step", color: foreground }, ticks: { color: foreground }, grid: { color: grid } },
        y: { ticks: { color: foreground }, grid: { color: grid }, ...(yTitle ? { title: { display: true, text: yTitle, color: foreground } } : {}) },
      },
      plugins: { title: { display: false, text: title }, legend: { labels: { color: foreground, boxWidth: 12 } } },
    },
  });
}

let curriculumChart: Chart<"line", XY[]> | undefined;

export function drawCurriculum(canvas: HTMLCanvasElement, points: CurriculumPoint[]): void {
  curriculumChart?.destroy();
  curriculumChart = lineChart(canvas, "curriculum", [
    { label: "α (token CE)", points: points.map((p) => ({ x: p.step, y: p.alpha })), color: color(0) },
    { label: "β (structural)", points: points.map((p) => ({ x: p.step, y: p.beta })), color: color(1) },
  ]);
}

/** A line of a chart: what it plots of a metrics line (null: no point at that step). */
interface Part {
  /** The legend's name, after the run id when several runs overlay. */
  name: string;
  value: (line: MetricsLine) => number | null;
  dash?: number[];
}

const num = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);
const GIB = 1024 ** 3;

/** The Loss chart's lines: the total and its two weighted parts, so the curriculum's share of a fall shows. */
const LOSS_PARTS: Part[] = [
  { name: "loss", value: (l) => (num(l.loss) ? l.loss : null) },
  { name: "α·CE", value: (l) => (num(l.alpha) && num(l.ce) ? l.alpha * l.ce : null), dash: [6, 3] },
  // β = 0: the structural loss does not run (l_struct is null), and its part is 0.
  { name: "β·L_struct", value: (l) => (num(l.beta) && num(l.l_struct) ? l.beta * l.l_struct : l.beta === 0 ? 0 : null), dash: [2, 2] },
];

const metric = (key: string, scale = 1): Part[] => [{ name: key, value: (l) => (num(l[key]) ? l[key] / scale : null) }];

export interface ChartedMetric {
  key: string;
  title: string;
  parts: Part[];
  yTitle?: string;
  /** A line under the chart, saying what it plots. */
  note?: string;
}

/** The metrics drawn, each in its own chart. */
export const CHARTED_METRICS: readonly ChartedMetric[] = [
  { key: "loss", title: "Loss", parts: LOSS_PARTS, note: "Loss = α·CE + β·L_struct; α and β follow the curriculum" },
  { key: "ce", title: "Token CE", parts: metric("ce") },
  { key: "l_struct", title: "L_struct", parts: metric("l_struct") },
  { key: "alpha", title: "α", parts: metric("alpha") },
  { key: "beta", title: "β", parts: metric("beta") },
  { key: "lr", title: "Learning rate", parts: metric("lr") },
  { key: "tokens_per_s", title: "Tokens/s", parts: metric("tokens_per_s") },
  { key: "gpu_mem_peak", title: "GPU memory, peak (GiB)", parts: metric("gpu_mem_peak", GIB), yTitle: "GiB" },
];

/** The GPU chart's runs all logged no GPU memory: said over the chart instead of empty axes. */
export const NO_GPU = "no GPU in this run";

interface Drawn {
  chart: Chart<"line", XY[]>;
  /** Per dataset: its run and part. */
  lines: { runId: string; part: Part }[];
}

/** One chart per metric; `runs` maps run id -> its lines, drawn as one series each (a few for Loss). */
export class MetricCharts {
  private readonly charts = new Map<string, Drawn>();

  /**
   * `canvases`: metric key -> its canvas; `onGpu(none)` is told whether the GPU chart has only
   * runs without GPU memory (every line null), so the panel can say so.
   */
  constructor(
    private readonly canvases: Map<string, HTMLCanvasElement>,
    private readonly onGpu: (noGpu: boolean) => void = () => {},
  ) {}

  draw(runs: Map<string, MetricsLine[]>): void {
    this.destroy();
    const several = runs.size > 1;
    for (const m of CHARTED_METRICS) {
      const canvas = this.canvases.get(m.key);
      if (!canvas) continue;
      const lines: Drawn["lines"] = [];
      const series: Series[] = [];
      [...runs.entries()].forEach(([runId, metrics], runIndex) => {
        m.parts.forEach((part, partIndex) => {
          lines.push({ runId, part });
          const label = m.parts.length === 1 ? runId : several ? `${runId} · ${part.name}` : part.name;
          // One run: a color per part; several: a color per run, a dash per part.
          series.push({ label, points: points(metrics, part), color: color(several || m.parts.length === 1 ? runIndex : partIndex), dash: part.dash });
        });
      });
      canvas.dataset.series = JSON.stringify(series.map((s) => s.label));
      this.charts.set(m.key, { chart: lineChart(canvas, m.title, series, m.yTitle), lines });
    }
    this.reportGpu(runs);
  }

  /** Adds the newest line of a run that is already drawn, without redrawing the others. */
  append(runId: string, line: MetricsLine, runs: Map<string, MetricsLine[]>): boolean {
    let drawn = false;
    for (const { chart, lines } of this.charts.values()) {
      let touched = false;
      lines.forEach(({ runId: id, part }, i) => {
        if (id !== runId) return;
        const y = part.value(line);
        if (y !== null) chart.data.datasets[i]?.data.push({ x: line.step, y });
        touched = true;
      });
      if (!touched) continue;
      chart.update("none");
      drawn = true;
    }
    if (drawn) this.reportGpu(runs);
    return drawn;
  }

  private reportGpu(runs: Map<string, MetricsLine[]>): void {
    const all = [...runs.values()].flat();
    this.onGpu(all.length > 0 && all.every((l) => !num(l.gpu_mem_peak)));
  }

  destroy(): void {
    for (const { chart } of this.charts.values()) chart.destroy();
    this.charts.clear();
  }
}

function points(lines: MetricsLine[], part: Part): XY[] {
  return lines.flatMap((l) => {
    const y = part.value(l);
    return y === null ? [] : [{ x: l.step, y }];
  });
}

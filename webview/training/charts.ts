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

function lineChart(canvas: HTMLCanvasElement, title: string, series: { label: string; points: XY[] }[]): Chart<"line", XY[]> {
  const foreground = themeColor("--vscode-foreground", "#cccccc");
  const grid = themeColor("--vscode-panel-border", "rgba(128,128,128,0.35)");
  return new Chart(canvas, {
    type: "line",
    data: {
      datasets: series.map((s, i) => ({ label: s.label, data: s.points, borderColor: color(i), backgroundColor: color(i), pointRadius: 0, borderWidth: 1.5, parsing: false as const })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "step", color: foreground }, ticks: { color: foreground }, grid: { color: grid } },
        y: { ticks: { color: foreground }, grid: { color: grid } },
      },
      plugins: { title: { display: false, text: title }, legend: { labels: { color: foreground, boxWidth: 12 } } },
    },
  });
}

let curriculumChart: Chart<"line", XY[]> | undefined;

export function drawCurriculum(canvas: HTMLCanvasElement, points: CurriculumPoint[]): void {
  curriculumChart?.destroy();
  curriculumChart = lineChart(canvas, "curriculum", [
    { label: "α (token CE)", points: points.map((p) => ({ x: p.step, y: p.alpha })) },
    { label: "β (structural)", points: points.map((p) => ({ x: p.step, y: p.beta })) },
  ]);
}

/** The metrics drawn, each in its own chart. */
export const CHARTED_METRICS = [
  ["loss", "Loss"],
  ["ce", "Token CE"],
  ["l_struct", "L_struct"],
  ["alpha", "α"],
  ["beta", "β"],
  ["lr", "Learning rate"],
  ["tokens_per_s", "Tokens/s"],
  ["gpu_mem_peak", "GPU memory, peak (bytes)"],
] as const;

/** One chart per metric; `runs` maps run id -> its lines, drawn as one series each. */
export class MetricCharts {
  private readonly charts = new Map<string, Chart<"line", XY[]>>();

  constructor(private readonly canvases: Map<string, HTMLCanvasElement>) {}

  draw(runs: Map<string, MetricsLine[]>): void {
    this.destroy();
    for (const [key, title] of CHARTED_METRICS) {
      const canvas = this.canvases.get(key);
      if (!canvas) continue;
      const series = [...runs.entries()].map(([runId, lines]) => ({ label: runId, points: points(lines, key) }));
      this.charts.set(key, lineChart(canvas, title, series));
    }
  }

  /** Adds the newest line of a run that is already drawn, without redrawing the others. */
  append(runId: string, line: MetricsLine): boolean {
    let drawn = false;
    for (const [key] of CHARTED_METRICS) {
      const chart = this.charts.get(key);
      const dataset = chart?.data.datasets.find((d) => d.label === runId);
      if (!chart || !dataset) continue;
      const y = line[key];
      if (typeof y === "number") dataset.data.push({ x: line.step, y });
      chart.update("none");
      drawn = true;
    }
    return drawn;
  }

  destroy(): void {
    for (const chart of this.charts.values()) chart.destroy();
    this.charts.clear();
  }
}

function points(lines: MetricsLine[], key: string): XY[] {
  return lines.flatMap((l) => {
    const y = l[key];
    return typeof y === "number" ? [{ x: l.step, y }] : [];
  });
}

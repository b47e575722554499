// The pass@1 bar chart: one group per benchmark, one bar per model, CI in the tooltip. Chart.js
// draws on a canvas, so its colors are read from VS Code's theme variables at draw time.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type Plugin, type TooltipItem } from "chart.js";
import type { ResultRowView } from "../../src/panels/evaluation/protocol";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const PALETTE = ["--vscode-charts-blue", "--vscode-charts-orange", "--vscode-charts-green", "--vscode-charts-purple", "--vscode-charts-red", "--vscode-charts-yellow"];

function themeColor(variable: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(variable).trim() || fallback;
}

export interface ChartData {
  benchmarks: string[];
  series: { label: string; values: (number | null)[]; ci: ([number, number] | null)[] }[];
}

/** Rows -> one series per model over the benchmarks; a model not run on a benchmark has no bar there. */
export function chartData(rows: ResultRowView[]): ChartData {
  const benchmarks = [...new Set(rows.map((r) => r.benchmark))];
  const models = [...new Map(rows.map((r) => [r.modelId, r.modelLabel])).entries()];
  const series = models.map(([id, label]) => {
    const cells = benchmarks.map((b) => rows.find((r) => r.modelId === id && r.benchmark === b));
    return {
      label,
      values: cells.map((c) => (c ? c.pass1.value * 100 : null)),
      ci: cells.map((c) => (c ? ([c.pass1.low * 100, c.pass1.high * 100] as [number, number]) : null)),
    };
  });
  return { benchmarks, series };
}

let chart: Chart<"bar", (number | null)[], string> | undefined;

/**
 * Each bar's value above it ("0.0%"), so a bar of 0% (drawn zero-height, a hairline) still says
 * what it is and an all-zero chart never looks broken. The labels drawn are listed on the canvas
 * (data-value-labels) for tests and screen readers.
 */
const valueLabels: Plugin<"bar"> = {
  id: "codistillValueLabels",
  afterDatasetsDraw(c) {
    const { ctx } = c;
    const drawn: string[] = [];
    ctx.save();
    ctx.fillStyle = themeColor("--vscode-foreground", "#cccccc");
    ctx.font = `11px ${getComputedStyle(document.body).fontFamily || "sans-serif"}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    c.data.datasets.forEach((dataset, i) => {
      const meta = c.getDatasetMeta(i);
      if (meta.hidden) return;
      meta.data.forEach((bar, j) => {
        const value = dataset.data[j];
        if (typeof value !== "number") return;
        const text = `${value.toFixed(1)}%`;
        const { x, y } = bar.getProps(["x", "y"], true) as { x: number; y: number };
        ctx.fillText(text, x, y - 2);
        drawn.push(`${dataset.label ?? ""}|${String(c.data.labels?.[j] ?? "")}|${text}`);
      });
    });
    ctx.restore();
    c.canvas.dataset.valueLabels = JSON.stringify(drawn);
  },
};

export function drawPassChart(canvas: HTMLCanvasElement, rows: ResultRowView[]): void {
  const data = chartData(rows);
  chart?.destroy();
  const foreground = themeColor("--vscode-foreground", "#cccccc");
  const grid = themeColor("--vscode-panel-border", "rgba(128,128,128,0.35)");
  chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.benchmarks,
      datasets: data.series.map((s, i) => ({
        label: s.label,
        data: s.values,
        backgroundColor: themeColor(PALETTE[i % PALETTE.length]!, "#3794ff"),
        // A 0% bar keeps a hairline at the axis, under its label.
        minBarLength: 2,
      })),
    },
    plugins: [valueLabels],
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      // Room above a 100% bar for its label.
      layout: { padding: { top: 16 } },
      scales: {
        y: { min: 0, max: 100, title: { display: true, text: "pass@1 (%)", color: foreground }, ticks: { color: foreground }, grid: { color: grid } },
        x: { ticks: { color: foreground }, grid: { display: false } },
      },
      plugins: {
        legend: { labels: { color: foreground } },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<"bar">) => {
              const ci = data.series[item.datasetIndex]?.ci[item.dataIndex];
              const value = (item.raw as number).toFixed(1);
              return `${item.dataset.label}: ${value}%${ci ? ` (95% CI ${ci[0].toFixed(1)}–${ci[1].toFixed(1)})` : ""}`;
            },
          },
        },
      },
    },
  });
}

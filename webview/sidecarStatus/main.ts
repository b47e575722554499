import type { SidecarStatusReplies, SidecarStatusToHost, SidecarStatusToWebview, SidecarStatusView } from "../../src/panels/sidecarStatus/protocol";
import { HostConnection, el } from "../shared/host";
import { button, dataGrid, divider, registerToolkit } from "../shared/toolkit";

registerToolkit();
const host = new HostConnection<SidecarStatusView, SidecarStatusToHost, SidecarStatusToWebview, SidecarStatusReplies>();
const app = document.getElementById("app")!;

host.on("sidecarStatus/state", (view) => {
  host.state = view;
  render(view);
});

// Show what we last knew at once; the host pushes fresh state after "ready".
if (host.state) render(host.state);
else app.replaceChildren(el("p", { className: "muted", text: "Waiting for the sidecar…" }));
host.notify("sidecarStatus/ready");

function render(view: SidecarStatusView): void {
  app.replaceChildren(
    header(view),
    ...problem(view),
    ...reported(view),
    ...sandbox(view),
    processInfo(view),
    divider(),
    history(view),
    actions(view),
  );
}

function header(view: SidecarStatusView): HTMLElement {
  return el("h1", {}, "Codistill sidecar ", el("span", { className: `state-chip state-${view.state}`, text: view.state, testId: "state" }));
}

function problem(view: SidecarStatusView): HTMLElement[] {
  if (view.launchProblem) {
    return [
      el("div", { className: "callout error", testId: "problem" },
        el("p", { text: view.launchProblem.problem }),
        el("p", { text: view.launchProblem.fix })),
    ];
  }
  if (view.lastError && view.state !== "ready") {
    const restart = view.nextRestartAt ? ` Restarting in ${Math.max(0, Math.round((view.nextRestartAt - Date.now()) / 1000))} s.` : "";
    return [el("div", { className: "callout error", testId: "last-error" }, el("pre", { text: view.lastError + restart }))];
  }
  return [];
}

function reported(view: SidecarStatusView): HTMLElement[] {
  const init = view.initialize;
  if (!init) return [el("p", { className: "muted", text: view.state === "starting" ? "Starting…" : "The sidecar has not reported yet." })];
  const pkg = (v: string | null) => v ?? "not installed";
  const versions = dataGrid(
    ["Component", "Version"],
    [
      ["Codistill sidecar", init.serverVersion],
      ["Protocol", init.protocolVersion],
      ["Python", `${init.python.version} (${init.python.executable})`],
      ["torch", pkg(init.packages.torch)],
      ["transformers", pkg(init.packages.transformers)],
      ["peft", pkg(init.packages.peft)],
    ],
    "Versions reported by the sidecar",
  );
  versions.id = "versions";
  const d = init.devices;
  const cuda = d.cuda ? `CUDA ${d.cudaVersion ?? ""} available, ${d.gpus.length} GPU(s)` : `CUDA not available${d.error ? `: ${d.error}` : ""}: training runs on the CPU`;
  const gpus = d.gpus.length
    ? [dataGrid(["#", "GPU", "Total memory", "Free memory"], d.gpus.map((g) => [String(g.index), g.name, gib(g.totalMemory), gib(g.freeMemory)]), "GPUs")]
    : [];
  const missing = init.missing.length
    ? [el("p", { className: "callout warning", testId: "missing", text: `Missing packages: ${init.missing.join(", ")}. Run "Codistill: Set Up Python Environment" to install them.` })]
    : [];
  return [el("h2", { text: "Versions" }), versions, ...missing, el("h2", { text: "Devices" }), el("p", { id: "devices", text: cuda }), ...gpus];
}

/** What keeps generated code in: the sandbox's isolation, and a warning when it is not full. */
function sandbox(view: SidecarStatusView): HTMLElement[] {
  const status = view.sandbox;
  if (!status) return [];
  const heading = el("h2", { text: "Sandbox" });
  if ("error" in status) return [heading, el("p", { className: "callout error", testId: "sandbox", text: `The sandbox could not be asked: ${status.error}` })];
  const text = `${status.isolation} (${status.level})`;
  if (status.level === "full") return [heading, el("p", { testId: "sandbox", text: `${text}: generated code cannot write outside its folder, reach the network or outlive its run.` })];
  const why = status.problems.length ? ` The kernel refused: ${status.problems.join("; ")}.` : "";
  return [
    heading,
    el("p", { className: "callout warning", testId: "sandbox", text: `${text}: weaker than full (Landlock, network and PID namespaces), so generated code may reach more of this machine.${why}` }),
  ];
}

function processInfo(view: SidecarStatusView): HTMLElement {
  const items: [string, string][] = [
    ["Process", view.pid ? `pid ${view.pid}` : "not running"],
    ["Interpreter", view.interpreter ?? "not resolved yet"],
    ["Restarts after crashes", String(view.restarts)],
  ];
  return el("dl", { id: "process" }, ...items.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, testId: k.toLowerCase().split(" ")[0] })]));
}

function history(view: SidecarStatusView): HTMLElement {
  const rows = [...view.history].reverse().map((c) =>
    el("li", { className: `state-${c.state}` }, el("time", { text: new Date(c.at).toLocaleTimeString() }), ` ${c.state}`, c.detail ? ` — ${c.detail}` : ""),
  );
  return el("section", {}, el("h2", { text: "History" }), el("ul", { id: "history", className: "history" }, ...rows));
}

function actions(view: SidecarStatusView): HTMLElement {
  const buttons = [
    button("Restart Sidecar", () => void host.request("sidecarStatus/restart")),
    button("Show Log", () => host.notify("sidecarStatus/showLog"), "secondary"),
  ];
  if (view.launchProblem || view.initialize?.missing.length) {
    buttons.unshift(button("Set Up Python Environment", () => host.notify("sidecarStatus/setUpPython")));
  }
  return el("div", { className: "actions" }, ...buttons);
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

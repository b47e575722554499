// The Runs view's pure parts: run folders' names and creation times, the two groups newest first,
// each row's context value (which menu items apply), and which Evaluation panel model a run selects.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { byNewest, deleteRunFolder, listRunFolders, runCreatedMs, writeRunInfo, type RunFolder } from "../../src/core/runs/runFolders";
import { evalModelIdOf, groupRuns, runContextValue, runDescription, type RunEntry } from "../../src/core/runs/runsView";
import type { RunSummary } from "../../src/core/training/runs";

const summary = (state: RunSummary["state"], checkpoints: number[] = []): RunSummary => ({ state, step: null, totalSteps: null, checkpoints, error: null });
const folder = (id: string, createdMs: number, name = id): RunFolder => ({ id, path: `/ws/.codistill/runs/${id}`, modifiedMs: 0, createdMs, name });

describe("run folders", () => {
  const root = mkdtempSync(join(tmpdir(), "codistill-runsview-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const runs = join(root, ".codistill", "runs");
  const make = (id: string, ageS: number) => {
    const dir = join(runs, id);
    mkdirSync(dir, { recursive: true });
    return { dir, touch: () => utimesSync(dir, Date.now() / 1000 - ageS, Date.now() / 1000 - ageS) };
  };

  it("names runs from run.json and orders them by creation, not by the folder's mtime", async () => {
    const named = make("20261126-090000-paper", 0);
    await writeRunInfo(named.dir, { name: "tiny sft 09:00", createdAt: "2026-11-26T09:00:00.000Z" });
    const manifested = make("20261126-100000-paper", 0);
    writeFileSync(join(manifested.dir, "manifest.json"), JSON.stringify({ runId: "x", createdAt: "2026-11-26T10:00:00Z", state: "finished" }));
    const stamped = make("20250101-080000", 0);
    // No run.json, manifest or stamp: its mtime, set long before the others.
    const base = make("base-tiny", 10 * 365 * 86_400);
    for (const run of [named, manifested, stamped]) run.touch();
    base.touch();
    // Evaluating the oldest run writes <run>/eval/: its mtime is now the newest, its place stays.
    mkdirSync(join(stamped.dir, "eval", "humaneval"), { recursive: true });
    const listed = await listRunFolders(root);
    assert.deepEqual(listed.map((r) => [r.id, r.name]), [
      ["20261126-100000-paper", "20261126-100000-paper"],
      ["20261126-090000-paper", "tiny sft 09:00"],
      ["20250101-080000", "20250101-080000"],
      ["base-tiny", "base-tiny"],
    ]);
    assert.equal(listed[1]!.createdMs, Date.parse("2026-11-26T09:00:00.000Z"));
  });

  it("takes run.json's time, then the manifest's, then the id's, then the mtime", () => {
    assert.equal(runCreatedMs("a", 5, "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z"), Date.parse("2026-01-01T00:00:00Z"));
    assert.equal(runCreatedMs("a", 5, undefined, "2025-01-01T00:00:00Z"), Date.parse("2025-01-01T00:00:00Z"));
    assert.equal(runCreatedMs("20261126-170512-paper", 5, "not a date", 7), new Date(2026, 10, 26, 17, 5, 12).getTime());
    assert.equal(runCreatedMs("base-tiny", 5), 5);
    assert.equal(runCreatedMs("202611261705", 5), 5, "not newRunId's stamp");
    // Ties never flip: by id, descending.
    assert.deepEqual([folder("a", 1), folder("b", 1), folder("c", 2)].sort(byNewest).map((f) => f.id), ["c", "b", "a"]);
  });

  it("a name that is not a string, or a run.json that is not JSON, falls back to the id", async () => {
    const odd = make("odd", 0);
    writeFileSync(join(odd.dir, "run.json"), JSON.stringify({ name: 3 }));
    const broken = make("broken", 0);
    writeFileSync(join(broken.dir, "run.json"), "{");
    const listed = await listRunFolders(root);
    assert.equal(listed.find((r) => r.id === "odd")?.name, "odd");
    assert.equal(listed.find((r) => r.id === "broken")?.name, "broken");
  });

  it("deletes only folders directly under .codistill/runs", async () => {
    const doomed = make("doomed", 0);
    await assert.rejects(deleteRunFolder(root, root), /is not a run folder/);
    await assert.rejects(deleteRunFolder(root, runs), /is not a run folder/);
    await assert.rejects(deleteRunFolder(root, join(runs, "doomed", "..", "..")), /is not a run folder/);
    await assert.rejects(deleteRunFolder(root, join(doomed.dir, "eval")), /is not a run folder/);
    assert.ok(existsSync(doomed.dir));
    await deleteRunFolder(root, doomed.dir);
    assert.equal(existsSync(doomed.dir), false);
  });
});

describe("the Runs view's groups", () => {
  const entries: RunEntry[] = [
    { folder: folder("base-tiny", 50), summary: summary("evaluation") },
    { folder: folder("r-old", 10, "tiny sft 08:00"), summary: summary("finished") },
    { folder: folder("r-new", 30, "tiny cots 10:00"), summary: summary("stopped", [2, 4]) },
    { folder: folder("base-other", 5), summary: summary("evaluation") },
    { folder: folder("r-mid", 20), summary: summary("failed") },
  ];

  it("puts evaluation-only folders apart from training runs, each newest first", () => {
    const groups = groupRuns(entries);
    assert.deepEqual(groups.training.map((e) => e.folder.id), ["r-new", "r-mid", "r-old"]);
    assert.deepEqual(groups.evaluations.map((e) => e.folder.id), ["base-tiny", "base-other"]);
  });

  it("gives each row the context value its menu items match on", () => {
    assert.equal(runContextValue(summary("stopped", [2])), "codistill.run.training.resumable");
    assert.equal(runContextValue(summary("failed", [2])), "codistill.run.training.resumable");
    assert.equal(runContextValue(summary("failed")), "codistill.run.training");
    assert.equal(runContextValue(summary("finished")), "codistill.run.training");
    assert.equal(runContextValue(summary("evaluation")), "codistill.run.evaluation");
  });

  it("describes a named run with its id, and selects its adapter, else its last checkpoint, for evaluation", () => {
    assert.equal(runDescription(folder("r-new", 1, "tiny cots 10:00"), { ...summary("stopped", [2, 4]), step: 4, totalSteps: 8 }), "r-new · stopped at step 4/8, 2 checkpoint(s)");
    assert.equal(runDescription(folder("base-tiny", 1), summary("evaluation")), "evaluation");
    assert.equal(evalModelIdOf(folder("r", 1), summary("finished", [2]), "base-tiny"), "r");
    assert.equal(evalModelIdOf(folder("r", 1), summary("stopped", [2, 4]), "base-tiny"), "r@step-4");
    assert.equal(evalModelIdOf(folder("r", 1), summary("started"), "base-tiny"), undefined);
    assert.equal(evalModelIdOf(folder("base-tiny", 1), summary("evaluation"), "base-tiny"), "base");
    assert.equal(evalModelIdOf(folder("base-other", 1), summary("evaluation"), "base-tiny"), undefined);
  });
});

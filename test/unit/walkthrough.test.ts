// The "Distil a reasoning teacher into a small code model" walkthrough (package.json
// contributes.walkthroughs): every step has its Markdown, and every command it links to or waits
// for is one the extension contributes.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "./helpers";

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string };
  completionEvents?: string[];
}

interface Manifest {
  contributes: { commands: { command: string }[]; walkthroughs?: { id: string; title: string; steps: Step[] }[] };
}

const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as Manifest;
const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
const walkthrough = manifest.contributes.walkthroughs?.find((w) => w.id === "codistill.demo");

/** The commands a step names: `command:` links in its description and `onCommand:` events. */
function commandsOf(step: Step): string[] {
  const links = [...step.description.matchAll(/\]\(command:([\w.-]+)/g)].map((m) => m[1]!);
  const events = (step.completionEvents ?? []).filter((e) => e.startsWith("onCommand:")).map((e) => e.slice("onCommand:".length));
  return [...links, ...events];
}

describe("the demo walkthrough", () => {
  it("is contributed, with steps", () => {
    assert.ok(walkthrough, "package.json contributes.walkthroughs has codistill.demo");
    assert.equal(walkthrough.title, "Distil a reasoning teacher into a small code model");
    assert.ok(walkthrough.steps.length >= 8);
    assert.equal(new Set(walkthrough.steps.map((s) => s.id)).size, walkthrough.steps.length, "step ids are unique");
  });

  it("has a Markdown file for every step", () => {
    for (const step of walkthrough!.steps) {
      const markdown = step.media.markdown;
      assert.ok(markdown, `${step.id}: media.markdown`);
      assert.ok(existsSync(join(REPO, markdown)), `${step.id}: ${markdown} exists`);
      assert.ok(readFileSync(join(REPO, markdown), "utf8").trim().startsWith("# "), `${step.id}: ${markdown} starts with a heading`);
    }
  });

  it("completes every step on a command, and names only contributed commands", () => {
    for (const step of walkthrough!.steps) {
      assert.ok(step.completionEvents?.some((e) => e.startsWith("onCommand:")), `${step.id}: an onCommand: completion event`);
      for (const command of commandsOf(step)) {
        assert.ok(contributed.has(command), `${step.id}: ${command} is not a contributed command`);
      }
    }
  });
});

// One implementation of the prompt format: the editor fills the templates the export writes
// (src/core/generation/promptFormat.ts), and the result must be exactly what evaluation's
// build_prompt gives for the same editor Task (evaluation/prompts.py), for a completion student
// and a chat student, code and prose, awkward texts included.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import type { PromptKind } from "../../src/core/generation/editorPrompt";
import { readPromptFormat, renderPrompt } from "../../src/core/generation/promptFormat";
import { REPO, sidecarPython } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");

const REFERENCE = String.raw`
import json, sys
from transformers import AutoTokenizer
from codistill.evaluation.prompts import build_prompt, editor_task, prompt_templates

folder, cases = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
tokenizer = AutoTokenizer.from_pretrained(folder)
out = {"templates": prompt_templates(tokenizer), "prompts": []}
for case in cases:
    prompt = build_prompt(editor_task(case["text"], case["kind"]), tokenizer)
    out["prompts"].append({"text": prompt.text, "stops": list(prompt.stops)})
json.dump(out, sys.stdout)
`;

const CASES: { kind: PromptKind; text: string }[] = [
  { kind: "code", text: 'def add(a, b):\n    """Add two numbers."""\n' },
  { kind: "code", text: "from typing import List\n\n\ndef f(xs: List[int]) -> int:\n    '''Sum of squares.\n\n    >>> f([1, 2])\n    5\n    '''\n\n\n" },
  { kind: "code", text: "    def method(self):\n        \"\"\"Indented, with «unicode» and \"\"\"\"\"\" quotes.\"\"\"" },
  { kind: "prose", text: "  write a function that reverses a string  \n" },
  { kind: "prose", text: "sort a list\nof tuples by their second item, descending\n\n" },
  { kind: "prose", text: 'Return the "n"-th prime; n starts at 1 (é, 日本).' },
];

describe("the editor's prompts equal evaluation's build_prompt", () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "codistill-prompt-parity-"));
    writeFileSync(join(dir, "cases.json"), JSON.stringify(CASES));
    const make = (out: string, ...extra: string[]) => execa(sidecarPython(), [join(REPO, "scripts", "make-tiny-model.py"), join(dir, out), ...extra], { env: { CODISTILL_DATA: DATA } });
    await Promise.all([make("plain"), make("chat", "--chat-template")]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const student of ["plain", "chat"] as const) {
    it(`${student === "plain" ? "a completion" : "a chat"} student`, async () => {
      const { stdout } = await execa(sidecarPython(), ["-c", REFERENCE, join(dir, student), join(dir, "cases.json")], { cwd: REPO });
      const reference = JSON.parse(stdout) as { templates: unknown; prompts: { text: string; stops: string[] }[] };
      const format = readPromptFormat(reference.templates, "export.json");
      assert.equal(format.format, student === "plain" ? "completion" : "chat");
      CASES.forEach((c, i) => {
        const rendered = renderPrompt(format, c.kind, c.text);
        assert.equal(rendered.text, reference.prompts[i]!.text, `case ${i} (${c.kind})`);
        // Chat answers end at the end-of-turn token, not at a stop sequence.
        assert.deepEqual(rendered.stops, student === "chat" ? [] : reference.prompts[i]!.stops, `case ${i} stops`);
      });
    });
  }
});

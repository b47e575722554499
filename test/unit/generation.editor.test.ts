import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AnswerStream, reasoningWords, splitAnswer } from "../../src/core/generation/answer";
import { NoPromptError, promptAt } from "../../src/core/generation/editorPrompt";
import { answerReplacesStub, candidateProgram, LineIndenter } from "../../src/core/generation/insertion";
import { readPromptFormat, renderPrompt } from "../../src/core/generation/promptFormat";
import { NoStudentError, resolveStudent } from "../../src/core/generation/students";

const FILE = [
  "from typing import List",
  "import math",
  "",
  "",
  "@cache",
  "def has_close_elements(numbers: List[float],",
  "                       threshold: float) -> bool:",
  '    """Check if any two numbers are closer than threshold.',
  "    >>> has_close_elements([1.0, 2.0], 0.5)",
  "    False",
  '    """',
  "",
  "",
  "class Stack:",
  "    # push an item onto the stack",
  "    # and return the new size",
  "",
  "x = 1",
];

describe("promptAt: the prompt at the cursor", () => {
  it("takes the imports, decorators, wrapped signature and docstring of the function above an empty body", () => {
    const prompt = promptAt(FILE, { line: 11, character: 0 });
    assert.equal(prompt.kind, "code");
    assert.equal(prompt.source, "docstring");
    assert.equal(prompt.text, ["from typing import List", "import math", "", "", ...FILE.slice(4, 11)].join("\n"));
    assert.deepEqual([prompt.startLine, prompt.endLine], [4, 11]);
    assert.deepEqual(prompt.insertAt, { line: 11, character: 0 });
  });

  it("works from inside the signature or docstring too", () => {
    assert.equal(promptAt(FILE, { line: 6, character: 3 }).endLine, 11);
    assert.equal(promptAt(FILE, { line: 8, character: 3 }).source, "docstring");
  });

  it("takes a comment block as prose, without its markers, keeping its indentation for the answer", () => {
    const prompt = promptAt(FILE, { line: 16, character: 4 });
    assert.equal(prompt.kind, "prose");
    assert.equal(prompt.text, "push an item onto the stack\nand return the new size");
    assert.equal(prompt.indent, "    ");
    assert.deepEqual(prompt.insertAt, { line: 16, character: 0 });
  });

  it("takes a signature without a docstring", () => {
    const prompt = promptAt(["def add(a, b):", ""], { line: 1, character: 0 });
    assert.equal(prompt.source, "signature");
    assert.equal(prompt.text, "def add(a, b):");
  });

  it("takes a selection: code as code, all-comment lines as prose", () => {
    const code = promptAt(FILE, { line: 10, character: 7 }, { start: { line: 5, character: 0 }, end: { line: 11, character: 0 } });
    assert.equal(code.kind, "code");
    assert.equal(code.source, "selection");
    assert.equal(code.text, FILE.slice(5, 11).join("\n"));
    const prose = promptAt(FILE, { line: 15, character: 9 }, { start: { line: 14, character: 0 }, end: { line: 15, character: 9 } });
    assert.equal(prose.kind, "prose");
    assert.deepEqual(prose.insertAt, { line: 16, character: 0 });
  });

  it("refuses a cursor under code that is already written, or nowhere near a prompt", () => {
    assert.throws(() => promptAt(["def f():", "    return 1", ""], { line: 2, character: 0 }), NoPromptError);
    assert.throws(() => promptAt(["x = 1", "y = 2"], { line: 1, character: 0 }), NoPromptError);
  });
});

const FORMAT = {
  format: "completion",
  addSpecialTokens: true,
  templates: { code: { before: "", after: "\n" }, prose: { before: '"""\n', after: '\n"""\n' } },
  stops: { code: ["\ndef "], prose: ["\nassert"] },
};

describe("prompt format", () => {
  it("fills the templates: code keeps its leading text and loses trailing blanks, prose is trimmed", () => {
    const format = readPromptFormat(FORMAT, "x/export.json");
    assert.deepEqual(renderPrompt(format, "code", "def f():\n    '''Doc.'''\n\n"), { text: "def f():\n    '''Doc.'''\n", addSpecialTokens: true, stops: ["\ndef "] });
    assert.equal(renderPrompt(format, "prose", "  sort a list \n").text, '"""\nsort a list\n"""\n');
  });

  it("names the field that is wrong, and says to export again when there is no prompt object", () => {
    assert.throws(() => readPromptFormat(undefined, "x/export.json"), /x\/export\.json: no "prompt" object.*export it again/);
    assert.throws(() => readPromptFormat({ ...FORMAT, format: "fim" }, "x/export.json"), /prompt\.format/);
    assert.throws(() => readPromptFormat({ ...FORMAT, templates: { code: { before: "" } } }, "x/export.json"), /prompt\.templates\.code/);
    assert.throws(() => readPromptFormat({ ...FORMAT, stops: { code: [""], prose: [] } }, "x/export.json"), /prompt\.stops\.code/);
  });
});

describe("answers: reasoning first, then code", () => {
  const completion = "    # Intent: compare pairs.\n    # Steps:\n    # 1. Loop.\n\n    for a in numbers:\n        pass\n    return False";

  it("splits a completion's leading comment block from its code", () => {
    const parts = splitAnswer(completion, "completion");
    assert.equal(parts.reasoning, "    # Intent: compare pairs.\n    # Steps:\n    # 1. Loop.\n\n");
    assert.equal(parts.code, "    for a in numbers:\n        pass\n    return False");
    assert.equal(reasoningWords(parts.reasoning), "Intent: compare pairs.\nSteps:\n1. Loop.");
  });

  it("gives the same split whatever the deltas, and passes code on before its line ends", () => {
    for (const size of [1, 2, 3, 7, 50]) {
      const stream = new AnswerStream("completion");
      let reasoning = "";
      let code = "";
      for (let i = 0; i < completion.length; i += size) {
        const parts = stream.push(completion.slice(i, i + size));
        reasoning += parts.reasoning;
        code += parts.code;
      }
      const rest = stream.end();
      assert.equal(reasoning + rest.reasoning, splitAnswer(completion, "completion").reasoning, `size ${size}`);
      assert.equal(code + rest.code, splitAnswer(completion, "completion").code, `size ${size}`);
    }
    const stream = new AnswerStream("completion");
    stream.push("# Intent: x\nret");
    assert.equal(stream.push("urn 1").code, "urn 1");
  });

  it("unwraps a chat answer's code block and drops prose around it", () => {
    const chat = "Here you go:\n```python\n# Intent: add.\ndef add(a, b):\n    return a + b\n```\nDone.";
    assert.deepEqual(splitAnswer(chat, "chat"), { reasoning: "# Intent: add.\n", code: "def add(a, b):\n    return a + b\n" });
    const stream = new AnswerStream("chat");
    assert.equal(stream.push("```python\nx = 1\n``").code, "x = 1\n");
    assert.equal(stream.push("`\ny = 2\n").code, "");
  });
});

describe("insertion", () => {
  it("indents streamed lines across deltas", () => {
    const indenter = new LineIndenter("    ");
    assert.equal(["def f(", "):\n  ", "  return 1\n", "\nx"].map((d) => indenter.push(d)).join(""), "    def f():\n        return 1\n\n    x");
  });

  it("parses a completion after its prompt, and a chat answer alone", () => {
    const prompt = promptAt(FILE, { line: 11, character: 0 });
    const { program, offset } = candidateProgram(prompt, "completion", "    return False\n");
    assert.equal(program.split("\n")[offset], "    return False");
    assert.deepEqual(candidateProgram(prompt, "chat", "def g():\n    pass\n"), { program: "def g():\n    pass\n", offset: 0 });
  });

  it("replaces the stub only when a chat answer defines the same function", () => {
    const prompt = promptAt(FILE, { line: 11, character: 0 });
    assert.equal(answerReplacesStub(prompt, "chat", "def has_close_elements(numbers, threshold):\n    return False\n", FILE), true);
    assert.equal(answerReplacesStub(prompt, "chat", "def other():\n    pass\n", FILE), false);
    assert.equal(answerReplacesStub(prompt, "completion", "def has_close_elements():\n", FILE), false);
  });
});

describe("resolveStudent", () => {
  function workspace(): string {
    const root = mkdtempSync(join(tmpdir(), "codistill-students-"));
    const base = join(root, "models", "tiny");
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, "config.json"), "{}");
    return root;
  }
  function run(root: string, id: string, { adapter = true, onnx = false, ageS = 0 } = {}): string {
    const dir = join(root, ".codistill", "runs", id);
    mkdirSync(dir, { recursive: true });
    if (adapter) {
      mkdirSync(join(dir, "adapter"));
      writeFileSync(join(dir, "adapter", "adapter_config.json"), JSON.stringify({ base_model_name_or_path: join(root, "models", "tiny") }));
    }
    if (onnx) {
      mkdirSync(join(dir, "onnx"));
      writeFileSync(join(dir, "onnx", "export.json"), "{}");
    }
    const when = Date.now() / 1000 - ageS;
    utimesSync(dir, when, when);
    return dir;
  }

  it("takes the newest exported run for onnx and the newest adapter for the sidecar", async () => {
    const root = workspace();
    const old = run(root, "old", { onnx: true, ageS: 100 });
    const latest = run(root, "new");
    assert.deepEqual(await resolveStudent("onnx", "", root), { backend: "onnx", folder: join(old, "onnx"), runId: "old" });
    assert.deepEqual(await resolveStudent("sidecar", "", root), { backend: "sidecar", model: join(root, "models", "tiny"), adapter: join(latest, "adapter"), runId: "new" });
  });

  it("says which run to export when none is exported, and to train when nothing is trained", async () => {
    const root = workspace();
    await assert.rejects(resolveStudent("onnx", "", root), (e: unknown) => e instanceof NoStudentError && /Open Training/.test(e.message) && !e.exportableRun);
    const dir = run(root, "20260101-tiny-r8");
    await assert.rejects(resolveStudent("onnx", "", root), (e: unknown) => e instanceof NoStudentError && /20260101-tiny-r8, has no ONNX export/.test(e.message) && e.exportableRun?.path === dir);
  });

  it("accepts a folder from the setting, relative to the workspace, and names a folder that is not a student", async () => {
    const root = workspace();
    const dir = run(root, "r", { onnx: true });
    assert.deepEqual(await resolveStudent("onnx", ".codistill/runs/r", root), { backend: "onnx", folder: join(dir, "onnx") });
    assert.deepEqual(await resolveStudent("sidecar", "models/tiny", root), { backend: "sidecar", model: join(root, "models", "tiny") });
    await assert.rejects(resolveStudent("onnx", "models", root), /models: no export\.json/);
  });
});

// The teacher's answer to a CoT record's sections: the tolerant parser (fences, prose, trailing
// commas, single quotes, each repair recorded), the failures a caller retries (no JSON, cut off),
// validation (intent, steps, limits, code pasted into steps), and the prompt template.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseTeacherAnswer } from "../../src/core/cot/parse";
import { promptTemplate, PromptTemplateError, renderPrompt } from "../../src/core/cot/prompt";
import { looksLikeCode, validateCot } from "../../src/core/cot/validate";
import { REPO } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");

const ANSWER = {
  intent: "Decide whether any two numbers in the list are closer than the threshold.",
  steps: ["Compare every pair of distinct positions.", "Return True as soon as a pair is closer than the threshold.", "Return False when no pair is."],
  formulas: ["|a - b| < threshold"],
  edgeCases: ["an empty list", "a list of one number"],
  code: "def has_close_elements(numbers, threshold):\n    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for j, b in enumerate(numbers) if i != j)\n",
};

function parsed(raw: string) {
  const result = parseTeacherAnswer(raw);
  assert.ok(result.ok, `expected a parse: ${result.ok ? "" : result.message}`);
  return result;
}

describe("parsing the teacher's answer", () => {
  it("takes plain JSON as it is, with no problems", () => {
    const result = parsed(JSON.stringify(ANSWER));
    assert.deepEqual(result.value, ANSWER);
    assert.deepEqual(result.problems, []);
  });

  it("takes the JSON out of a code fence and the prose around it, and says so", () => {
    const result = parsed(`Sure! Here is the reasoning:\n\n\`\`\`json\n${JSON.stringify(ANSWER, null, 2)}\n\`\`\`\n\nLet me know if you need more.`);
    assert.deepEqual(result.value, ANSWER);
    assert.deepEqual(result.problems, ["removed a json code fence around the JSON"]);
    const prose = parsed(`The answer: ${JSON.stringify(ANSWER)} Hope it helps.`);
    assert.deepEqual(prose.problems, ["ignored the prose around the JSON object"]);
  });

  it("repairs trailing commas and single quotes, and records each repair", () => {
    const raw = `{'intent': 'Sum the list.', 'steps': ['Add each number to a running total.', 'Return the total.',], 'formulas': ["total = Σ x"], 'edgeCases': ['an empty list gives 0', "it's fine with \\"quotes\\""],}`;
    const result = parsed(raw);
    assert.equal(result.value.intent, "Sum the list.");
    assert.deepEqual(result.value.steps, ["Add each number to a running total.", "Return the total."]);
    assert.deepEqual(result.value.edgeCases, ["an empty list gives 0", 'it\'s fine with "quotes"']);
    assert.deepEqual(result.problems, ["replaced single-quoted strings with double-quoted ones", "removed trailing commas"]);
  });

  it("braces inside strings do not end the object", () => {
    const answer = { ...ANSWER, formulas: ["{x | x in S} has size |S|"], steps: ["Build a dict {key: count}."] };
    assert.deepEqual(parsed(`prefix ${JSON.stringify(answer)} suffix {not json}`).value, answer);
  });

  it("an answer without JSON, a cut-off one and broken JSON are failures of their own kind", () => {
    const none = parseTeacherAnswer("I cannot help with that.");
    assert.equal(none.ok, false);
    assert.equal(!none.ok && none.kind, "no-json");
    const cut = parseTeacherAnswer(JSON.stringify(ANSWER).slice(0, 120));
    assert.equal(!cut.ok && cut.kind, "truncated");
    const broken = parseTeacherAnswer('{"intent": "x" "steps": []}');
    assert.equal(!broken.ok && broken.kind, "malformed");
    assert.match(!broken.ok ? broken.message : "", /^not valid JSON/);
    const list = parseTeacherAnswer("```json\n{\"a\": [1, 2]}\n```");
    assert.ok(list.ok);
  });
});

describe("validating the sections", () => {
  it("a complete answer is valid; the code becomes teacherCode without its fence", () => {
    const result = validateCot({ ...ANSWER, code: `\`\`\`python\n${ANSWER.code}\`\`\`` });
    assert.equal(result.status, "valid");
    assert.equal(result.sections.teacherCode, ANSWER.code.trimEnd());
    assert.deepEqual(result.problems, ["code: removed its code fence"]);
    assert.deepEqual(result.sections.steps, ANSWER.steps);
  });

  it("no intent or no step is invalid, with the field named; parser repairs come along", () => {
    const result = validateCot({ intent: "  ", steps: [] }, ["removed trailing commas"]);
    assert.equal(result.status, "invalid");
    assert.deepEqual(result.problems, ["intent: expected a non-empty string", "steps: expected at least one step", "removed trailing commas", "formulas: missing, taken as []", "edgeCases: missing, taken as []"]);
    assert.deepEqual(validateCot({ steps: ["x"] }).problems.slice(0, 1), ["intent: missing"]);
  });

  it("solution code pasted into a step is invalid; prose with an inline expression is not", () => {
    const pasted = validateCot({ ...ANSWER, steps: ["Loop over pairs.", "def has_close_elements(numbers, threshold):\n    ...", "Done."] });
    assert.equal(pasted.status, "invalid");
    assert.deepEqual(pasted.problems, ['steps[1]: holds solution code; a step explains, the code goes in "code"']);
    assert.ok(looksLikeCode("```python\nx = 1\n```"));
    assert.ok(looksLikeCode("for i in range(n):\n    for j in range(i):\n        if a[i] == a[j]:\n            return True"));
    assert.ok(!looksLikeCode("Keep a running total: total += x for every x."));
    assert.ok(!looksLikeCode("Sort the numbers.\nThen compare neighbours:\nthe closest pair is adjacent."));
  });

  it("length limits, a string for a list, and items that are not strings", () => {
    const result = validateCot({ intent: "x".repeat(50), steps: "Only one step.", formulas: [1, "", "a + b"], edgeCases: ["y".repeat(30)] }, [], { maxIntentChars: 40, maxItems: 40, maxItemChars: 20, maxTotalChars: 1000 });
    assert.equal(result.status, "invalid");
    assert.deepEqual(result.sections.steps, ["Only one step."]);
    assert.deepEqual(result.sections.formulas, ["a + b"]);
    assert.deepEqual(result.problems, [
      "intent: 50 characters, more than 40",
      "edgeCases[0]: 30 characters, more than 20",
      "steps: a string, taken as a list of one",
      "formulas[0]: not a string, dropped",
      "formulas[1]: empty, dropped",
    ]);
  });
});

describe("the prompt template", () => {
  const defaultTemplate = () => promptTemplate(readFileSync(join(REPO, "media", "cot-prompt.md"), "utf8"), "media/cot-prompt.md");
  const humanEval0 = () => {
    const row = JSON.parse(readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").split("\n")[0]!) as { task_id: string; prompt: string; entry_point: string; canonical_solution: string };
    return { id: row.task_id, prompt: row.prompt, entryPoint: row.entry_point, solution: row.prompt + row.canonical_solution };
  };

  it("renders the shipped template for a real task, blind and rationalize, and hashes it", () => {
    const template = defaultTemplate();
    assert.match(template.hash, /^sha256:[0-9a-f]{64}$/);
    const task = humanEval0();
    const [system, blind] = renderPrompt(template, task, "blind");
    assert.equal(system!.role, "system");
    assert.match(system!.content, /one JSON object/);
    assert.ok(blind!.content.includes(task.prompt.trimEnd()));
    assert.match(blind!.content, /defining `has_close_elements`/);
    assert.ok(!blind!.content.includes("reference solution"), "blind mode shows no solution");
    const [, rationalize] = renderPrompt(template, task, "rationalize");
    assert.ok(rationalize!.content.includes("A correct reference solution"));
    assert.ok(rationalize!.content.includes("distance = abs(elem - elem2)"));
    assert.doesNotMatch(rationalize!.content, /\{\{/);
  });

  it("an edited template changes the hash; bad templates are named with their line", () => {
    const base = defaultTemplate();
    assert.notEqual(promptTemplate(`${base.text}\nThink carefully.\n`, "mine.md").hash, base.hash);
    assert.throws(() => promptTemplate("=== user ===\nx\n", "a.md"), /a\.md: expected a "=== system ===" line, then a "=== user ===" line/);
    assert.throws(() => promptTemplate("=== system ===\ns\n=== user ===\n{{task}}\n", "b.md"), /b\.md:4: unknown placeholder \{\{task\}\}/);
    assert.throws(() => promptTemplate("=== system ===\ns\n=== user ===\n{{#blind}}x\n", "c.md"), /c\.md:4: \{\{#blind\}\} is never closed/);
    assert.throws(() => promptTemplate("=== system ===\ns\n=== user ===\n{{#blind}}x{{/rationalize}}\n", "d.md"), /d\.md:4: \{\{\/rationalize\}\} closes \{\{#blind\}\} of line 4/);
    assert.throws(() => renderPrompt(base, { id: "t/1", prompt: "p" }, "rationalize"), (err: Error) => err instanceof PromptTemplateError && /t\/1: rationalize mode needs a reference solution/.test(err.message));
  });

  it("a task whose text looks like a heading or a placeholder is inserted as it is", () => {
    const [, user] = renderPrompt(defaultTemplate(), { id: "x", prompt: "=== user ===\nuse {{solution}} literally" }, "blind");
    assert.ok(user!.content.includes("=== user ===\nuse {{solution}} literally"));
  });
});

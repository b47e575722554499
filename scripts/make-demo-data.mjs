// The demo workspace's own benchmark data: small, deterministic subsets of the public files,
// written to demo/data/ in the originals' formats, with demo/data/ATTRIBUTION.md.
//
//   node scripts/make-demo-data.mjs [out-dir]      (default demo/data)
//
// Reads the full files from $CODISTILL_DATA, else ../shared/data, else data/ (`npm run setup`).
// Every kept record is copied as the original bytes (same key order, escapes and numbers); the
// only edit is MBPP+'s plus_input, cut to its first PLUS_INPUTS inputs, done on the text too.
// test/unit/demoData.test.ts checks that the committed files are what this script writes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { REPO } from "./lib.mjs";

export const PLUS_INPUTS = 20;
const HUMANEVAL_TASKS = 12;
const TRAIN_TASKS = 40;
const TEST_TASKS = 12;
/** MBPP's test split (Austin et al. 2021): tasks 11..510. 1..10 are few-shot prompts, 511..600 validation, 601..974 train. */
const isTestTask = (id) => id >= 11 && id <= 510;

function dataFolder() {
  if (process.env.CODISTILL_DATA) return resolve(process.env.CODISTILL_DATA);
  for (const candidate of [join(REPO, "..", "shared", "data"), join(REPO, "data")]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no benchmark data: set CODISTILL_DATA, or run `npm run setup` (it fetches data/)");
}

// ---- a JSON text scanner: where values start and end, without re-serializing anything ----

const WHITESPACE = " \t\r\n";

function skipWhitespace(text, i) {
  while (i < text.length && WHITESPACE.includes(text[i])) i++;
  return i;
}

function endOfString(text, i) {
  for (i++; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  throw new Error("unterminated string");
}

function endOfValue(text, i) {
  if (text[i] === '"') return endOfString(text, i);
  if (text[i] === "{" || text[i] === "[") return parts(text, i).end;
  // number, true, false, null (and the NaN / Infinity that EvalPlus files hold)
  let j = i;
  while (j < text.length && !",]}".includes(text[j]) && !WHITESPACE.includes(text[j])) j++;
  if (j === i) throw new Error(`no JSON value at offset ${i}`);
  return j;
}

/**
 * The members of the object or array that starts at text[i]: for each, where it starts, its key
 * (objects), where its value starts and where it ends; and `end`, just after the closing bracket.
 */
function parts(text, i) {
  const close = text[i] === "{" ? "}" : "]";
  const members = [];
  let j = skipWhitespace(text, i + 1);
  if (text[j] === close) return { members, end: j + 1 };
  for (;;) {
    const start = j;
    let key;
    if (close === "}") {
      const keyEnd = endOfString(text, j);
      key = JSON.parse(text.slice(j, keyEnd));
      j = skipWhitespace(text, keyEnd);
      if (text[j] !== ":") throw new Error(`expected ":" at offset ${j}`);
      j = skipWhitespace(text, j + 1);
    }
    const valueStart = j;
    j = endOfValue(text, j);
    members.push({ start, key, valueStart, end: j });
    j = skipWhitespace(text, j);
    if (text[j] === ",") j = skipWhitespace(text, j + 1);
    else if (text[j] === close) return { members, end: j + 1 };
    else throw new Error(`expected "," or "${close}" at offset ${j}`);
  }
}

/** A top-level field of the JSON object `text`, parsed (only for simple values such as ids). */
function field(text, name) {
  const member = parts(text, 0).members.find((m) => m.key === name);
  if (!member) throw new Error(`record without "${name}": ${text.slice(0, 80)}…`);
  return JSON.parse(text.slice(member.valueStart, member.end));
}

function arrayLength(text, name) {
  const member = parts(text, 0).members.find((m) => m.key === name);
  return parts(text, member.valueStart).members.length;
}

/** The object `text` with the array in its field `name` cut to its first `keep` elements. */
function truncateArray(text, name, keep) {
  const member = parts(text, 0).members.find((m) => m.key === name);
  if (!member || text[member.valueStart] !== "[") throw new Error(`record without a "${name}" array`);
  const array = parts(text, member.valueStart);
  if (array.members.length <= keep) return text;
  const last = array.members[array.members.length - 1];
  return text.slice(0, array.members[keep - 1].end) + text.slice(last.end);
}

// ---- the file formats: JSON lines, and one JSON array (sanitized-mbpp.json) ----

function jsonLines(buffer) {
  const text = buffer.toString("utf8");
  if (!text.endsWith("\n") || text.includes("\r\n")) throw new Error("expected JSON lines ending in \\n");
  return text.slice(0, -1).split("\n");
}

const writeJsonLines = (lines) => `${lines.join("\n")}\n`;

/** A JSON array's records as their own text, and how the file joins them (to write a subset alike). */
function jsonArray(buffer) {
  const text = buffer.toString("utf8");
  const start = skipWhitespace(text, 0);
  const { members, end } = parts(text, start);
  if (members.length < 2) throw new Error("expected a JSON array of records");
  const separators = new Set(members.slice(1).map((m, k) => text.slice(members[k].end, m.start)));
  if (separators.size !== 1) throw new Error("the array's records are not evenly separated");
  return {
    records: members.map((m) => text.slice(m.start, m.end)),
    write: (records) => text.slice(0, members[0].start) + records.join([...separators][0]) + text.slice(members.at(-1).end, end) + text.slice(end),
  };
}

function expectRows(what, rows, count) {
  if (rows.length !== count) throw new Error(`${what}: ${rows.length} rows, expected ${count} (not the release SOURCES.md names?)`);
}

// ---- the subsets ----

export function makeDemoData(source, out) {
  const read = (path) => readFileSync(join(source, path));

  const humaneval = jsonLines(read("humaneval/HumanEval.jsonl"));
  expectRows("HumanEval.jsonl", humaneval, 164);
  const humanevalIds = Array.from({ length: HUMANEVAL_TASKS }, (_, k) => `HumanEval/${k}`);
  const humanevalKept = humaneval.filter((line) => humanevalIds.includes(field(line, "task_id")));

  const plus = jsonLines(gunzipSync(read("evalplus/MbppPlus-v0.2.0.jsonl.gz")));
  expectRows("MbppPlus-v0.2.0.jsonl.gz", plus, 378);
  const plusById = new Map(plus.map((line) => [Number(field(line, "task_id").replace(/^Mbpp\//, "")), line]));

  const mbpp = jsonLines(read("mbpp/mbpp.jsonl"));
  expectRows("mbpp.jsonl", mbpp, 974);
  const mbppKept = mbpp.filter((line) => isTestTask(field(line, "task_id")) && plusById.has(field(line, "task_id"))).slice(0, TEST_TASKS);
  const testIds = mbppKept.map((line) => field(line, "task_id"));
  const plusKept = testIds.map((id) => truncateArray(plusById.get(id), "plus_input", PLUS_INPUTS));
  const plusInputs = testIds.map((id) => arrayLength(plusById.get(id), "plus_input"));

  const sanitized = jsonArray(read("mbpp/sanitized-mbpp.json"));
  expectRows("sanitized-mbpp.json", sanitized.records, 427);
  const trainKept = sanitized.records.filter((record) => !isTestTask(field(record, "task_id"))).slice(0, TRAIN_TASKS);
  const trainIds = trainKept.map((record) => field(record, "task_id"));


  const files = {
    "humaneval.jsonl": writeJsonLines(humanevalKept),
    "mbpp-train.json": sanitized.write(trainKept),
    "mbpp.jsonl": writeJsonLines(mbppKept),
    "mbpp-plus.jsonl": writeJsonLines(plusKept),
    "ATTRIBUTION.md": attribution({ humanevalIds, trainIds, testIds, plusInputs }),
  };
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
  return Object.keys(files);
}

/** "2-4, 6-9, 554" */
function ranges(ids) {
  const out = [];
  for (let k = 0; k < ids.length; ) {
    let m = k;
    while (m + 1 < ids.length && ids[m + 1] === ids[m] + 1) m++;
    out.push(m > k ? `${ids[k]}-${ids[m]}` : `${ids[k]}`);
    k = m + 1;
  }
  return out.join(", ");
}

function attribution({ humanevalIds, trainIds, testIds, plusInputs }) {
  const trimmed = testIds.map((id, k) => `Mbpp/${id} (${plusInputs[k]} → ${Math.min(plusInputs[k], PLUS_INPUTS)})`).join(", ");
  return `# Demo data: sources and licenses

The files in this folder are small subsets of public code-generation benchmarks, made by
\`node scripts/make-demo-data.mjs\` from the full files (\`npm run setup\` fetches those into
\`data/\` at the repository root; \`scripts/fetch-data.mjs\` lists where they are downloaded from).
Each kept record is the original record byte for byte (same fields, key order, escapes and
numbers) unless stated below.

| file | origin (repository, path, commit) | license | rows taken |
|---|---|---|---|
| humaneval.jsonl | openai/human-eval, data/HumanEval.jsonl.gz (gunzipped), 463c980b | MIT | ${humanevalIds.length}: ${humanevalIds[0]} … ${humanevalIds.at(-1)} |
| mbpp-train.json | google-research/google-research, mbpp/sanitized-mbpp.json, 30adf0ec | CC-BY-4.0 | ${trainIds.length}: the first ${trainIds.length} records outside MBPP's test split (task_id 11-510): task_id ${ranges(trainIds)} |
| mbpp.jsonl | google-research/google-research, mbpp/mbpp.jsonl, 2251e8c6 | CC-BY-4.0 | ${testIds.length}: the first ${testIds.length} test-split tasks (task_id 11-510) that MBPP+ also has: task_id ${ranges(testIds)} |
| mbpp-plus.jsonl | evalplus/mbppplus_release, MbppPlus.jsonl.gz (release v0.2.0, gunzipped), 64fc4195 | Apache-2.0 (derived from MBPP, CC-BY-4.0) | the same ${testIds.length} tasks: ${testIds.map((id) => `Mbpp/${id}`).join(", ")}; **modified**, see below |

## Changes

- Only the rows above were kept; files hold them in the originals' order and format
  (JSON lines; \`mbpp-train.json\` is one JSON array like \`sanitized-mbpp.json\`).
- \`mbpp-plus.jsonl\` is not compressed (the original is gzipped), and each task's \`plus_input\`
  is cut to its first ${PLUS_INPUTS} inputs so that evaluating the demo is fast; every other field is
  unchanged. Inputs before → after: ${trimmed}.
  Scores on this file are not MBPP+ scores.

## HumanEval (humaneval.jsonl): MIT License

From "Evaluating Large Language Models Trained on Code" (Chen et al., 2021),
https://github.com/openai/human-eval.

    The MIT License

    Copyright (c) 2021 OpenAI

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in
    all copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.

## MBPP (mbpp.jsonl, mbpp-train.json): CC-BY-4.0

Austin et al., Program Synthesis with Large Language Models, 2021 (arXiv:2108.07732),
https://github.com/google-research/google-research/tree/master/mbpp. The dataset is licensed
under the Creative Commons Attribution 4.0 International License,
https://creativecommons.org/licenses/by/4.0/ (the repository's code is Apache-2.0).
Changes: subsets only, as listed above.

## MBPP+ (mbpp-plus.jsonl): Apache-2.0

EvalPlus, "Is Your Code Generated by ChatGPT Really Correct? Rigorous Evaluation of Large Language
Models for Code Generation" (Liu et al., NeurIPS 2023), https://github.com/evalplus/evalplus,
released at https://github.com/evalplus/mbppplus_release under the Apache License 2.0,
https://www.apache.org/licenses/LICENSE-2.0. Its tasks derive from MBPP (above, CC-BY-4.0).
Changes: a subset, decompressed, with plus_input trimmed as described above.
`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const source = dataFolder();
  const out = resolve(process.argv[2] ?? join(REPO, "demo", "data"));
  const written = makeDemoData(source, out);
  console.log(`demo data from ${source} → ${out}: ${written.join(", ")}`);
}

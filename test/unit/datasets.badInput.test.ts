// Bad input never crashes and never drops a row silently: each case is a real file written in a
// temp dir, and the loader names the file, the line or row, and the field, and keeps the good rows.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, describe, it } from "node:test";
import { detectFormat, openDataset, serializeTask, type Rejection } from "../../src/core/datasets/index";
import { REPO, sidecarPython } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const FIXTURES = join(REPO, "test", "fixtures", "datasets");
const tmp = mkdtempSync(join(tmpdir(), "codistill-bad-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const mbppLines = readFileSync(join(DATA, "mbpp", "mbpp.jsonl"), "utf8").trim().split("\n");
const mbppRow = (i: number) => JSON.parse(mbppLines[i]!) as Record<string, unknown>;

function write(name: string, content: string | Buffer): string {
  const file = join(tmp, name);
  writeFileSync(file, content);
  return file;
}

async function load(file: string, format?: Parameters<typeof openDataset>[1] extends infer O ? O : never) {
  const dataset = await openDataset(file, format);
  const result = { rows: dataset.summaries.map((s) => s.id), rejected: [...dataset.rejected] as Rejection[], dataset };
  return result;
}

/** Writes a Parquet file with pyarrow (the sidecar venv); `rows` become string columns. */
function writeParquet(name: string, script: string): string {
  const file = join(tmp, name);
  execFileSync(sidecarPython(), ["-c", `import pyarrow as pa, pyarrow.parquet as pq, json, sys\npath = sys.argv[1]\n${script}`, file]);
  return file;
}

describe("JSONL rows that cannot be mapped", () => {
  it("malformed JSON, missing and wrong-typed fields, invalid UTF-8, non-objects: rejected by line and field; good rows load", async () => {
    const missing = mbppRow(1);
    delete missing.text;
    const wrongType = { ...mbppRow(2), test_list: "assert f(1) == 2" };
    const badUtf8 = Buffer.concat([Buffer.from(mbppLines[3]!.slice(0, 20)), Buffer.from([0xff, 0xfe]), Buffer.from(mbppLines[3]!.slice(20))]);
    const emptyTests = { ...mbppRow(4), test_list: [] };
    const content = Buffer.concat([
      Buffer.from(`${mbppLines[0]}\n`),
      Buffer.from(`${JSON.stringify(missing)}\n`),
      Buffer.from(`${JSON.stringify(wrongType)}\n`),
      badUtf8,
      Buffer.from("\n{\"text\": \"cut off\", \"code\": \n"),
      Buffer.from("\n   \n"),
      Buffer.from('["an", "array"]\n'),
      Buffer.from(`${JSON.stringify(emptyTests)}\n`),
      Buffer.from(`${mbppLines[5]}`),
    ]);
    const file = write("mixed.jsonl", content);
    const { rows, rejected, dataset } = await load(file, { format: "mbpp" });
    assert.deepEqual(rows, ["mbpp/1", "mbpp/6"]);
    assert.deepEqual(rejected, [
      { where: `${file}:2`, field: "text", reason: "missing" },
      { where: `${file}:3`, field: "test_list", reason: "expected a list of strings, got string" },
      { where: `${file}:4`, reason: "invalid UTF-8 at byte 21 of the line" },
      { where: `${file}:5`, reason: rejected[3]!.reason },
      { where: `${file}:8`, reason: "expected a JSON object, got array" },
      { where: `${file}:9`, field: "test_list", reason: "empty" },
    ]);
    assert.match(rejected[3]!.reason, /^malformed JSON: /);
    // The good rows read back after the bad ones.
    assert.equal((await dataset.task(1)).id, "mbpp/6");
    await dataset.close();
  });

  it("TACO rows: inputs without outputs, arguments that are not lists, solutions that are not strings", async () => {
    const base = JSON.parse(readFileSync(join(FIXTURES, "taco-fixture.jsonl"), "utf8").split("\n")[9]!) as Record<string, unknown>;
    const io = JSON.parse(base.input_output as string) as { fn_name: string; inputs: unknown[]; outputs: unknown[] };
    const rows = [
      { ...base, input_output: JSON.stringify({ ...io, outputs: io.outputs.slice(1) }) },
      { ...base, input_output: JSON.stringify({ ...io, inputs: [io.inputs[0], 5, io.inputs[2]] }) },
      { ...base, solutions: JSON.stringify(["print(1)", 42]) },
      { ...base, solutions: "[not json" },
      { ...base, question: 17 },
      { ...base, tags: "['unterminated" },
      base,
    ];
    const file = write("taco-bad.jsonl", rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const { rows: ids, rejected, dataset } = await load(file);
    await dataset.close();
    assert.equal(dataset.format, "taco");
    assert.deepEqual(ids, ["taco/6"]);
    assert.deepEqual(
      rejected.map((r) => [r.where, r.field]),
      [
        [`${file}:1`, "input_output.outputs"],
        [`${file}:2`, "input_output.inputs[1]"],
        [`${file}:3`, "solutions[1]"],
        [`${file}:4`, "solutions"],
        [`${file}:5`, "question"],
        [`${file}:6`, "tags"],
      ],
    );
    assert.equal(rejected[0]!.reason, "3 inputs but 2 outputs");
    assert.equal(rejected[1]!.reason, "expected an argument list, got number");
    assert.match(rejected[3]!.reason, /^not valid JSON: /);
  });

  it("MBPP+ rows with inputs and atol as JSON strings load like the originals; a non-list input is rejected", async () => {
    const lines = readFileSync(join(FIXTURES, "golden", "..", "mbppplus-slice.jsonl.gz")) ;
    const original = (await import("node:zlib")).gunzipSync(lines).toString("utf8").trim().split("\n")[0]!;
    const row = JSON.parse(original) as Record<string, unknown>;
    const asStrings = { ...row, base_input: JSON.stringify(row.base_input), plus_input: JSON.stringify(row.plus_input), atol: JSON.stringify(row.atol) };
    const bad = { ...row, task_id: "Mbpp/999999", base_input: [[1], 2] };
    const file = write("mbppplus.jsonl", [original, JSON.stringify(asStrings).replace('"Mbpp/2"', '"Mbpp/2b"'), JSON.stringify(bad)].join("\n") + "\n");
    const { rows, rejected, dataset } = await load(file, { format: "mbpp+" });
    const [a, b] = [await dataset.task(0), await dataset.task(1)];
    await dataset.close();
    assert.deepEqual(rows, ["Mbpp/2", "Mbpp/2b"]);
    assert.equal(serializeTask({ ...b, id: a.id }), serializeTask(a));
    assert.deepEqual(rejected, [{ where: `${file}:3`, field: "base_input[1]", reason: "expected an argument list, got number" }]);
  });

  it("normalized Task JSONL: an unknown key, a bad test kind, a duplicate id", async () => {
    const golden = readFileSync(join(FIXTURES, "golden", "humaneval-slice.tasks.jsonl"), "utf8").trim().split("\n");
    const first = JSON.parse(golden[0]!) as Record<string, unknown>;
    const lines = [golden[0]!, JSON.stringify({ ...first, id: "x", colour: "red" }), JSON.stringify({ ...first, id: "y", tests: { kind: "exec" } }), golden[0]!, golden[1]!];
    const file = write("tasks.jsonl", lines.join("\n") + "\n");
    const { rows, rejected, dataset } = await load(file, { format: "tasks" });
    await dataset.close();
    assert.deepEqual(rows, ["HumanEval/0", "HumanEval/2"]);
    assert.deepEqual(rejected, [
      { where: `${file}:2`, field: "colour", reason: "unknown field (expected one of id, source, prompt, entryPoint, starterCode, solutions, tests, difficulty, tags, meta)" },
      { where: `${file}:3`, field: "tests.kind", reason: 'expected "assert", "call" or "stdio", got "exec"' },
      { where: `${file}:4`, field: "id", reason: 'duplicate id "HumanEval/0" (first in record 1)' },
    ]);
  });
});

describe("files that are broken as a whole", () => {
  const heGz = gzipSync(readFileSync(join(DATA, "humaneval", "HumanEval.jsonl")));

  it("a truncated gzip: the complete lines load, the cut line and the file are reported", async () => {
    const file = write("HumanEval.truncated.jsonl.gz", heGz.subarray(0, Math.floor(heGz.length / 2)));
    const { rows, rejected, dataset } = await load(file);
    await dataset.close();
    assert.equal(dataset.format, "humaneval");
    assert.ok(rows.length > 10 && rows.length < 164, `${rows.length} rows`);
    assert.deepEqual(rows, Array.from({ length: rows.length }, (_, i) => `HumanEval/${i}`));
    assert.equal(rejected.length, 2);
    assert.equal(rejected[0]!.where, file);
    assert.match(rejected[0]!.reason, /^truncated or corrupt gzip \(unexpected end of file\) after \d+ decompressed bytes; the complete lines before that are loaded$/);
    assert.equal(rejected[1]!.where, `${file}:${rows.length + 1}`);
    assert.match(rejected[1]!.reason, /^malformed JSON: .*\(the line is cut off where the gzip data ends\)$/);
  });

  it("corrupt gzip data: reported, nothing silently lost", async () => {
    const corrupt = Buffer.from(heGz);
    corrupt.fill(0x55, 2000, 2100);
    const file = write("HumanEval.corrupt.jsonl.gz", corrupt);
    const { rows, rejected, dataset } = await load(file, { format: "humaneval" });
    await dataset.close();
    assert.ok(rows.length < 164);
    assert.match(rejected[0]!.reason, /^truncated or corrupt gzip \(/);
  });

  it("empty files: a rejection with a format, a clear error without", async () => {
    for (const [name, content, format] of [
      ["empty.jsonl", "", "mbpp"],
      ["blank.jsonl", "\n  \n\n", "humaneval"],
      ["empty.parquet", "", "taco"],
      ["empty.json", "[]", "mbpp-sanitized"],
      ["empty.jsonl.gz", gzipSync(Buffer.alloc(0)), "humaneval+"],
    ] as const) {
      const file = write(name, content);
      const { rows, rejected, dataset } = await load(file, { format });
      await dataset.close();
      assert.deepEqual(rows, [], name);
      assert.equal(rejected.length, 1, name);
      assert.equal(rejected[0]!.where, file);
      assert.match(rejected[0]!.reason, /^empty (file|array): no records$/, name);
    }
    await assert.rejects(detectFormat(join(tmp, "empty.jsonl")), /cannot tell the format of .*empty\.jsonl: it has no readable record/);
    await assert.rejects(openDataset(join(tmp, "empty.jsonl")), /cannot tell the format/);
  });

  it("a JSON array that does not parse: the file is reported with line and column", async () => {
    const text = readFileSync(join(FIXTURES, "sanitized-mbpp-slice.json"), "utf8");
    const file = write("sanitized-cut.json", text.slice(0, text.length - 40));
    const { rows, rejected, dataset } = await load(file, { format: "mbpp-sanitized" });
    await dataset.close();
    assert.deepEqual(rows, []);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!.reason, /^malformed JSON at line \d+ column \d+: .*; a JSON array cannot be read in part$/);
    const items = JSON.parse(text) as unknown[];
    const mixed = write("sanitized-mixed.json", JSON.stringify([items[0], "not a record", items[1]]));
    const second = await load(mixed, { format: "mbpp-sanitized" });
    await second.dataset.close();
    assert.deepEqual(second.rows, ["mbpp/2", "mbpp/3"]);
    assert.deepEqual(second.rejected, [{ where: `${mixed}[1]`, reason: "expected a JSON object, got string" }]);
  });

  it("a file that is not JSON at all, and a file named .parquet that is not Parquet", async () => {
    const text = write("notes.jsonl", "hello\nworld\n");
    await assert.rejects(detectFormat(text), /no readable record/);
    const notes = await load(text, { format: "mbpp" });
    await notes.dataset.close();
    assert.equal(notes.rejected.length, 2);
    const fake = write("fake.parquet", Buffer.concat([Buffer.from("PAR1"), Buffer.alloc(100, 7), Buffer.from("PAR1")]));
    const { rows, rejected, dataset } = await load(fake, { format: "taco" });
    await dataset.close();
    assert.deepEqual(rows, []);
    assert.match(rejected[0]!.reason, /^not a readable Parquet file: /);
  });
});

describe("Parquet files", () => {
  it("a Parquet file with other columns: each missing column named with the columns it has", async () => {
    const file = writeParquet("other.parquet", `pq.write_table(pa.table({"title": ["a", "b"], "body": ["x", "y"]}), path)`);
    const { rows, rejected, dataset } = await load(file, { format: "taco" });
    await dataset.close();
    assert.deepEqual(rows, []);
    assert.deepEqual(rejected, ["question", "solutions", "input_output"].map((field) => ({ where: file, field, reason: `no column "${field}"; the file has columns: title, body` })));
    await assert.rejects(detectFormat(file), /cannot tell the format of .*other\.parquet from its fields \(title, body\)/);
  });

  it("bad values in Parquet rows: wrong JSON, invalid UTF-8; good rows load, an unknown column is ignored", async () => {
    const file = writeParquet(
      "taco-bad.parquet",
      `good = pq.read_table(${JSON.stringify(join(FIXTURES, "taco-fixture.parquet"))}).slice(0, 3).to_pylist()
good[1]["input_output"] = "{broken"
rows = good
table = pa.Table.from_pylist(rows, schema=pq.read_schema(${JSON.stringify(join(FIXTURES, "taco-fixture.parquet"))}))
# Invalid UTF-8 in a string column: pyarrow writes the bytes it is given without checking them.
question = table.column("question").combine_chunks()
offsets, data = question.buffers()[1], question.buffers()[2].to_pybytes()
data = data.replace(b"The city park", b"The \\xff\\xfe\\xfd\\xfc park", 1)
question = pa.Array.from_buffers(pa.string(), len(question), [None, offsets, pa.py_buffer(data)])
table = table.set_column(0, "question", question)
difficulty = pa.array([1, 2, 3], pa.int64())
pq.write_table(table.append_column("extra", difficulty), path)`,
    );
    const { rows, rejected, dataset } = await load(file, { format: "taco" });
    await dataset.close();
    assert.deepEqual(rows, ["taco/2"]);
    assert.deepEqual(rejected, [
      { where: `${file} row 0`, field: "question", reason: "invalid UTF-8 at byte 5" },
      { where: `${file} row 1`, field: "input_output", reason: rejected[1]!.reason },
    ]);
    assert.match(rejected[1]!.reason, /^not valid JSON: /);
  });

  it("column types: solutions as a list<string> column load, a question of integers is rejected row by row", async () => {
    const fixture = JSON.stringify(join(FIXTURES, "taco-fixture.parquet"));
    const lists = writeParquet(
      "taco-lists.parquet",
      `t = pq.read_table(${fixture}).slice(0, 2)
sols = pa.array([json.loads(s) for s in t.column("solutions").to_pylist()], pa.list_(pa.string()))
pq.write_table(t.set_column(1, "solutions", sols), path)`,
    );
    const listed = await load(lists, { format: "taco" });
    const fromLists = await listed.dataset.task(0);
    await listed.dataset.close();
    const original = await openDataset(join(FIXTURES, "taco-fixture.parquet"));
    assert.equal(serializeTask(fromLists), serializeTask(await original.task(0)));
    await original.close();
    const ints = writeParquet(
      "taco-int-question.parquet",
      `t = pq.read_table(${fixture}).slice(0, 2)
pq.write_table(t.set_column(0, "question", pa.array([1, 2], pa.int64())), path)`,
    );
    const { rows, rejected, dataset } = await load(ints, { format: "taco" });
    await dataset.close();
    assert.deepEqual(rows, []);
    assert.deepEqual(rejected, [0, 1].map((i) => ({ where: `${ints} row ${i}`, field: "question", reason: "expected a string, got bigint" })));
  });
});

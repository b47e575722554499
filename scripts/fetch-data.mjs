// The public benchmark files the demo workspace browses, into data/ (not committed).
// Copied from $CODISTILL_DATA (default ../shared/data) when that folder exists, else
// downloaded from where SOURCES.md says they come from. Full TACO (several GB of Parquet on
// the Hugging Face hub, BAAI/TACO) is left to the user: `codistill.yaml` can point at it.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { REPO, step } from "./lib.mjs";

const DATA = join(REPO, "data");
const SHARED = resolve(process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data"));

const FILES = [
  { path: "humaneval/HumanEval.jsonl", url: "https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz", gunzip: true },
  { path: "mbpp/mbpp.jsonl", url: "https://raw.githubusercontent.com/google-research/google-research/master/mbpp/mbpp.jsonl" },
  { path: "mbpp/sanitized-mbpp.json", url: "https://raw.githubusercontent.com/google-research/google-research/master/mbpp/sanitized-mbpp.json" },
  { path: "evalplus/HumanEvalPlus-v0.1.10.jsonl.gz", url: "https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus.jsonl.gz" },
  { path: "evalplus/MbppPlus-v0.2.0.jsonl.gz", url: "https://github.com/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz" },
];

async function download(url, gunzip) {
  const response = await fetch(url, { redirect: "follow" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const body = Buffer.from(await response.arrayBuffer());
  return gunzip ? gunzipSync(body) : body;
}

step(`Benchmark data (data/, from ${existsSync(SHARED) ? SHARED : "the public sources"})`);
let failed = 0;
for (const file of FILES) {
  const target = join(DATA, file.path);
  if (existsSync(target)) continue;
  mkdirSync(dirname(target), { recursive: true });
  const local = join(SHARED, file.path);
  try {
    if (existsSync(local)) copyFileSync(local, target);
    else writeFileSync(target, await download(file.url, file.gunzip));
    console.log(`  ${file.path}`);
  } catch (err) {
    failed++;
    console.warn(`  ${file.path}: ${err.message} (the demo workspace will list it as missing)`);
  }
}
console.log(failed ? `${failed} file(s) could not be fetched.` : `data/ is complete (${FILES.length} files).`);

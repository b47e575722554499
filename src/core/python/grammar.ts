// tree-sitter-python compiled to WebAssembly, loaded once per process for every reader of Python
// source (the TACO syntax filter, CodeBLEU, the structural diagnostics). It runs in the extension
// host and the CLI without a Python interpreter.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Language, Parser } from "web-tree-sitter";

export interface PythonGrammar {
  language: Language;
  /** A new parser for the language; callers that parse concurrently each keep their own. */
  newParser(): Parser;
}

let loading: Promise<PythonGrammar> | undefined;

/** The grammar (about 0.5 MB of WebAssembly), loaded on first use; a failed load is retried next call. */
export function pythonGrammar(): Promise<PythonGrammar> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined;
    throw new Error(`could not load the Python grammar (tree-sitter-python.wasm): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  return loading;
}

/**
 * The two .wasm files: from node_modules when running from source or tests, or next to the
 * bundle when the extension or CLI is packaged with them copied beside dist/*.js.
 */
function wasmPath(specifier: string, fileName: string): string {
  const here = typeof __filename === "string" ? __filename : import.meta.url;
  try {
    return createRequire(here).resolve(specifier);
  } catch {
    const beside = join(typeof __dirname === "string" ? __dirname : dirname(process.argv[1] ?? "."), fileName);
    if (existsSync(beside)) return beside;
    throw new Error(`cannot find ${specifier} (looked in node_modules and at ${beside})`);
  }
}

async function load(): Promise<PythonGrammar> {
  const runtime = wasmPath("web-tree-sitter/tree-sitter.wasm", "tree-sitter.wasm");
  await Parser.init({ locateFile: () => runtime });
  const language = await Language.load(wasmPath("tree-sitter-python/tree-sitter-python.wasm", "tree-sitter-python.wasm"));
  return {
    language,
    newParser() {
      const parser = new Parser();
      parser.setLanguage(language);
      return parser;
    },
  };
}

// "Parses as Python 3", the filter the paper applies to TACO (25,443 rows -> 18,360 Python tasks),
// with tree-sitter-python compiled to WebAssembly so it runs in the extension host without a
// Python interpreter. tree-sitter-python is error-tolerant and also accepts Python 2, so a
// solution passes when its tree has no ERROR or MISSING node, no empty block (which Python
// rejects as "expected an indented block"), and none of the Python-2-only constructs the grammar
// tolerates: print and exec statements, `<>`, `raise E, msg`, `except E, e:`, tuple parameters,
// backtick repr, long-integer suffixes (10L) and old octal literals (0777).
import { Query, type Node } from "web-tree-sitter";
import { pythonGrammar } from "../python/grammar";
import { DatasetError, errorMessage } from "./errors";

const REJECT_QUERY = `
(MISSING) @reject
(print_statement) @py2
(exec_statement) @py2
(comparison_operator operators: "<>" @py2)
(raise_statement (expression_list) @py2)
(except_clause "," @py2)
(parameters (tuple_pattern) @py2)
(lambda_parameters (tuple_pattern) @py2)
(block) @block
`;

// Cheap textual gates: these node kinds are common, so their captures are only read when the
// source could hold the Python 2 form at all.
const MAYBE_PY2_INTEGER = /\b0[0-9_]*[1-9]|[0-9][lL]\b/;
const PY2_INTEGER = /^(0[0-9_]*[1-9][0-9_]*[lL]?|.*[lL])$/;

export interface PythonSyntax {
  /** True when `code` parses as Python 3 (see the file comment for what that means here). */
  parsesAsPython3(code: string): boolean;
}

let loading: Promise<PythonSyntax> | undefined;

/** The checker, loaded once per process (the grammar is about 0.5 MB of WebAssembly). */
export function pythonSyntax(): Promise<PythonSyntax> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined;
    throw new DatasetError(errorMessage(err), { cause: err });
  });
  return loading;
}

async function load(): Promise<PythonSyntax> {
  const { language, newParser } = await pythonGrammar();
  const parser = newParser();
  const rejects = new Query(language, REJECT_QUERY);
  const integers = new Query(language, "(integer) @int");
  const stringStarts = new Query(language, "(string_start) @start");

  return {
    parsesAsPython3(code: string): boolean {
      const tree = parser.parse(code);
      if (!tree) return false;
      try {
        const root = tree.rootNode;
        if (root.hasError) return false;
        for (const capture of rejects.captures(root)) {
          if (capture.name !== "block" || isEmptyBlock(capture.node)) return false;
        }
        if (MAYBE_PY2_INTEGER.test(code) && integers.captures(root).some((c) => PY2_INTEGER.test(c.node.text))) return false;
        if (code.includes("`") && stringStarts.captures(root).some((c) => c.node.text === "`")) return false;
        return true;
      } finally {
        tree.delete();
      }
    },
  };
}

/** A suite needs a statement; tree-sitter accepts `if x:` followed by nothing or a comment. */
function isEmptyBlock(block: Node): boolean {
  for (const child of block.namedChildren) if (child && child.type !== "comment") return false;
  return true;
}

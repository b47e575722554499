// The pieces under the syntax and data-flow matches: s-expressions built in JavaScript against
// tree-sitter's own (ts_node_string) on every subtree of the real HumanEval and MBPP solutions,
// comment and docstring removal against the reference package on tokenize's corner cases, and the
// exports the structural diagnostics use.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import type { Node } from "web-tree-sitter";
import { extractDataflow, loadCodeBleu, stripCommentsAndDocstrings, subtreeSexps, type CodeBleu } from "../../src/core/codebleu/index";
import { pyStrip } from "../../src/core/codebleu/pythonCompat";
import { allSubtrees } from "../../src/core/codebleu/sexp";
import { copyTree, type SyntaxNode } from "../../src/core/codebleu/tree";
import { pythonGrammar, type PythonGrammar } from "../../src/core/python/grammar";
import { referenceResults } from "../fixtures/codebleu/reference";
import { REPO } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");

function solutions(): string[] {
  const codes: string[] = [];
  for (const line of readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").trim().split("\n")) {
    const task = JSON.parse(line) as { prompt: string; canonical_solution: string; test: string };
    codes.push(task.prompt + task.canonical_solution + task.test);
  }
  for (const line of readFileSync(join(DATA, "mbpp", "mbpp.jsonl"), "utf8").trim().split("\n")) codes.push((JSON.parse(line) as { code: string }).code);
  // Broken code too: error recovery makes ERROR, MISSING and UNEXPECTED nodes.
  return [...codes, ...codes.filter((_, i) => i % 4 === 0).map((c) => `${c.slice(0, Math.floor(c.length / 2))} $ ?(`)];
}

/** Every node with children, in the reference's stack order, as tree-sitter prints it. */
function treeSitterSubtrees(root: Node): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length) {
    const node = stack.pop()!;
    out.push(node.toString());
    for (const child of node.children) if (child && child.childCount) stack.push(child);
  }
  return out;
}

const OPERATOR_WRAPPER = /^\((not in|is not)\(/;

/** Tokenize's corner cases: continuations, CRLF, tabs, comments in brackets, f-strings, unclosed strings, bad dedents, form feeds. */
const CORNER_CASES = [
  "x = 1 + \\\n    2  # c\ny = 3",
  "x = 1 + \\\r\n    2\r\ny = 3",
  "def f():\r\n\t# only a comment\r\n\treturn 1 # trailing\r\n",
  "def f(a,\n      # in brackets\n      b):\n    '''doc\n\n    more'''\n    return a",
  "s = f'{x!r:>{width}}' + f\"{'a' if b else 'c'}\"\nt = rb'\\d' 'x'",
  "x = 1; 'a'; y = 2",
  "if x:\n    pass\n    # dedent comment\nelse:\n    'doc'\n    y = 1",
  "class A:\n    '''Doc'''\n    def m(self):\n        \"\"\"M.\"\"\"\n        return 'a' \\\n            'b'",
  "x = '''abc",
  "x = 'abc\ny = 2",
  "def f():\n  return 1\n return 2",
  "x = [1,\n2]]\ny = 3",
  "x = 1\n\n\n\ny = '😀' # é\nz = \"\"\"a\n   \nb\"\"\"",
  "\tx = 1\ny = 2",
  "x = 1\n\x0cy = 2",
  "print 'hello'\nexec 'x = 1'",
  "async def f():\n    await g()\n    return [i async for i in h()]",
  "match x:\n    case [1, y]:\n        z = y\n    case _:\n        'none'",
  "def f(*, a=1, b: int = 2, **kw) -> None:\n    global q\n    del kw['a']",
];

describe("CodeBLEU syntax pieces", () => {
  let grammar: PythonGrammar;
  let codeBleu: CodeBleu;
  before(async () => {
    grammar = await pythonGrammar();
    codeBleu = await loadCodeBleu();
  });

  it("prints every subtree of the real solutions exactly as tree-sitter does", () => {
    const parser = grammar.newParser();
    let subtrees = 0;
    for (const code of solutions()) {
      const tree = parser.parse(code)!;
      try {
        const expected = treeSitterSubtrees(tree.rootNode);
        const actual = allSubtrees(copyTree(tree.rootNode, { shape: "0.25" })).map((s) => s.sexp);
        assert.equal(actual.length, expected.length);
        // Our grammar wraps `not in` / `is not` in an anonymous node, which the 0.21 shape removes.
        expected.forEach((sexp, i) => OPERATOR_WRAPPER.test(sexp) || assert.equal(actual[i], sexp));
        subtrees += expected.length;
      } finally {
        tree.delete();
      }
    }
    assert.ok(subtrees > 40_000, `${subtrees} subtrees`);
  });

  it("gives inner nodes the span of their children only where scoring does not look (see CursorReader.read)", () => {
    const parser = grammar.newParser();
    const differing = new Set<string>();
    for (const code of solutions().slice(0, 400)) {
      const tree = parser.parse(code)!;
      const fast = copyTree(tree.rootNode);
      const exact = copyTree(tree.rootNode, { exactRanges: true });
      const compare = (a: SyntaxNode, b: SyntaxNode): void => {
        if (a.startIndex !== b.startIndex || a.endIndex !== b.endIndex) differing.add(a.type);
        if (!a.children.length) assert.equal(`${a.startIndex}:${a.endIndex}`, `${b.startIndex}:${b.endIndex}`);
        a.children.forEach((c, i) => compare(c, b.children[i]));
      };
      compare(fast, exact);
      tree.delete();
    }
    assert.deepEqual([...differing].sort(), ["ERROR", "module", "string_content"].filter((t) => differing.has(t)));
  });

  it("removes comments and docstrings as the reference does on tokenize's corner cases, and scores them alike", () => {
    const pairs = CORNER_CASES.map((code, i) => ({ ref: code, hyp: CORNER_CASES[(i + 1) % CORNER_CASES.length] }));
    const expected = referenceResults(pairs);
    CORNER_CASES.forEach((code, i) => {
      assert.equal(stripCommentsAndDocstrings(pyStrip(code), "reference"), expected[i].refs[0].stripped ?? pyStrip(code), JSON.stringify(code));
      const scores = codeBleu.score(pairs[i].ref, pairs[i].hyp, { mode: "reference" });
      assert.ok(Math.abs(scores.codebleu - expected[i].codebleu) < 1e-6, `${JSON.stringify(code)}: ${scores.codebleu} vs ${expected[i].codebleu}`);
    });
  });

  it("exports subtree s-expressions with positions, and the data-flow graph with tokens", () => {
    const parser = grammar.newParser();
    const code = "def f(a):\n    b = a + 1\n    return b\n";
    const tree = parser.parse(code)!;
    const subtrees = subtreeSexps(tree.rootNode);
    assert.equal(subtrees[0].depth, 1);
    assert.match(subtrees[0].sexp, /^\(module \(function_definition name: \(identifier\)/);
    const assignment = subtrees.find((s) => s.sexp.startsWith("(assignment"))!;
    assert.deepEqual([assignment.start, assignment.end], [{ row: 1, column: 4 }, { row: 1, column: 13 }]);
    const { tokens, edges } = extractDataflow(tree.rootNode, code, "default");
    assert.deepEqual(
      tokens.map((t) => t.text),
      ["def", "f", "(", "a", ")", ":", "b", "=", "a", "+", "1", "return", "b"],
    );
    const b = edges.find((e) => e.variable === "b" && e.relation === "computedFrom")!;
    assert.deepEqual(b, { variable: "b", index: 6, relation: "computedFrom", sources: ["a", "1"], sourceIndices: [8, 10] });
    assert.deepEqual(tokens[6].start, { row: 1, column: 4 });
    tree.delete();
  });
});

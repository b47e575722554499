// The steps: the reference solution read aloud, one sentence per meaningful statement, in
// source order. The entry point's body is told inline; other functions are helpers, told with a
// short header and their first few statements; a script (TACO's stdin programs) is told from its
// module body. Nesting is flattened: a block's statements carry their context as a lead-in
// ("For each `x`, ...", "When `n < 2`, ...") instead of indentation, and a branch or loop around
// a single simple statement becomes one sentence ("If `n < 2`, return `False`.").
import type { Node } from "web-tree-sitter";
import { lowerFirst, listed, sentencesOf, upperFirst, capText } from "./prose";
import { kindSummary, readsInput, simpleStatement, type Step, type StepKind } from "./statements";
import { argumentsOf, calleeOf, code, contains, depthOf, docstringOf, field, isDocstring, nameOf, namedKids, squash, statementsOf, undecorated, unparenthesized } from "./syntax";

/** A reasoning context lists the main moves, not every line. */
export const MAX_STEPS = 20;
const EXITS = new Set(["return_statement", "raise_statement", "continue_statement", "break_statement"]);
/** A helper is introduced, not retold: its header and this many of its statements. */
const HELPER_STEPS = 3;
/** Longer conditions get a sentence of their own instead of leading every step of their block. */
const LEAD_IN_CHARS = 40;
const IGNORED = new Set(["import_statement", "import_from_statement", "future_import_statement", "global_statement", "nonlocal_statement", "comment", "ERROR", "type_alias_statement"]);

/** The solution's steps, capped at MAX_STEPS with a summary of the rest. */
export function stepsOf(root: Node, entryPoint: string | undefined): string[] {
  const walker = new StepWalker(mainFunction(root, entryPoint));
  walker.block(statementsOf(root), {});
  return capSteps(walker.steps).map((s) => s.text);
}

function capSteps(steps: Step[]): Step[] {
  if (steps.length <= MAX_STEPS) return steps;
  const rest = steps.slice(MAX_STEPS - 1);
  return [...steps.slice(0, MAX_STEPS - 1), { kind: "other", text: `Then ${kindSummary(rest)} follow (${rest.length} more statements).` }];
}

// --- which function is the solution --------------------------------------------------------

/** The function whose body is the solution's story; `announced` when a script calls it, so its steps need a header. */
export interface MainFunction {
  node: Node;
  announced: boolean;
}

/**
 * The entry point when the code defines it; else, for a script that only calls one of its
 * functions (`main()`, `solve()` per test case), that one; else, for code that is only
 * definitions and constants (a LeetCode-style class), the last function or method. A script
 * that does its own I/O has no main function: its module body is the story.
 */
export function mainFunction(root: Node, entryPoint: string | undefined): MainFunction | undefined {
  const functions = root.descendantsOfType("function_definition").filter((f): f is Node => f !== null);
  if (entryPoint) {
    const named = functions.filter((f) => nameOf(f) === entryPoint).sort((a, b) => depthOf(a) - depthOf(b))[0];
    if (named) return { node: named, announced: false };
  }
  const definitions = statementsOf(root).map(undecorated);
  const topFunctions = definitions.filter((d) => d.type === "function_definition");
  const script = scriptStatements(root);
  if (script.length) {
    const called = calledFromScript(script, topFunctions);
    if (called) return { node: called, announced: true };
    // Top-level code that does no I/O only sets up constants for the functions below it.
    if (script.some((s) => readsInput(s) || /\bprint\b|\bstdout\b/.test(s.text))) return undefined;
  }
  const lastClass = definitions.filter((d) => d.type === "class_definition").pop();
  const methods = lastClass ? statementsOf(field(lastClass, "body")).map(undecorated).filter((d) => d.type === "function_definition") : [];
  const last = topFunctions.pop() ?? methods.filter((m) => !nameOf(m).startsWith("_")).pop() ?? methods.pop();
  return last && { node: last, announced: false };
}

/** Top-level statements that do something (not definitions, imports or docstrings), `if __name__ == "__main__":` opened. */
function scriptStatements(root: Node): Node[] {
  const found: Node[] = [];
  for (const statement of statementsOf(root)) {
    const node = undecorated(statement);
    if (node.type === "function_definition" || node.type === "class_definition" || IGNORED.has(node.type) || isDocstring(node)) continue;
    if (isMainGuard(node)) found.push(...statementsOf(field(node, "consequence")));
    else found.push(node);
  }
  return found;
}

/** A short driver that calls one of the file's functions hands the story to that function. */
const DRIVER_STATEMENTS = 4;

function calledFromScript(script: Node[], functions: Node[]): Node | undefined {
  if (script.length > DRIVER_STATEMENTS) return undefined;
  const calls = script.flatMap((s) => s.descendantsOfType("call")).filter((c): c is Node => c !== null);
  for (const call of calls) {
    const callee = functions.find((f) => nameOf(f) === calleeOf(call));
    if (callee) return callee;
  }
  return undefined;
}

function isMainGuard(node: Node): boolean {
  return node.type === "if_statement" && /^__name__\s*==\s*['"]__main__['"]$/.test(squash(field(node, "condition")?.text ?? ""));
}

// --- walking the statements ----------------------------------------------------------------

/** Where a statement sits: inside which helper, and the lead-in of its innermost block. */
interface Context {
  helper?: string;
  leadIn?: string;
}

class StepWalker {
  readonly steps: Step[] = [];

  constructor(private readonly main: MainFunction | undefined) {}

  block(statements: Node[], context: Context): void {
    const meaningful = statements.filter((s) => !isDocstring(s));
    // `pass` only says something when it is all the block does.
    const kept = meaningful.length > 1 ? meaningful.filter((s) => s.type !== "pass_statement") : meaningful;
    for (const statement of kept) this.statement(statement, context);
  }

  private emit(kind: StepKind, text: string, context: Context): void {
    let sentence = context.leadIn ? context.leadIn + lowerFirst(text) : text;
    if (context.helper) sentence = `in ${code(context.helper)}, ${lowerFirst(sentence)}`;
    this.steps.push({ kind, text: upperFirst(sentence) });
  }

  private statement(statement: Node, context: Context): void {
    const node = undecorated(statement);
    if (IGNORED.has(node.type)) return;
    switch (node.type) {
      case "function_definition":
        return this.main?.node.equals(node) ? this.mainBody(node, context) : this.helper(node, context);
      case "class_definition":
        return this.classDefinition(node, context);
      case "if_statement":
        return this.ifStatement(node, context);
      case "for_statement":
        return this.forStatement(node, context);
      case "while_statement":
        return this.whileStatement(node, context);
      case "try_statement":
        return this.tryStatement(node, context);
      case "with_statement":
        return this.withStatement(node, context);
      case "match_statement":
        return this.matchStatement(node, context);
      default: {
        const step = simpleStatement(node);
        if (step) this.emit(step.kind, step.text, context);
      }
    }
  }

  /** A block of one simple statement, as its sentence; undefined when the block needs steps of its own. */
  private single(body: Node | undefined): Step | undefined {
    const statements = statementsOf(body).filter((s) => !isDocstring(s) && !IGNORED.has(s.type));
    return statements.length === 1 ? simpleStatement(statements[0]!) : undefined;
  }

  /** A block told as one sentence when it is one simple statement, else step by step under a lead-in. */
  private nested(body: Node | undefined, kind: StepKind, singleLead: string, blockLead: string, context: Context): void {
    const single = this.single(body);
    if (single) this.emit(kind, singleLead + lowerFirst(single.text), context);
    else this.block(statementsOf(body), { ...context, leadIn: blockLead });
  }

  // --- branches ------------------------------------------------------------------------------

  private ifStatement(node: Node, context: Context): void {
    if (isMainGuard(node)) return this.block(statementsOf(field(node, "consequence")), context);
    const branches: { condition?: Node; body?: Node }[] = [{ condition: field(node, "condition"), body: field(node, "consequence") }];
    for (const clause of node.childrenForFieldName("alternative")) {
      if (clause?.type === "elif_clause") branches.push({ condition: field(clause, "condition"), body: field(clause, "consequence") });
      else if (clause?.type === "else_clause") branches.push({ body: field(clause, "body") });
    }
    let allExit = true;
    branches.forEach((branch, i) => {
      // After branches that all return (or raise, break, continue), the else part is simply what
      // happens next: it needs no "otherwise" on each of its steps.
      if (!branch.condition && allExit && !this.single(branch.body)) return this.block(statementsOf(branch.body), context);
      this.branch(branch.condition, branch.body, i > 0 ? "otherwise, " : "", context);
      allExit &&= endsInExit(branch.body);
    });
  }

  private branch(condition: Node | undefined, body: Node | undefined, otherwise: string, context: Context): void {
    if (!condition) return this.nested(body, "condition", otherwise, otherwise, context);
    const test = code(unparenthesized(condition));
    if (this.single(body) || condition.text.length <= LEAD_IN_CHARS) return this.nested(body, "condition", `${otherwise}if ${test}, `, `${otherwise}when ${test}, `, context);
    this.emit("condition", `${otherwise}check whether ${test}.`, context);
    this.block(statementsOf(body), { ...context, leadIn: "if so, " });
  }

  private matchStatement(node: Node, context: Context): void {
    const cases = statementsOf(field(node, "body")).filter((c) => c.type === "case_clause");
    this.emit("condition", `Match ${code(field(node, "subject") ?? node)} against ${cases.length} cases.`, context);
    for (const clause of cases) {
      const pattern = namedKids(clause).find((k) => k.type === "case_pattern");
      const lead = `in the case ${code(pattern ?? clause, LEAD_IN_CHARS)}, `;
      this.nested(field(clause, "consequence"), "condition", lead, lead, context);
    }
  }

  // --- loops ---------------------------------------------------------------------------------

  private forStatement(node: Node, context: Context): void {
    const left = field(node, "left") ?? node;
    const right = field(node, "right") ?? node;
    const body = field(node, "body");
    const count = rangeCount(right);
    if (count && readsInput(count)) {
      const single = this.single(body);
      if (single) this.emit("input", `Read a count from the input, then repeat that many times: ${lowerFirst(single.text)}`, context);
      else {
        this.emit("input", "Read a count from the input and repeat the following that many times.", context);
        this.block(statementsOf(body), { ...context, leadIn: "in each repetition, " });
      }
    } else {
      const clause = loopClause(left, right);
      const single = this.single(body);
      if (single) this.emit("loop", `For ${clause}, ${lowerFirst(single.text)}`, context);
      else {
        this.emit("loop", `Loop over ${clause}.`, context);
        const lead = /^_\w*$/.test(left.text) ? "in each iteration, " : `for each ${code(left, LEAD_IN_CHARS)}, `;
        this.block(statementsOf(body), { ...context, leadIn: lead });
      }
    }
    const otherwise = field(node, "alternative");
    if (otherwise) this.nested(field(otherwise, "body"), "loop", "if the loop ends without `break`, ", "if the loop ends without `break`, ", context);
  }

  private whileStatement(node: Node, context: Context): void {
    const condition = unparenthesized(field(node, "condition") ?? node);
    const body = field(node, "body");
    const forever = /^(?:True|1)$/.test(condition.text);
    const single = forever ? undefined : this.single(body);
    if (single) this.emit("loop", `While ${code(condition)}, ${lowerFirst(single.text)}`, context);
    else {
      this.emit("loop", forever ? "Repeat until a `break` or `return` ends the loop." : `Repeat while ${code(condition)} holds.`, context);
      this.block(statementsOf(body), { ...context, leadIn: "in each iteration, " });
    }
    const otherwise = field(node, "alternative");
    if (otherwise) this.nested(field(otherwise, "body"), "loop", "once the loop ends, ", "once the loop ends, ", context);
  }

  // --- try, with -----------------------------------------------------------------------------

  private tryStatement(node: Node, context: Context): void {
    this.nested(field(node, "body"), "other", "try to ", "inside `try`, ", context);
    for (const clause of namedKids(node)) {
      const body = namedKids(clause).find((k) => k.type === "block");
      if (clause.type === "except_clause" || clause.type === "except_group_clause") {
        const caught = caughtException(clause);
        const lead = caught ? `if ${code(caught, LEAD_IN_CHARS)} is raised, ` : "if anything is raised, ";
        this.nested(body, "condition", lead, lead, context);
      } else if (clause.type === "else_clause") this.nested(field(clause, "body") ?? body, "other", "if nothing was raised, ", "if nothing was raised, ", context);
      else if (clause.type === "finally_clause") this.nested(body, "other", "finally, ", "finally, ", context);
    }
  }

  private withStatement(node: Node, context: Context): void {
    const clause = namedKids(node).find((k) => k.type === "with_clause");
    const lead = `with ${code(clause ?? node, LEAD_IN_CHARS)}, `;
    this.nested(field(node, "body"), "other", lead, lead, context);
  }

  // --- definitions ---------------------------------------------------------------------------

  private classDefinition(node: Node, context: Context): void {
    const body = field(node, "body");
    if (this.main && contains(node, this.main.node)) return this.block(statementsOf(body), context);
    const methods = statementsOf(body)
      .map(undecorated)
      .filter((d) => d.type === "function_definition")
      .map((d) => code(nameOf(d)));
    const shown = methods.length > 5 ? [...methods.slice(0, 4), `${methods.length - 4} more`] : methods;
    this.emit("definition", `Define a class ${code(nameOf(node))}${shown.length ? ` with ${methods.length === 1 ? "method" : "methods"} ${listed(shown)}` : ""}.`, context);
  }

  /** The solution's own function, told in full; a script's main function first gets a header. */
  private mainBody(node: Node, context: Context): void {
    if (this.main?.announced) this.emit("definition", `Define ${signatureOf(node)}, which does the main work, as follows.`, context);
    this.block(statementsOf(field(node, "body")), context);
  }

  /** "Define a helper `f(a, b)` that returns `...`." or its header and first statements. */
  private helper(node: Node, context: Context): void {
    const name = nameOf(node);
    const body = field(node, "body");
    const what = isMethod(node) ? "method" : "helper";
    const signature = signatureOf(node);
    const statements = statementsOf(body).filter((s) => !isDocstring(s) && !IGNORED.has(s.type));
    const only = statements.length === 1 && statements[0]!.type === "return_statement" ? namedKids(statements[0]!)[0] : undefined;
    if (only) return this.emit("definition", `Define a ${what} ${signature} that returns ${code(only)}.`, context);
    const purpose = docstringPurpose(docstringOf(body));
    this.emit("definition", `Define a ${what} ${signature}${purpose ? `: ${purpose}` : "."}`, context);
    const start = this.steps.length;
    this.block(statements, { helper: name });
    const extra = this.steps.splice(start + HELPER_STEPS);
    if (extra.length) this.emit("definition", `${code(name)} goes on with ${kindSummary(extra)}.`, context);
  }
}

/** The lower-case first sentence of a helper's docstring, as the rest of a "Define ..." sentence. */
function docstringPurpose(docstring: string | undefined): string | undefined {
  if (!docstring) return undefined;
  const first = sentencesOf(squash(docstring.split(/\n\s*\n|>>>/)[0] ?? ""))[0];
  if (!first) return undefined;
  const capped = capText(first, 120);
  return lowerFirst(/[.!?…]$/.test(capped) ? capped : `${capped}.`);
}

/** The exception an `except` clause names (`ValueError` in `except ValueError as e:`), if any. */
function caughtException(clause: Node): Node | undefined {
  const caught = namedKids(clause).find((k) => k.type !== "block");
  // Older grammars wrap `E as e` in an as_pattern; 0.25 labels E `value:` directly.
  return caught?.type === "as_pattern" ? (namedKids(caught)[0] ?? caught) : caught;
}

/** Whether a block's last statement leaves it (return, raise, break, continue). */
function endsInExit(body: Node | undefined): boolean {
  const last = statementsOf(body).pop();
  return last !== undefined && EXITS.has(last.type);
}

/** `name(a, b)` as inline code. */
function signatureOf(definition: Node): string {
  return code(`${nameOf(definition)}(${parameterNames(definition).join(", ")})`);
}

function isMethod(definition: Node): boolean {
  return definition.parent?.type === "block" && definition.parent.parent?.type === "class_definition";
}

/** Parameter names as a caller sees them: no `self`/`cls`, no annotations or defaults. */
function parameterNames(definition: Node): string[] {
  const parameters = field(definition, "parameters");
  const names = (parameters ? namedKids(parameters) : []).map((p) => {
    if (p.type === "identifier") return p.text;
    if (p.type === "list_splat_pattern" || p.type === "dictionary_splat_pattern") return squash(p.text);
    const name = field(p, "name") ?? namedKids(p)[0];
    return name ? squash(name.text) : squash(p.text);
  });
  return isMethod(definition) && (names[0] === "self" || names[0] === "cls") ? names.slice(1) : names;
}

/** The count of `range(n)`, or undefined for any other iterable. */
function rangeCount(iterable: Node): Node | undefined {
  if (iterable.type !== "call" || calleeOf(iterable) !== "range") return undefined;
  const args = argumentsOf(iterable);
  return args.length === 1 ? args[0] : undefined;
}

/** Iterables that yield the input line by line: `sys.stdin`, `open(0)`, their `.readlines()`. */
const INPUT_LINES = /^(?:(?:sys\.)?stdin|open\(\s*0\s*\))(?:\.readlines\(\))?$/;

/** What a `for` walks: "each `i` from `0` up to but not including `n`", "each index `i` and item `x` of `xs`". */
function loopClause(left: Node, right: Node): string {
  const target = code(left, LEAD_IN_CHARS);
  if (INPUT_LINES.test(squash(right.text))) return `each input line ${target}`;
  const pair = left.type === "pattern_list" || left.type === "tuple_pattern" ? namedKids(left) : [];
  if (right.type === "call") {
    const callee = calleeOf(right);
    const args = argumentsOf(right).filter((a) => a.type !== "keyword_argument");
    if (callee === "range" && args.length >= 1 && args.length <= 3) {
      const [from, to] = args.length === 1 ? ["`0`", code(args[0]!)] : [code(args[0]!), code(args[1]!)];
      if (args.length < 3) return `each ${target} from ${from} up to but not including ${to}`;
      const down = args[2]!.text.trim().startsWith("-");
      return `each ${target} from ${from} ${down ? "down" : "up"} to but not including ${to}, in steps of ${code(args[2]!)}`;
    }
    if (callee === "enumerate" && pair.length === 2 && args[0]) return `each index ${code(pair[0]!)} and item ${code(pair[1]!)} of ${code(args[0])}`;
    if (callee === "zip" && args.length >= 2) return `each ${target} drawn together from ${listed(args.map((a) => code(a)))}`;
    const fn = field(right, "function");
    if (fn?.type === "attribute" && field(fn, "attribute")?.text === "items" && pair.length === 2) {
      return `each key ${code(pair[0]!)} and value ${code(pair[1]!)} of ${code(field(fn, "object") ?? fn)}`;
    }
  }
  return `each ${target} in ${code(right)}`;
}

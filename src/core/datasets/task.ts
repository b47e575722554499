// The one task shape every loader produces (DESIGN.md, "Task schema"). Normalized Task JSONL,
// one Task per line, is the only task format the Python sidecar reads.

export interface AssertTests {
  kind: "assert";
  /** Code run before the tests (MBPP test_setup_code, imports). */
  setup?: string;
  /** HumanEval: `test` + `check(entry_point)`; MBPP: the asserts of test_list, one per line. */
  code: string;
  /** MBPP challenge_test_list, kept apart: evaluation runs it only when asked. */
  challenge?: string;
}

export interface CallTests {
  kind: "call";
  fnName: string;
  /** One argument list per test. */
  inputs: unknown[][];
  /**
   * Expected return values, one per input; null when they are not stored and must come
   * from running the canonical solution (`solutions[0]`), as for EvalPlus.
   */
  outputs: unknown[] | null;
  /** Absolute tolerance for float comparison (EvalPlus atol). */
  atol?: number;
}

export type SpecialJudge = "non-deterministic" | "case-insensitive" | "float-tolerance";

export interface StdioTests {
  kind: "stdio";
  inputs: string[];
  outputs: string[];
  /** TACO's special judges (output_spj.jsonl cases 1, 2, 3). */
  specialJudge?: SpecialJudge;
}

export type TaskTests = AssertTests | CallTests | StdioTests;

export type TaskSource = "taco" | "mbpp" | "mbpp-sanitized" | "mbpp+" | "humaneval" | "humaneval+" | "custom";

export interface Task {
  /** Unique within its dataset: "HumanEval/0", "Mbpp/2", "mbpp/11", "taco/1234". */
  id: string;
  source: TaskSource;
  /** What the model is given: HumanEval's signature + docstring, MBPP's text, TACO's question. */
  prompt: string;
  entryPoint?: string;
  starterCode?: string;
  /** Reference solutions, full programs; the first is the canonical one. */
  solutions: string[];
  tests: TaskTests;
  difficulty?: string;
  tags?: string[];
  /** Everything else the source carries (TACO url/time_limit/memory_limit, EvalPlus contract, ...). */
  meta: Record<string, unknown>;
}

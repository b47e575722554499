"""The standard prompt of each benchmark, as the public harnesses (EvalPlus, bigcode, TACO)
build it, and its chat form for models whose tokenizer has a chat template.

Completion mode feeds the benchmark prompt as-is and the model continues it; the program run
is the prompt's code plus the completion. Chat mode wraps the same prompt in an instruction and
the program is the code the model answers with (see extract.py).

The editor's prompts (a signature or selection to continue, or a comment's words) are "custom"
Tasks made by ``editor_task``; ``prompt_templates`` renders a model's editor prompt format once,
around a sentinel, so the extension fills it in without a second implementation of the format.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from ..tasks import prompt_is_code

COMPLETION = "completion"
CHAT = "chat"

# HumanEval: the completion is a function body; anything at column 0 ends it (Codex paper's set).
HUMANEVAL_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert")
# MBPP: the model writes the whole function after the docstring, so a top-level "def" is part of
# the answer; a new docstring, test or fence is not (bigcode-evaluation-harness's MBPP set).
MBPP_STOPS = ("\nclass ", "\nif __name__", "\nprint(", "\nassert", '\n"""', "\n```")
# TACO (APPS format): the answer is a whole program with top-level code; only a new question
# or answer header ends it.
TACO_STOPS = ("\nQUESTION:", "\nANSWER:")

CODE_INSTRUCTION = (
    "Complete the following Python code. Respond with the complete, self-contained code "
    "in a single ```python code block."
)
STDIO_INSTRUCTION = (
    "Solve the following programming problem in Python. The program reads from standard "
    "input and writes to standard output. Respond with the complete program in a single "
    "```python code block."
)
CALL_INSTRUCTION = (
    "Solve the following programming problem in Python by implementing `{name}`. "
    "Respond with the complete code in a single ```python code block."
)


# Editor prompts: "code" is a signature, docstring or selection the completion continues;
# "prose" is a comment's words, put in a docstring. The kind is the Task's PROMPT_KIND_KEY, which
# wins over prompt_is_code (a one-word comment compiles as Python; a half-typed def does not).
EDITOR_PROMPT_KINDS = ("code", "prose")
PROMPT_KIND_KEY = "promptKind"
EDITOR_TASK_ID = "editor"
# Stands for the editor's text while a model's prompt format is rendered (prompt_templates).
TEMPLATE_SENTINEL = "\u27e6codistill-editor-prompt\u27e7"


@dataclass(frozen=True)
class Prompt:
    task_id: str
    #: What the model is fed (the chat template already applied in chat mode).
    text: str
    #: COMPLETION or CHAT.
    format: str
    #: The benchmark prompt before any chat wrapping.
    plain: str
    #: Code the model's answer continues: the plain prompt when it is code, "" when the answer
    #: is a whole program (TACO).
    program_prefix: str
    #: Stop sequences for completions; none in chat mode, where the answer ends at the model's
    #: end-of-turn token and its code is picked out of it afterwards.
    stops: tuple[str, ...]
    entry_point: str | None


def first_assert(task: dict[str, Any]) -> str | None:
    """The first `assert` line of an assert-style test: MBPP shows it to the model as the
    function's signature and example."""
    tests = task["tests"]
    if tests["kind"] != "assert":
        return None
    for line in tests["code"].splitlines():
        if line.strip().startswith("assert"):
            return line.strip()
    return None


def mbpp_prompt(task: dict[str, Any]) -> str:
    """EvalPlus's MBPP prompt: the task text and its first test in a docstring."""
    hint = first_assert(task)
    body = task["prompt"].strip() if hint is None else f"{task['prompt'].strip()}\n{hint}"
    return f'"""\n{body}\n"""\n'


def taco_prompt(task: dict[str, Any]) -> str:
    """TACO's own generate_prompt (FlagOpen/TACO, also APPS'): the question, the starter code
    glued right after it, the answer format, then "ANSWER:"."""
    starter = task.get("starterCode") or ""
    call_based = task["tests"]["kind"] == "call" or bool(starter)
    answer_format = "Use Call-Based format" if call_based else "Use Standard Input format"
    return f"\nQUESTION:\n{task['prompt']}{starter}\n{answer_format}\nANSWER:\n"


def custom_is_code(task: dict[str, Any]) -> bool:
    """Whether a custom Task's prompt is code the completion continues: its explicit
    ``promptKind`` (editor prompts) when it has one, else what ``prompt_is_code`` finds."""
    kind = task.get(PROMPT_KIND_KEY)
    if kind is not None:
        return kind == "code"
    return prompt_is_code(task["prompt"])


def custom_prompt(task: dict[str, Any]) -> str:
    """Code prompts are continued as they are; prose goes in a docstring like MBPP's."""
    if custom_is_code(task):
        return task["prompt"]
    return f'"""\n{task["prompt"].strip()}\n"""\n' + (task.get("starterCode") or "")


def plain_prompt(task: dict[str, Any]) -> str:
    source = task["source"]
    if source in ("humaneval", "humaneval+", "mbpp+"):
        return task["prompt"]
    if source in ("mbpp", "mbpp-sanitized"):
        return mbpp_prompt(task)
    if source == "taco":
        return taco_prompt(task)
    return custom_prompt(task)


def stop_sequences(task: dict[str, Any]) -> tuple[str, ...]:
    source = task["source"]
    if source in ("humaneval", "humaneval+"):
        return HUMANEVAL_STOPS
    if source == "taco":
        return TACO_STOPS
    if source == "custom" and custom_is_code(task):
        return HUMANEVAL_STOPS
    return MBPP_STOPS


def program_prefix(task: dict[str, Any], plain: str) -> str:
    return "" if task["source"] == "taco" else plain


def chat_instruction(task: dict[str, Any], plain: str) -> str:
    """The user turn of chat mode: an instruction and the benchmark's own problem text."""
    if task["source"] != "taco":
        return f"{CODE_INSTRUCTION}\n\n```python\n{plain.rstrip()}\n```\n"
    question = task["prompt"].rstrip()
    if task["tests"]["kind"] != "call":
        return f"{STDIO_INSTRUCTION}\n\n{question}\n"
    text = f"{CALL_INSTRUCTION.format(name=task['tests']['fnName'])}\n\n{question}\n"
    starter = (task.get("starterCode") or "").rstrip()
    return f"{text}\n```python\n{starter}\n```\n" if starter else text


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def render_chat(tokenizer: Any, instruction: str) -> str:
    # One user turn and no system turn: some templates (Gemma's) reject a system role.
    messages = [{"role": "user", "content": instruction}]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if not isinstance(rendered, str):
        raise TypeError(f"apply_chat_template returned {type(rendered).__name__}, not text")
    return rendered


def build_prompt(task: dict[str, Any], tokenizer: Any = None) -> Prompt:
    """The prompt for one Task; chat mode when ``tokenizer`` has a chat template."""
    plain = plain_prompt(task)
    chat = tokenizer is not None and has_chat_template(tokenizer)
    text = render_chat(tokenizer, chat_instruction(task, plain)) if chat else plain
    return Prompt(
        task_id=task["id"],
        text=text,
        format=CHAT if chat else COMPLETION,
        plain=plain,
        program_prefix=program_prefix(task, plain),
        stops=() if chat else stop_sequences(task),
        entry_point=task.get("entryPoint"),
    )


def top_level_names(code: str) -> set[str] | None:
    """Names of the functions and classes ``code`` defines at top level; None if it does not
    parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


# --- the editor's prompts -------------------------------------------------------------------


def normalize_editor_text(text: str, kind: str) -> str:
    """Code keeps its leading indentation and ends with one newline; prose is stripped."""
    if kind not in EDITOR_PROMPT_KINDS:
        raise ValueError(
            f"prompt kind: expected one of {', '.join(EDITOR_PROMPT_KINDS)}, got {kind!r}"
        )
    return text.rstrip() + "\n" if kind == "code" else text.strip()


def editor_task(text: str, kind: str) -> dict[str, Any]:
    """A "custom" Task for a prompt taken from the editor; its ``promptKind`` decides how
    ``build_prompt`` renders it whatever ``prompt_is_code`` would say."""
    return {
        "id": EDITOR_TASK_ID,
        "source": "custom",
        "prompt": normalize_editor_text(text, kind),
        "entryPoint": None,
        "starterCode": None,
        "solutions": [],
        "tests": {"kind": "assert", "code": ""},
        "meta": {},
        PROMPT_KIND_KEY: kind,
    }


# The text each kind's sentinel task is made of: after editor_task's normalization, the sentinel
# stands exactly where text.rstrip() (code) or text.strip() (prose) goes.
_SENTINEL_TEXTS = {"code": TEMPLATE_SENTINEL + "\n", "prose": TEMPLATE_SENTINEL}
# Texts the templates are checked on once rendered (fill rule == build_prompt).
_CHECK_TEXTS = ('  def f(x):\n    """Twice x."""\n\n\n', "\n sort the list, é ✓ \n\n")


def fill_template(template: dict[str, str], text: str, kind: str) -> str:
    """The rule the extension applies: code -> before + text.rstrip() + after; prose ->
    before + text.strip() + after."""
    body = text.rstrip() if kind == "code" else text.strip()
    return template["before"] + body + template["after"]


def prompt_templates(tokenizer: Any) -> dict[str, Any]:
    """A model's editor prompt format, rendered by ``build_prompt`` on sentinel tasks and split
    at the sentinel: {format, addSpecialTokens, templates: {code|prose: {before, after}}, stops:
    {code|prose: [...]}}. ``addSpecialTokens``: a completion prompt gets the tokenizer's own BOS
    (as evaluation and training feed it); a chat template writes its own. ValueError when the
    format does not hold the text verbatim (a chat template that rewrites message contents)."""
    templates: dict[str, dict[str, str]] = {}
    stops: dict[str, list[str]] = {}
    formats = set()
    for kind in EDITOR_PROMPT_KINDS:
        prompt = build_prompt(editor_task(_SENTINEL_TEXTS[kind], kind), tokenizer)
        count = prompt.text.count(TEMPLATE_SENTINEL)
        if count != 1:
            raise ValueError(
                f"the {kind} prompt format holds the editor's text {count} times, not once: "
                "the chat template changes or repeats message contents, so the editor cannot "
                "fill it in"
            )
        before, after = prompt.text.split(TEMPLATE_SENTINEL)
        templates[kind] = {"before": before, "after": after}
        stops[kind] = list(prompt.stops)
        formats.add(prompt.format)
        for text in _CHECK_TEXTS:
            expected = build_prompt(editor_task(text, kind), tokenizer).text
            if fill_template(templates[kind], text, kind) != expected:
                raise ValueError(
                    f"the {kind} prompt format does not hold the editor's text verbatim (the chat "
                    "template rewrites message contents), so the editor cannot fill it in"
                )
    (fmt,) = formats
    return {
        "format": fmt,
        "addSpecialTokens": fmt == COMPLETION,
        "templates": templates,
        "stops": stops,
    }

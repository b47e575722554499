"""From what the model wrote to the program that is executed.

Completion mode: the generated text is cut at the first stop sequence, and the program is the
prompt's code followed by that completion (how HumanEval and EvalPlus score base models).
Chat mode: the code is the first fenced block of the answer (a ```python one preferred), or
the whole answer when it has none; the program is that code plus what it needs from the prompt.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .prompts import CHAT, Prompt, top_level_names

# An opening fence with an optional info string, then the body up to a closing fence or the end
# of the text: an answer cut off by the token limit still yields its code.
FENCED_BLOCK = re.compile(r"```[ \t]*([\w+.#-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.S | re.M)
PYTHON_TAGS = ("python", "python3", "py")


@dataclass(frozen=True)
class Extracted:
    #: The program to execute (EvalPlus `solution`).
    solution: str
    #: The model's part of it: the cut completion, or the extracted code in chat mode.
    completion: str


def truncate_at_stop(text: str, stops: tuple[str, ...] | list[str]) -> str:
    """``text`` up to the earliest stop sequence (the stop itself removed)."""
    cut = len(text)
    for stop in stops:
        at = text.find(stop)
        if 0 <= at < cut:
            cut = at
    return text[:cut]


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag in lower case, body) of every fenced block, in order."""
    return [(tag.lower(), body) for tag, body in FENCED_BLOCK.findall(text)]


def extract_code(answer: str) -> str:
    """The first ```python block, else the first fenced block of any language, else the whole
    answer (a model that answers with bare code or just the function body)."""
    blocks = fenced_blocks(answer)
    for tag, body in blocks:
        if tag in PYTHON_TAGS:
            return body
    if blocks:
        return blocks[0][1]
    return answer


def is_indented_body(code: str) -> bool:
    """Whether the code starts indented, as a function body continuing the prompt does."""
    for line in code.splitlines():
        if line.strip():
            return line[0] in " \t"
    return False


def prompt_context(prompt_code: str, defined: set[str]) -> str:
    """What a chat answer may leave out of the prompt and still rely on: its imports and the
    helper functions or classes it defines that the answer does not redefine (HumanEval/32's
    `poly`, HumanEval/38's `encode_cyclic`)."""
    try:
        tree = ast.parse(prompt_code)
    except (SyntaxError, ValueError):
        return ""
    lines = prompt_code.splitlines(keepends=True)
    kept = []
    for node in tree.body:
        is_import = isinstance(node, (ast.Import, ast.ImportFrom))
        is_helper = (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.name not in defined
        )
        if is_import or is_helper:
            decorators = getattr(node, "decorator_list", [])
            first = min([node.lineno] + [d.lineno for d in decorators])
            kept.append("".join(lines[first - 1 : node.end_lineno]))
    return "\n".join(kept) + "\n\n" if kept else ""


def chat_solution(prompt: Prompt, code: str) -> str:
    if not prompt.program_prefix:
        return code
    if is_indented_body(code):
        # The model answered with the body only: it continues the prompt as a completion would.
        return prompt.program_prefix + code
    defined = top_level_names(code)
    if defined is None:
        # Unparseable code fails in the sandbox either way; keep the prompt's imports out of it.
        return code
    if prompt.entry_point is not None and prompt.entry_point not in defined:
        # Top-level statements without the function asked for: run them after the prompt, which
        # at least defines it (and its failure is then the honest one).
        return prompt.program_prefix + "\n" + code
    return prompt_context(prompt.program_prefix, defined) + code


def extract(prompt: Prompt, generated: str) -> Extracted:
    if prompt.format == CHAT:
        code = extract_code(generated)
        return Extracted(chat_solution(prompt, code), code)
    completion = truncate_at_stop(generated, prompt.stops)
    return Extracted(prompt.program_prefix + completion, completion)

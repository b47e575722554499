"""Execution sandbox (DESIGN.md, "Execution sandbox"): runs untrusted samples against Task tests.

Torch-free and standard-library only. `Executor` owns a pool of pre-started worker processes
(`worker.py`); each worker forks one fresh, resource-limited child per sample. The commands and
methods that run samples open their executor through `open_executor` (`sandbox.py`).
"""

import sys as _sys

from .executor import ExecutionCancelled, Executor, Limits, SampleResult, build_program
from .passk import pass_at_k, summarize
from .sandbox import SandboxOptions, load_samples, open_executor

__all__ = [
    "ExecutionCancelled",
    "Executor",
    "Limits",
    "SampleResult",
    "SandboxOptions",
    "build_program",
    "load_samples",
    "open_executor",
    "pass_at_k",
    "summarize",
]

# Python 3.11+ refuses to turn ints of over 4,300 digits into text and back. Benchmark code
# (HumanEval/83, 139) builds such ints and its results travel as JSON between the sample, the
# worker and the executor, all of which import this package; the sandbox's CPU and time limits
# bound the cost.
if hasattr(_sys, "set_int_max_str_digits"):
    _sys.set_int_max_str_digits(0)

"""Execution sandbox (DESIGN.md, "Execution sandbox"): runs untrusted samples against Task tests.

Torch-free and standard-library only. `Executor` owns a pool of pre-started worker processes
(`worker.py`); each worker forks one fresh, resource-limited child per sample.
"""

from .executor import Executor, Limits, SampleResult, build_program
from .passk import pass_at_k, summarize

__all__ = ["Executor", "Limits", "SampleResult", "build_program", "pass_at_k", "summarize"]

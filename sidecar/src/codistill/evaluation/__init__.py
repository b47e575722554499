"""Evaluation (DESIGN.md, "Workspace artifacts"): generate samples for benchmark Tasks with a
local model (plus an optional LoRA adapter), then run them in the execution sandbox.

`eval/generate` writes `<outDir>/samples.jsonl` (EvalPlus format) and `generation.json`;
`eval/execute` writes `<outDir>/results.json`. The same functions back the RPC methods and
`python -m codistill eval generate|execute`.

Importing this package stays torch-free: the server registers the eval methods at start-up on
a bare interpreter, and only a generation request imports torch and transformers.
"""

"""Export (DESIGN.md, "Sidecar protocol": ``encoder/export``): the structural loss's encoder as an
ONNX folder the editor embeds code with (src/core/inference/encoder.ts).

`encoder.py` is the export itself, `rpc.py` the ``encoder/export`` method and `cli.py`
``python -m codistill export encoder``; both call the same function.

Importing this package stays torch-free: the server registers the method at start-up on a bare
interpreter, and only an export request imports torch, transformers and onnxruntime.
"""

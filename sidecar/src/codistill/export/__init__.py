"""Export (DESIGN.md, "Sidecar protocol": ``encoder/export``, ``export/onnx``): the structural
loss's encoder as an ONNX folder the editor embeds code with (src/core/inference/encoder.ts), and
the student (base + merged LoRA adapter) as an ONNX decoder with past key/values for the editor's
generation.

`encoder.py` and `decoder.py` are the exports themselves; `rpc.py` has the ``encoder/export``
method and `cli.py` ``python -m codistill export encoder`` and ``export onnx``, calling the same
functions. (The ``export/onnx`` method comes with the editor's generation.)

Importing this package stays torch-free: the server registers the method at start-up on a bare
interpreter, and only an export request imports torch, transformers and onnxruntime.
"""

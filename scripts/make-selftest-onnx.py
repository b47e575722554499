"""Writes media/onnx/selftest.onnx: y = x @ W + b on float32, the model the
"Codistill: Check ONNX Runtime" command runs to prove onnxruntime-node works in the
extension host. Weights are fixed so the expected output is known.

Run: .venv/bin/python scripts/make-selftest-onnx.py
"""
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)
B = np.array([0.5, -0.5], dtype=np.float32)


def build() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "codistill_selftest", [x], [y],
        initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="codistill")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "media" / "onnx" / "selftest.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build().SerializeToString())
    print(out)

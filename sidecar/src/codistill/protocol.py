"""Wire protocol between the extension and the sidecar: constants and message validators.

This module mirrors ``src/sidecar/protocol.ts``; both are checked against the golden messages in
``test/fixtures/protocol/``. Keep the two in step when a method or a field changes.

Every validator returns a list of problems, each naming the field path it is about
(``result.devices.gpus[0].totalMemory: expected a non-negative integer``); an empty list means
the value is valid. A field that is missing reads ``<path>: expected <what>``; a field that is
present but wrong adds what was found: ``<path>: expected <what>, got <found>``.

Objects may carry fields this version does not know: a newer peer may add fields, and ignoring
them is what keeps old and new versions talking.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = "1"
JSONRPC_VERSION = "2.0"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UNSUPPORTED_PROTOCOL_VERSION = -32001
# eval/generate: the backend asked for (or any, for "auto") cannot run in this interpreter.
BACKEND_UNAVAILABLE = -32002
# train/start, train/resume: another training run is going on in this sidecar (one at a time);
# data names it: {runId, runDir}.
TRAINING_RUN_ACTIVE = -32003
# generate/start: another generation is streaming in this sidecar (one at a time); data names
# it: {generationId}.
GENERATION_ACTIVE = -32004
REQUEST_CANCELLED = -32800

CANCEL_REQUEST_METHOD = "$/cancelRequest"
EVAL_PROGRESS_NOTIFICATION = "eval/progress"
EVAL_BACKENDS = ("transformers", "vllm")
EVAL_BACKEND_CHOICES = ("auto", *EVAL_BACKENDS)
# eval/generate: how one sample per task is chosen afterwards (`codistill eval select`).
EVAL_SELECT_CHOICES = ("none", "consensus")
EVAL_PHASES = ("generate", "execute")
ISOLATION_LEVELS = ("none", "partial", "full")
# encoder/export: what the exported encoder's weights may be quantized to (null: float32).
ENCODER_QUANTIZATIONS = ("int8",)
# export/onnx: the student decoder's float dtype and the quantization of its weights (null: none).
DECODER_DTYPES = ("fp32", "fp16")
DECODER_QUANTIZATIONS = ("int8", "int4")
# generate/*: the GPU backend of the editor's generation (generation/rpc.py).
GENERATE_TOKEN_NOTIFICATION = "generate/token"
GENERATE_FINISHED_NOTIFICATION = "generate/finished"
# "code": a signature/docstring/selection the answer continues; "prose": a comment's words.
GENERATE_PROMPT_KINDS = ("code", "prose")
GENERATE_DEVICE_CHOICES = ("auto", "cuda", "cpu")
GENERATE_DEVICES = ("cuda", "cpu")
GENERATE_FORMATS = ("completion", "chat")
# Why a generation ended: end-of-sequence token, a stop sequence, maxNewTokens, generate/cancel
# (or sidecar exit), an error (generate/finished's error says which).
GENERATE_FINISH_REASONS = ("eos", "stop", "length", "cancelled", "failed")
TRAIN_PROGRESS_NOTIFICATION = "train/progress"
TRAIN_CHECKPOINT_NOTIFICATION = "train/checkpoint"
TRAIN_FINISHED_NOTIFICATION = "train/finished"
TRAIN_FAILED_NOTIFICATION = "train/failed"
TRAIN_DEVICES = ("cuda", "cpu")
# What a train/stop found when the run ended: stopped early (resumable), finished at its last
# step anyway, or failed.
TRAIN_END_STATES = ("stopped", "finished", "failed")
# train/failed: out of GPU memory; no usable device (cuda asked for, none seen); an input the
# run cannot use (a config field, a file, the data); anything else (a bug: see the log).
TRAIN_FAILURE_KINDS = ("out-of-memory", "device", "input", "internal")
# Keys every train/progress metrics object has (null where a value does not apply: l_struct
# while beta = 0, GPU memory on a CPU, eta_s before the first step). training/metrics.py builds
# its METRIC_KEYS from these, adding the step counters (which the notification carries outside
# metrics) and the evaluation losses.
TRAIN_METRIC_KEYS = (
    "loss",
    "ce",
    "l_struct",
    "alpha",
    "beta",
    "lr",
    "grad_norm",
    "tokens_per_s",
    "samples_per_s",
    "gpu_mem_allocated",
    "gpu_mem_peak",
    "eta_s",
)

# ---------------------------------------------------------------------------------------------
# Schema building blocks


Problems = list[str]


@dataclass(frozen=True)
class Schema:
    """A check for one JSON value. ``description`` completes the sentence "expected ..."."""

    description: str
    validate: Callable[[Any, str], Problems]
    # Set for single-value checks only, so ``nullable`` can widen them without losing the
    # field's own wording in the error.
    accepts: Callable[[Any], bool] | None = None


def describe_found(value: Any) -> str:
    """How a wrong value is shown after "got": numbers and literals by value, the rest by type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def wrong_value(path: str, description: str, value: Any) -> str:
    return f"{path}: expected {description}, got {describe_found(value)}"


def missing_value(path: str, description: str) -> str:
    return f"{path}: expected {description}"


def child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def value_check(description: str, accepts: Callable[[Any], bool]) -> Schema:
    def validate(value: Any, path: str) -> Problems:
        return [] if accepts(value) else [wrong_value(path, description, value)]

    return Schema(description, validate, accepts)


def nullable(schema: Schema) -> Schema:
    if schema.accepts is None:
        raise TypeError("nullable() takes a single-value check")
    inner = schema.accepts
    return value_check(f"{schema.description} or null", lambda v: v is None or inner(v))


def is_integer(value: Any) -> bool:
    # bool is a subclass of int in Python but a distinct type in JSON.
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


def is_request_id(value: Any) -> bool:
    return isinstance(value, str) or is_integer(value)


STRING = value_check("a string", lambda v: isinstance(v, str))
NON_EMPTY_STRING = value_check("a non-empty string", lambda v: isinstance(v, str) and v != "")
BOOLEAN = value_check("a boolean", lambda v: isinstance(v, bool))
TRUE = value_check("true", lambda v: v is True)
INTEGER = value_check("an integer", is_integer)
NON_NEGATIVE_INTEGER = value_check("a non-negative integer", lambda v: is_integer(v) and v >= 0)
NON_NEGATIVE_NUMBER = value_check("a non-negative number", lambda v: is_number(v) and v >= 0)
REQUEST_ID = value_check("a string or an integer", is_request_id)
RESPONSE_ID = value_check("a string, an integer or null", lambda v: v is None or is_request_id(v))
NULL = value_check("null", lambda v: v is None)
ANY = Schema("any value", lambda value, path: [])
POSITIVE_INTEGER = value_check("a positive integer", lambda v: is_integer(v) and v >= 1)
POSITIVE_NUMBER = value_check("a positive number", lambda v: is_number(v) and v > 0)
# top-p 0 would keep no token at all, so the range is open at 0.
TOP_P = value_check("a number in (0, 1]", lambda v: is_number(v) and 0 < v <= 1)
PROBABILITY = value_check("a number in [0, 1]", lambda v: is_number(v) and 0 <= v <= 1)
NUMBER = value_check("a number", is_number)


def one_of(*choices: str) -> Schema:
    description = "one of " + ", ".join(f'"{choice}"' for choice in choices)
    return value_check(description, lambda v: isinstance(v, str) and v in choices)


def array_of(item: Schema) -> Schema:
    description = "an array"

    def validate(value: Any, path: str) -> Problems:
        if not isinstance(value, list):
            return [wrong_value(path, description, value)]
        problems: Problems = []
        for index, element in enumerate(value):
            problems += item.validate(element, f"{path}[{index}]")
        return problems

    return Schema(description, validate)


def map_of(value_schema: Schema) -> Schema:
    """An object used as a dictionary: any keys, every value checked by ``value_schema``."""
    description = "an object"

    def validate(value: Any, path: str) -> Problems:
        if not isinstance(value, dict):
            return [wrong_value(path, description, value)]
        problems: Problems = []
        for key, element in value.items():
            problems += value_schema.validate(element, child_path(path, key))
        return problems

    return Schema(description, validate)


def record_of(required: Mapping[str, Schema], rest: Schema) -> Schema:
    """An object with some required keys, each checked by its own schema, and any other keys
    checked by ``rest``."""
    description = "an object"

    def validate(value: Any, path: str) -> Problems:
        if not isinstance(value, dict):
            return [wrong_value(path, description, value)]
        problems: Problems = []
        for key, schema in required.items():
            if key in value:
                problems += schema.validate(value[key], child_path(path, key))
            else:
                problems.append(missing_value(child_path(path, key), schema.description))
        for key, element in value.items():
            if key not in required:
                problems += rest.validate(element, child_path(path, key))
        return problems

    return Schema(description, validate)


def object_of(
    required: Mapping[str, Schema] | None = None,
    optional: Mapping[str, Schema] | None = None,
) -> Schema:
    required = dict(required or {})
    optional = dict(optional or {})
    description = "an object"

    def validate(value: Any, path: str) -> Problems:
        if not isinstance(value, dict):
            return [wrong_value(path, description, value)]
        problems: Problems = []
        for key, schema in required.items():
            if key in value:
                problems += schema.validate(value[key], child_path(path, key))
            else:
                problems.append(missing_value(child_path(path, key), schema.description))
        for key, schema in optional.items():
            if key in value:
                problems += schema.validate(value[key], child_path(path, key))
        return problems

    return Schema(description, validate)


# ---------------------------------------------------------------------------------------------
# Requests and notifications sent to the server


def validate_envelope_to_server(message: Any) -> Problems:
    """JSON-RPC 2.0 request or notification shape; the method's params are checked separately."""
    if not isinstance(message, dict):
        return [wrong_value("message", "a JSON-RPC request object", message)]
    problems: Problems = []
    if message.get("jsonrpc") != JSONRPC_VERSION:
        problems += _problem_for("jsonrpc", '"2.0"', message)
    if "id" in message:
        problems += REQUEST_ID.validate(message["id"], "id")
    if "method" in message:
        problems += NON_EMPTY_STRING.validate(message["method"], "method")
    else:
        problems.append(missing_value("method", NON_EMPTY_STRING.description))
    if "params" in message and not isinstance(message["params"], (dict, list)):
        problems.append(wrong_value("params", "an object or an array", message["params"]))
    return problems


def _problem_for(key: str, description: str, message: dict) -> Problems:
    if key in message:
        return [wrong_value(key, description, message[key])]
    return [missing_value(key, description)]


def is_notification(message: Mapping[str, Any]) -> bool:
    return "id" not in message


ParamsValidator = Callable[[Any], Problems]


def object_params(
    required: Mapping[str, Schema] | None = None,
    optional: Mapping[str, Schema] | None = None,
) -> ParamsValidator:
    """Params validator for a method taking named params; absent params count as ``{}``."""
    schema = object_of(required, optional)

    def validate(params: Any) -> Problems:
        return schema.validate({} if params is None else params, "params")

    return validate


def no_params(params: Any) -> Problems:
    if params is None or params == {}:
        return []
    return [wrong_value("params", "no params or an empty object", params)]


def nullable_object(schema: Schema) -> Schema:
    """An object checked by ``schema``, or null."""
    description = f"{schema.description} or null"

    def validate(value: Any, path: str) -> Problems:
        if value is None:
            return []
        if not isinstance(value, dict):
            return [wrong_value(path, description, value)]
        return schema.validate(value, path)

    return Schema(description, validate)


# The workspace's git state for manifest.json, as the extension reads it with simple-git
# (src/core/runs/gitInfo.ts).
GIT_INFO = object_of(
    required={"commit": STRING, "dirty": BOOLEAN},
    optional={"branch": nullable(STRING), "changed": array_of(STRING)},
)


PARAMS_VALIDATORS: dict[str, ParamsValidator] = {
    "initialize": object_params(
        required={"protocolVersion": STRING},
        optional={"clientName": STRING, "clientVersion": STRING},
    ),
    "health/ping": object_params(optional={"delayMs": NON_NEGATIVE_NUMBER}),
    "shutdown": no_params,
    CANCEL_REQUEST_METHOD: object_params(required={"id": REQUEST_ID}),
    # Evaluation (DESIGN.md, "Workspace artifacts": .codistill/runs/<run-id>/eval/<benchmark>/).
    # Paths are local to the sidecar's machine; the handlers name a path that cannot be read.
    "eval/generate": object_params(
        required={
            "model": NON_EMPTY_STRING,
            "tasksPath": NON_EMPTY_STRING,
            "outDir": NON_EMPTY_STRING,
            "n": POSITIVE_INTEGER,
            "temperature": NON_NEGATIVE_NUMBER,
        },
        optional={
            "adapter": nullable(NON_EMPTY_STRING),
            "topP": TOP_P,
            "maxNewTokens": POSITIVE_INTEGER,
            "batchSize": POSITIVE_INTEGER,
            "backend": one_of(*EVAL_BACKEND_CHOICES),
            "limit": POSITIVE_INTEGER,
            "seed": NON_NEGATIVE_INTEGER,
            "select": one_of(*EVAL_SELECT_CHOICES),
        },
    ),
    "eval/execute": object_params(
        required={
            "tasksPath": NON_EMPTY_STRING,
            "samplesPath": NON_EMPTY_STRING,
            "outDir": NON_EMPTY_STRING,
        },
        optional={
            "workers": POSITIVE_INTEGER,
            "timeoutS": POSITIVE_NUMBER,
            "ks": array_of(POSITIVE_INTEGER),
            # Expected outputs computed by running reference solutions, kept across requests
            # (.codistill/cache/expected-outputs); created when missing.
            "cacheDir": NON_EMPTY_STRING,
            # EvalPlus's per-input time limit of a call test whose expected outputs come from a
            # reference run: max(minTimeLimitS, timeLimitFactor x the reference's time).
            "timeLimitFactor": POSITIVE_NUMBER,
            "minTimeLimitS": POSITIVE_NUMBER,
            # Also run MBPP's challenge_test_list after its test_list (default false).
            "challengeTests": BOOLEAN,
            # Refuse to run when the sandbox's isolation is below this level (default none).
            "minIsolation": one_of(*ISOLATION_LEVELS),
        },
    ),
    # Training (DESIGN.md, "Workspace artifacts": .codistill/runs/<run-id>/). The run goes on in
    # the sidecar after the answer; train/progress, train/checkpoint and then train/finished or
    # train/failed report it, each naming its runId (the run folder's name).
    "train/start": object_params(
        # The run config as training/config.py reads it from run.yaml (snake_case keys; the
        # trainer checks them and -32602 names the field: params.config.lora.r). Paths are
        # absolute, or relative to params.workspace.
        required={"config": map_of(ANY)},
        optional={
            # The run folder; default: config.output_dir, else
            # <workspace>/.codistill/runs/<yyyymmdd-hhmmss>-<student>-r<rank>.
            "runDir": NON_EMPTY_STRING,
            "workspace": NON_EMPTY_STRING,
            "git": nullable_object(GIT_INFO),
            # Training processes (DDP): default 1, a thread of the sidecar; more run under
            # torchrun (one per GPU on CUDA, gloo on CPUs). See training/rpc.py.
            "processes": POSITIVE_INTEGER,
        },
    ),
    "train/stop": object_params(required={"runId": NON_EMPTY_STRING}),
    # The encoder of L_struct (CodeBERT or any local Hugging Face encoder folder) as ONNX for the
    # editor: outDir gets model.onnx, tokenizer.json, tokenizer_config.json, config.json and
    # export.json (export/encoder.py). Created when missing; its files of those names replaced.
    "encoder/export": object_params(
        required={"path": NON_EMPTY_STRING, "outDir": NON_EMPTY_STRING},
        optional={
            # onnxruntime's dynamic quantization of the weights; null or absent: float32.
            "quantize": nullable(one_of(*ENCODER_QUANTIZATIONS)),
            # ONNX opset of the graph; default 17.
            "opset": POSITIVE_INTEGER,
        },
    ),
    # The student (a causal LM, a LoRA adapter merged in) as an ONNX decoder for the editor
    # (export/decoder.py): outDir, or a run's onnx/ for runDir (whose adapter/ is merged).
    "export/onnx": object_params(
        required={"model": NON_EMPTY_STRING},
        optional={
            "outDir": nullable(NON_EMPTY_STRING),
            "adapter": nullable(NON_EMPTY_STRING),
            "runDir": nullable(NON_EMPTY_STRING),
            "dtype": one_of(*DECODER_DTYPES),
            "quantize": nullable(one_of(*DECODER_QUANTIZATIONS)),
            "opset": POSITIVE_INTEGER,
        },
    ),
    # The editor's generation on the sidecar's device (generation/rpc.py): the answer comes once
    # the model is loaded and decoding has started; generate/token and generate/finished follow.
    "generate/start": object_params(
        required={
            "model": NON_EMPTY_STRING,
            "prompt": object_of(required={"kind": one_of(*GENERATE_PROMPT_KINDS), "text": STRING}),
        },
        optional={
            "adapter": nullable(NON_EMPTY_STRING),
            "maxNewTokens": POSITIVE_INTEGER,
            # 0 or absent: greedy.
            "temperature": NON_NEGATIVE_NUMBER,
            "topP": TOP_P,
            "seed": NON_NEGATIVE_INTEGER,
            # Added to the prompt format's own stop sequences.
            "stop": array_of(NON_EMPTY_STRING),
            "device": one_of(*GENERATE_DEVICE_CHOICES),
        },
    ),
    "generate/cancel": object_params(required={"generationId": NON_EMPTY_STRING}),
    # The run this sidecar is training now, if any (a reopened panel finds it again).
    "train/status": no_params,
    "sandbox/status": no_params,
}

_TRAIN_RESUME_FIELDS = object_params(
    optional={
        "runDir": NON_EMPTY_STRING,
        "runId": NON_EMPTY_STRING,
        "workspace": NON_EMPTY_STRING,
        # A checkpoint folder of the run (step-<n>, or a path); default: the latest.
        "checkpoint": NON_EMPTY_STRING,
        "git": nullable_object(GIT_INFO),
        # Default: the number of processes that wrote the checkpoint (an exact resume needs it).
        "processes": POSITIVE_INTEGER,
    }
)


def train_resume_params(params: Any) -> Problems:
    """train/resume names its run by folder, or by id (resolved under params.workspace, or
    among the runs this sidecar started)."""
    problems = _TRAIN_RESUME_FIELDS(params)
    if not problems and "runDir" not in (params or {}) and "runId" not in (params or {}):
        problems.append(
            missing_value("params.runDir", "a non-empty string (or params.runId of the run)")
        )
    return problems


PARAMS_VALIDATORS["train/resume"] = train_resume_params


_EVAL_GENERATE_FIELDS = PARAMS_VALIDATORS["eval/generate"]


def eval_generate_params(params: Any) -> Problems:
    """Choosing one sample by consensus needs several to choose from."""
    problems = _EVAL_GENERATE_FIELDS(params)
    if not problems and params.get("select") == "consensus" and params["n"] < 2:
        problems.append(
            f'params.select: "consensus" chooses one of several samples per task, so it needs '
            f"n >= 2, got n = {params['n']}"
        )
    return problems


PARAMS_VALIDATORS["eval/generate"] = eval_generate_params


def validate_params(method: str, params: Any = None) -> Problems:
    """Check a method's params; ``params=None`` means the message had no ``params`` member."""
    validator = PARAMS_VALIDATORS.get(method)
    if validator is None:
        return [f"method: no params schema for {method!r}"]
    return validator(params)


# ---------------------------------------------------------------------------------------------
# Responses sent to the client

GPU = object_of(
    required={
        "index": NON_NEGATIVE_INTEGER,
        "name": STRING,
        "totalMemory": NON_NEGATIVE_INTEGER,
        "freeMemory": NON_NEGATIVE_INTEGER,
    }
)

INITIALIZE_RESULT = object_of(
    required={
        "protocolVersion": STRING,
        "serverVersion": STRING,
        "pid": INTEGER,
        "python": object_of(required={"version": STRING, "executable": STRING}),
        "packages": object_of(
            required={
                "torch": nullable(STRING),
                "transformers": nullable(STRING),
                "peft": nullable(STRING),
            }
        ),
        "missing": array_of(STRING),
        "devices": object_of(
            required={
                "cuda": BOOLEAN,
                "cudaVersion": nullable(STRING),
                "gpus": array_of(GPU),
                "error": nullable(STRING),
            }
        ),
    }
)

PING_RESULT = object_of(required={"pong": TRUE, "pid": INTEGER})

EVAL_GENERATE_RESULT = object_of(
    required={
        "samplesPath": STRING,
        "samples": NON_NEGATIVE_INTEGER,
        "tasks": NON_NEGATIVE_INTEGER,
        "backend": one_of(*EVAL_BACKENDS),
        "wallS": NON_NEGATIVE_NUMBER,
    }
)

EVAL_SUMMARY = object_of(
    required={
        "samples": NON_NEGATIVE_INTEGER,
        "tasks": NON_NEGATIVE_INTEGER,
        "statuses": map_of(NON_NEGATIVE_INTEGER),
        "passAtK": map_of(PROBABILITY),
        "wallS": NON_NEGATIVE_NUMBER,
        # What kept the samples in: "landlock-v7+userns+netns+pidns", "rlimits-only", ...
        "isolation": NON_EMPTY_STRING,
    }
)

EVAL_EXECUTE_RESULT = object_of(required={"resultsPath": STRING, "summary": EVAL_SUMMARY})

TRAIN_RUN = {
    "runId": NON_EMPTY_STRING,
    "runDir": NON_EMPTY_STRING,
    # Where the run trains; "cpu" without a GPU comes with a warning (small models only).
    "device": one_of(*TRAIN_DEVICES),
    "warnings": array_of(STRING),
}

TRAIN_START_RESULT = object_of(required=TRAIN_RUN)

TRAIN_RESUME_RESULT = object_of(
    required={**TRAIN_RUN, "checkpoint": NON_EMPTY_STRING, "step": NON_NEGATIVE_INTEGER}
)

TRAIN_STOP_RESULT = object_of(
    required={
        "runId": NON_EMPTY_STRING,
        # True when the run stopped before its last step, with a checkpoint to resume from.
        "stopped": BOOLEAN,
        "state": one_of(*TRAIN_END_STATES),
        "step": NON_NEGATIVE_INTEGER,
        "checkpoint": nullable(NON_EMPTY_STRING),
    }
)

# What keeps samples in (execution/isolation.py): its name, level, and why it is not more.
SANDBOX_STATUS_RESULT = object_of(
    required={
        "isolation": NON_EMPTY_STRING,
        "level": one_of(*ISOLATION_LEVELS),
        "problems": array_of(STRING),
    }
)

TRAIN_STATUS_RESULT = object_of(
    required={
        # null when no run is going on.
        "active": nullable_object(
            object_of(
                required={
                    "runId": NON_EMPTY_STRING,
                    "runDir": NON_EMPTY_STRING,
                    # The last step logged or checkpointed (a resume's checkpoint step before).
                    "step": NON_NEGATIVE_INTEGER,
                    # null until the run has logged a step.
                    "totalSteps": nullable(POSITIVE_INTEGER),
                    "processes": POSITIVE_INTEGER,
                }
            )
        )
    }
)

ENCODER_EXPORT_RESULT = object_of(
    required={
        "outDir": NON_EMPTY_STRING,
        "modelPath": NON_EMPTY_STRING,
        "quantized": BOOLEAN,
        # Validation on sample code: onnxruntime against PyTorch (float32, eval mode), the
        # largest absolute difference of last_hidden_state, and the lowest cosine of the
        # mean-pooled embeddings.
        "maxAbsDiff": NON_NEGATIVE_NUMBER,
        "minCosine": NUMBER,
        "hiddenSize": POSITIVE_INTEGER,
        # Tokens the encoder reads at once (RoBERTa: max_position_embeddings - 2).
        "maxPositions": POSITIVE_INTEGER,
        # The names of the files written to outDir.
        "files": array_of(NON_EMPTY_STRING),
        "wallS": NON_NEGATIVE_NUMBER,
    }
)

EXPORT_ONNX_RESULT = object_of(
    required={
        "outDir": NON_EMPTY_STRING,
        "modelPath": NON_EMPTY_STRING,
        "dtype": one_of(*DECODER_DTYPES),
        "quantize": nullable(one_of(*DECODER_QUANTIZATIONS)),
        # The adapter merged (a run's adapter/ for runDir); null without one.
        "adapter": nullable(NON_EMPTY_STRING),
        # Validation: onnxruntime against float32 PyTorch, largest absolute logit difference
        # and the tolerance it was held to.
        "maxAbsDiff": NON_NEGATIVE_NUMBER,
        "tolerance": NON_NEGATIVE_NUMBER,
        "numLayers": POSITIVE_INTEGER,
        "files": array_of(NON_EMPTY_STRING),
        "wallS": NON_NEGATIVE_NUMBER,
    }
)

GENERATE_START_RESULT = object_of(
    required={
        "generationId": NON_EMPTY_STRING,
        "promptTokens": NON_NEGATIVE_INTEGER,
        "device": one_of(*GENERATE_DEVICES),
        "format": one_of(*GENERATE_FORMATS),
    }
)

GENERATE_CANCEL_RESULT = object_of(required={"cancelled": BOOLEAN})

RESULT_SCHEMAS: dict[str, Schema] = {
    "initialize": INITIALIZE_RESULT,
    "health/ping": PING_RESULT,
    "shutdown": NULL,
    "eval/generate": EVAL_GENERATE_RESULT,
    "eval/execute": EVAL_EXECUTE_RESULT,
    "train/start": TRAIN_START_RESULT,
    "train/resume": TRAIN_RESUME_RESULT,
    "train/stop": TRAIN_STOP_RESULT,
    "train/status": TRAIN_STATUS_RESULT,
    "sandbox/status": SANDBOX_STATUS_RESULT,
    "encoder/export": ENCODER_EXPORT_RESULT,
    "export/onnx": EXPORT_ONNX_RESULT,
    "generate/start": GENERATE_START_RESULT,
    "generate/cancel": GENERATE_CANCEL_RESULT,
}

ERROR_OBJECT = object_of(required={"code": INTEGER, "message": STRING}, optional={"data": ANY})


def validate_result(method: str, result: Any, path: str = "result") -> Problems:
    schema = RESULT_SCHEMAS.get(method)
    if schema is None:
        return [f"method: no result schema for {method!r}"]
    return schema.validate(result, path)


def validate_response(message: Any, method: str | None = None) -> Problems:
    """JSON-RPC 2.0 response shape; with ``method``, also that method's result."""
    if not isinstance(message, dict):
        return [wrong_value("message", "a JSON-RPC response object", message)]
    problems: Problems = []
    if message.get("jsonrpc") != JSONRPC_VERSION:
        problems += _problem_for("jsonrpc", '"2.0"', message)
    if "id" in message:
        problems += RESPONSE_ID.validate(message["id"], "id")
    else:
        problems.append(missing_value("id", RESPONSE_ID.description))
    has_result, has_error = "result" in message, "error" in message
    if has_result == has_error:
        problems.append("message: expected exactly one of result and error")
    elif has_error:
        problems += ERROR_OBJECT.validate(message["error"], "error")
    elif method is not None:
        problems += validate_result(method, message["result"])
    return problems


# ---------------------------------------------------------------------------------------------
# Notifications sent to the client

TRAIN_METRICS = record_of({key: nullable(NUMBER) for key in TRAIN_METRIC_KEYS}, nullable(NUMBER))

NOTIFICATION_PARAMS: dict[str, Schema] = {
    EVAL_PROGRESS_NOTIFICATION: object_of(
        required={
            "requestId": REQUEST_ID,
            "phase": one_of(*EVAL_PHASES),
            "done": NON_NEGATIVE_INTEGER,
            "total": NON_NEGATIVE_INTEGER,
        },
        optional={"message": STRING},
    ),
    TRAIN_PROGRESS_NOTIFICATION: object_of(
        required={
            "runId": NON_EMPTY_STRING,
            "step": NON_NEGATIVE_INTEGER,
            "totalSteps": POSITIVE_INTEGER,
            "epoch": NON_NEGATIVE_NUMBER,
            "metrics": TRAIN_METRICS,
        },
        # Metrics that were NaN or infinite (JSON has no such numbers): sent as null.
        optional={"nonFinite": array_of(STRING)},
    ),
    TRAIN_CHECKPOINT_NOTIFICATION: object_of(
        required={
            "runId": NON_EMPTY_STRING,
            "step": NON_NEGATIVE_INTEGER,
            "path": NON_EMPTY_STRING,
        }
    ),
    TRAIN_FINISHED_NOTIFICATION: object_of(
        required={
            "runId": NON_EMPTY_STRING,
            "runDir": NON_EMPTY_STRING,
            "step": NON_NEGATIVE_INTEGER,
            "totalSteps": POSITIVE_INTEGER,
            # train/stop: ended early with a checkpoint; train/resume carries on from it.
            "stopped": BOOLEAN,
            # <run>/adapter, written when the run reached its last step; null when stopped.
            "adapter": nullable(NON_EMPTY_STRING),
            "checkpoint": nullable(NON_EMPTY_STRING),
            # The last logged step's metrics ({} when no step ran).
            "metrics": map_of(nullable(NUMBER)),
        },
        optional={"nonFinite": array_of(STRING)},
    ),
    TRAIN_FAILED_NOTIFICATION: object_of(
        required={
            "runId": NON_EMPTY_STRING,
            "kind": one_of(*TRAIN_FAILURE_KINDS),
            "message": NON_EMPTY_STRING,
        },
        optional={
            # The run config's dotted field the failure is about (kind "input" or "device").
            "field": NON_EMPTY_STRING,
            # Concrete changes to try (out of memory: batch size, gradient checkpointing, QLoRA).
            "suggestions": array_of(STRING),
            "step": NON_NEGATIVE_INTEGER,
            # The latest whole checkpoint: train/resume carries on from it.
            "checkpoint": nullable(NON_EMPTY_STRING),
        },
    ),
}


NOTIFICATION_PARAMS[GENERATE_TOKEN_NOTIFICATION] = object_of(
    required={
        "generationId": NON_EMPTY_STRING,
        "tokenIds": array_of(NON_NEGATIVE_INTEGER),
        # The text these tokens add (held back: a partial character, a possible stop's start).
        "text": STRING,
    }
)
NOTIFICATION_PARAMS[GENERATE_FINISHED_NOTIFICATION] = object_of(
    required={
        "generationId": NON_EMPTY_STRING,
        "reason": one_of(*GENERATE_FINISH_REASONS),
        # The whole text generated after the prompt, cut before a stop sequence.
        "text": STRING,
        # The new ids, up to the one that completed a stop sequence; no end-of-sequence id
        # (the fields of the editor's ONNX decoder's result, src/core/inference/decoder.ts).
        "tokenIds": array_of(NON_NEGATIVE_INTEGER),
        "promptTokens": NON_NEGATIVE_INTEGER,
        "newTokens": NON_NEGATIVE_INTEGER,
        # From the start of decoding to the first token chosen (0 when none was).
        "firstTokenMs": NON_NEGATIVE_NUMBER,
        # newTokens over the seconds of decoding.
        "tokensPerS": NON_NEGATIVE_NUMBER,
    },
    optional={"error": STRING},
)


def validate_notification(message: Any) -> Problems:
    """A notification from the server: JSON-RPC 2.0 shape, no id, and its method's params."""
    if not isinstance(message, dict):
        return [wrong_value("message", "a JSON-RPC notification object", message)]
    problems: Problems = []
    if message.get("jsonrpc") != JSONRPC_VERSION:
        problems += _problem_for("jsonrpc", '"2.0"', message)
    if "id" in message:
        problems.append(wrong_value("id", "no id (a notification)", message["id"]))
    method = message.get("method")
    if not isinstance(method, str) or not method:
        return problems + _problem_for("method", NON_EMPTY_STRING.description, message)
    schema = NOTIFICATION_PARAMS.get(method)
    if schema is None:
        return problems + [f"method: no params schema for notification {method!r}"]
    if "params" not in message:
        return problems + [missing_value("params", schema.description)]
    return problems + schema.validate(message["params"], "params")


def validate_message_to_client(message: Any, method: str | None = None) -> Problems:
    """Anything the server writes: a notification when it has a method and no id, else a
    response (checked against ``method``'s result schema when given)."""
    if isinstance(message, dict) and "method" in message and "id" not in message:
        return validate_notification(message)
    return validate_response(message, method)


# ---------------------------------------------------------------------------------------------
# Message constructors used by the server


def success_response(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": JSONRPC_VERSION, "id": request_id, "result": result}


def error_response(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": JSONRPC_VERSION, "id": request_id, "error": error}


def notification(method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": JSONRPC_VERSION, "method": method}
    if params is not None:
        message["params"] = params
    return message


def protocol_major(version: str) -> str:
    return version.split(".", 1)[0]


def is_supported_protocol_version(client_version: str) -> bool:
    # Minor versions only add optional fields and methods, so only the major part must agree.
    return protocol_major(client_version) == protocol_major(PROTOCOL_VERSION)

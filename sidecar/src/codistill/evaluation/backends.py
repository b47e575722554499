"""Generation backends: Hugging Face transformers (any machine) and vLLM (CUDA, when installed).

Both take the same batch of prompt texts and return the raw generated text of every sample.
torch, transformers, peft and vllm are imported only when a backend is chosen or built, so the
server starts, and reports what is missing, on a bare interpreter.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import Cancelled, EvalInputError

log = logging.getLogger("codistill.eval")

AUTO = "auto"
TRANSFORMERS = "transformers"
VLLM = "vllm"
# vLLM pre-allocates LoRA slots for one of these ranks; an adapter's rank is rounded up to one.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


class BackendUnavailable(RuntimeError):
    """The backend asked for cannot run here; the message says why and what to install."""


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float
    max_new_tokens: int
    seed: int

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def is_installed(module: str) -> bool:
    # find_spec looks the package up without importing it: importing vllm takes seconds. A
    # finder that fails (a broken install) counts as the package not being there.
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def cuda_available() -> bool:
    if not is_installed("torch"):
        return False
    import torch

    return torch.cuda.is_available()


def missing_package(package: str, backend: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"backend {backend}: the {package} package is not installed in {sys.executable} "
        f"(pip install {package})"
    )


def choose_backend(requested: str) -> str:
    """The backend to use: "auto" is vLLM when it is installed and a CUDA GPU is present (vLLM
    needs one), else transformers. A backend named outright must be usable, or this raises
    BackendUnavailable naming the reason."""
    if requested not in (AUTO, TRANSFORMERS, VLLM):
        raise ValueError(f"backend: expected auto, transformers or vllm, got {requested!r}")
    if requested in (AUTO, VLLM) and is_installed("vllm") and cuda_available():
        return VLLM
    if requested == VLLM:
        if not is_installed("vllm"):
            raise missing_package("vllm", VLLM)
        raise BackendUnavailable("backend vllm: no CUDA GPU is available (vLLM needs one)")
    for package in ("torch", "transformers"):
        if not is_installed(package):
            raise missing_package(package, TRANSFORMERS)
    return TRANSFORMERS


def load_tokenizer(model: str) -> Any:
    """The model's tokenizer, set up for batched decoder-only generation: left padding (new
    tokens follow every prompt directly) and a pad token (end-of-sequence when it has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token_id is None:
            raise EvalInputError(
                "model",
                f"the tokenizer in {model} has neither a pad nor an end-of-sequence token, "
                "so prompts cannot be batched",
            )
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def adapter_rank(adapter: str) -> int:
    config_path = Path(adapter) / "adapter_config.json"
    try:
        rank = json.loads(config_path.read_text(encoding="utf-8"))["r"]
    except (OSError, ValueError, KeyError) as exc:
        raise EvalInputError(
            "adapter", f"cannot read the LoRA rank r from {config_path}: {exc}"
        ) from None
    if not isinstance(rank, int) or rank < 1:
        raise EvalInputError(
            "adapter", f"{config_path}: r: expected a positive integer, got {rank!r}"
        )
    return rank


def dtype_option(dtype: Any) -> dict[str, Any]:
    """from_pretrained's dtype argument: `dtype` since transformers 4.56, `torch_dtype` before."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("transformers").split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


class TransformersBackend:
    name = TRANSFORMERS

    def __init__(self, model: str, adapter: str | None, sampling: Sampling, tokenizer: Any) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        self.torch = torch
        self.sampling = sampling
        self.tokenizer = tokenizer
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        # bf16 halves memory on GPUs that have it; CPUs get float32, their fast path.
        use_bf16 = self.device == "cuda" and torch.cuda.is_bf16_supported()
        dtype = torch.bfloat16 if use_bf16 else torch.float32
        network = AutoModelForCausalLM.from_pretrained(model, **dtype_option(dtype))
        if adapter is not None:
            from peft import PeftModel

            network = PeftModel.from_pretrained(network, adapter)
        self.model = network.to(self.device).eval()
        self.device_name = torch.cuda.get_device_name(0) if self.device == "cuda" else "cpu"
        from transformers import set_seed

        # Seeded after loading, right before the first sample, so the same seed gives the same
        # samples whatever loading consumed.
        set_seed(sampling.seed)

    def generation_config(self, per_prompt: int) -> Any:
        from transformers import GenerationConfig

        defaults = self.model.generation_config
        sampling = self.sampling
        return GenerationConfig(
            max_new_tokens=sampling.max_new_tokens,
            do_sample=not sampling.greedy,
            temperature=None if sampling.greedy else sampling.temperature,
            top_p=None if sampling.greedy else sampling.top_p,
            # Pure nucleus sampling, as vLLM and EvalPlus do: no top-k of 50 carried over from
            # a model's generation_config.json.
            top_k=None if sampling.greedy else 0,
            num_return_sequences=per_prompt,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=defaults.eos_token_id
            if defaults.eos_token_id is not None
            else self.tokenizer.eos_token_id,
            bos_token_id=defaults.bos_token_id,
        )

    def generate(
        self,
        texts: Sequence[str],
        per_prompt: int,
        stops: Sequence[tuple[str, ...]],
        add_special_tokens: bool,
        cancelled: Cancelled,
    ) -> list[list[str]]:
        """``per_prompt`` raw generations for each text, in order."""
        from transformers import StoppingCriteriaList

        batch = self.tokenizer(
            list(texts), return_tensors="pt", padding=True, add_special_tokens=add_special_tokens
        ).to(self.device)
        prompt_length = batch["input_ids"].shape[1]
        row_stops = [stop for stop in stops for _ in range(per_prompt)]
        criteria = StoppingCriteriaList(
            [stop_criterion(self.tokenizer, prompt_length, row_stops, cancelled)]
        )
        with self.torch.inference_mode():
            output = self.model.generate(
                **batch,
                generation_config=self.generation_config(per_prompt),
                stopping_criteria=criteria,
            )
        decoded = self.tokenizer.batch_decode(output[:, prompt_length:], skip_special_tokens=True)
        return [decoded[i * per_prompt : (i + 1) * per_prompt] for i in range(len(texts))]


def stop_criterion(
    tokenizer: Any, prompt_length: int, row_stops: list[tuple[str, ...]], cancelled: Cancelled
) -> Any:
    """A StoppingCriteria that ends each row once its new text holds one of its stop sequences,
    and every row once the request is cancelled (so a cancel does not wait for a whole batch)."""
    import torch
    from transformers import StoppingCriteria

    longest = max((len(stop) for stops in row_stops for stop in stops), default=0)
    # A token decodes to at least part of one character, so the last `longest` tokens (plus a
    # margin for byte-level pieces) always hold a stop sequence completed at this step.
    tail_tokens = 2 * longest + 8

    class StopSequences(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            rows = input_ids.shape[0]
            if cancelled():
                return torch.ones(rows, dtype=torch.bool, device=input_ids.device)
            done = [False] * rows
            for row in range(rows):
                stops = row_stops[row]
                if not stops:
                    continue
                new = input_ids[row, prompt_length:][-tail_tokens:]
                text = tokenizer.decode(new, skip_special_tokens=True)
                done[row] = any(stop in text for stop in stops)
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return StopSequences()


class VllmBackend:
    name = VLLM

    def __init__(self, model: str, adapter: str | None, sampling: Sampling, tokenizer: Any) -> None:
        from vllm import LLM

        self.sampling = sampling
        self.tokenizer = tokenizer
        options: dict[str, Any] = {"model": model, "seed": sampling.seed}
        self.lora_request = None
        if adapter is not None:
            from vllm.lora.request import LoRARequest

            rank = adapter_rank(adapter)
            options["enable_lora"] = True
            options["max_lora_rank"] = next((r for r in VLLM_LORA_RANKS if r >= rank), rank)
            self.lora_request = LoRARequest("adapter", 1, adapter)
        self.llm = LLM(**options)
        import torch

        self.device_name = torch.cuda.get_device_name(0)

    def generate(
        self,
        texts: Sequence[str],
        per_prompt: int,
        stops: Sequence[tuple[str, ...]],
        add_special_tokens: bool,
        cancelled: Cancelled,
    ) -> list[list[str]]:
        from vllm import SamplingParams

        # Token ids rather than text: vLLM would add a second BOS to a chat template's own.
        prompts = [
            {
                "prompt_token_ids": self.tokenizer(text, add_special_tokens=add_special_tokens)[
                    "input_ids"
                ]
            }
            for text in texts
        ]
        sampling = self.sampling
        params = [
            SamplingParams(
                n=per_prompt,
                temperature=sampling.temperature,
                top_p=1.0 if sampling.greedy else sampling.top_p,
                max_tokens=sampling.max_new_tokens,
                stop=list(stop),
            )
            for stop in stops
        ]
        outputs = self.llm.generate(prompts, params, lora_request=self.lora_request, use_tqdm=False)
        return [[choice.text for choice in output.outputs] for output in outputs]


def build_backend(
    name: str, model: str, adapter: str | None, sampling: Sampling, tokenizer: Any
) -> TransformersBackend | VllmBackend:
    backend_class = VllmBackend if name == VLLM else TransformersBackend
    return backend_class(model, adapter, sampling, tokenizer)

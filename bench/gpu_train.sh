#!/usr/bin/env bash
# Training throughput and peak memory on one GPU (issue 5, "Performance"): a Llama-3.1-8B-shaped
# student (random weights, bf16, LoRA r=32, sequence 2048) with and without L_struct through a
# RoBERTa-base-shaped encoder. Prepared for one H100 with no network; a few minutes (model build
# and tokenizers under a minute, then 4 arms x 23 steps). See bench/gpu_train.py for what is
# measured and how; arguments pass through to it (e.g. --steps 40 --settings 1,2,2+gc).
#
#   bash bench/gpu_train.sh                 # figures on stdout, and in $OUT (else /tmp/codistill-bench):
#                                           # gpu_train.log, gpu_train.json
#   bash bench/gpu_train.sh --dry-run       # CPU only: what the test suite runs
#
# Python: $PYTHON, else the first of .venv/bin/python and python3 with a CUDA torch (the GPU
# machines' python3 has torch, transformers, peft and tokenizers), else .venv/bin/python. Data for the tokenizers:
# CODISTILL_DATA, else ./data (carry it to a GPU machine: it is git-ignored), else
# ../shared/data, else the golden task slices in test/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."

has_cuda_torch() { "$1" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }
python=${PYTHON:-}
if [[ -z $python ]]; then
  python=python3
  for candidate in .venv/bin/python python3; do
    if command -v "$candidate" >/dev/null && has_cuda_torch "$candidate"; then python=$candidate; break; fi
  done
  # No CUDA torch anywhere (a CPU machine, --dry-run): the repository's environment.
  if ! has_cuda_torch "$python" && [[ -x .venv/bin/python ]]; then python=.venv/bin/python; fi
fi

export PYTHONPATH="$PWD/sidecar/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
# Nothing is downloaded: every model is built from a config, every tokenizer trained here.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
# Fewer allocator splits for the 2048-token activations of an 8B model.
export PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}

out=${OUT:-${TMPDIR:-/tmp}/codistill-bench}
mkdir -p "$out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$python" -c 'import torch, transformers, peft, tokenizers; print("torch", torch.__version__, "cuda", torch.version.cuda, "| transformers", transformers.__version__, "| peft", peft.__version__)'
set -o pipefail
"$python" bench/gpu_train.py --json "$out/gpu_train.json" "$@" 2>&1 | tee "$out/gpu_train.log"

#!/usr/bin/env bash
# GPU train-step benchmark, run on a CUDA machine that has no Rust toolchain:
# it receives the release `muppet` built elsewhere with
#   CUDARC_CUDA_VERSION=13000 cargo build --release -p muppet-cli --features cuda
# (stripped, in device-out/muppet) and PyTorch with transformers installed.
# Prints one JSON line per measurement: muppet (fp32, and every float in bf16 / f16) and
# PyTorch (fp32, and bf16 / fp16 autocast) on the same shapes, then the table of
# bench/gpu/summarize.py (ratios, MFU against the GPU's dense peak, peak memory).
#   bash bench/gpu/train_step.sh [path/to/muppet]
set -uo pipefail
bin="${1:-device-out/muppet}"
steps="${STEPS:-10}"
warmup="${WARMUP:-3}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$bin" --version
log="$(mktemp)"
# preset, batch, length
for shape in "minilm-l6 32 128" "roberta-base 32 256"; do
  set -- $shape
  for backend in cuda cuda-bf16 cuda-f16; do
    "$bin" bench train-step --preset "$1" --batch-size "$2" --max-len "$3" --steps "$steps" --warmup "$warmup" --backend "$backend" --json
  done
  for dtype in fp32 bf16 fp16; do
    python3 bench/torch_train_step.py --preset "$1" --batch-size "$2" --max-len "$3" --steps "$steps" --warmup "$warmup" \
      --device cuda --dtype "$dtype" --json
  done
done | tee "$log"
python3 "$(dirname "$0")/summarize.py" --gpu "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" < "$log"
# A machine without CUDA must get a clear error, not a crash: shown here by hiding the GPU.
CUDA_VISIBLE_DEVICES="" "$bin" bench train-step --preset minilm-l6 --steps 1 --warmup 0 --backend cuda --json; echo "exit status without a visible GPU: $?"

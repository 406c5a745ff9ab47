#!/usr/bin/env bash
# The CUDA build with kernel fusion and autotune (--features cuda-fusion) on the shapes of
# device_run.sh, each muppet run next to PyTorch's on the same machine. Its first process
# compiles every fused kernel and runs every autotune search (on lavapipe that is 60% of a
# MiniLM run: BENCHMARKS.md), so each muppet run gets a long timeout, and its warmup
# steps absorb the start; the timed steps after them are warm. The compiled kernels and
# autotune results (muppet keeps them in $MUPPET_HOME/cache/kernels) come back as
# kernels-fusion.tar.xz, for later calls to carry (scripts/gpu/pack.sh FUSION_KERNELS=...).
# It receives device-out/muppet-fusion.xz (scripts/gpu/pack.sh with FUSION_BIN set).
#   BUDGET_S=420 bash bench/gpu/fusion_probe.sh
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out"
work="$(mktemp -d)"
budget="${BUDGET_S:-420}"  # start no new muppet run after this many seconds
start=$SECONDS
exec > >(tee -a "$out/probe.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
xz -dc device-out/muppet-fusion.xz >"$work/muppet" && chmod +x "$work/muppet"
export MUPPET_HOME="$work/home"
mkdir -p "$MUPPET_HOME/cache"
[ -f device-out/kernels-fusion.tar.xz ] && tar -C "$MUPPET_HOME/cache" -xJf device-out/kernels-fusion.tar.xz
printf '[compilation.logger]\nlevel = "basic"\nfile = "%s"\n[autotune.logger]\nlevel = "minimal"\nfile = "%s"\n' \
  "$work/compile.log" "$work/autotune.log" >"$work/cubecl.toml"
repo="$PWD"
# preset, batch, length, muppet --mixed-precision, PyTorch --dtype
for run in "roberta-base 32 256 bf16 bf16" "roberta-base 32 256 no fp32" "minilm-l6 32 128 bf16 bf16"; do
  set -- $run
  (( SECONDS - start < budget )) || { echo "skipped (budget of ${budget} s spent): $run" >&2; continue; }
  t0=$SECONDS
  (cd "$work" && timeout "${PROBE_S:-400}" ./muppet bench train-step --preset "$1" --batch-size "$2" --max-len "$3" \
    --steps 10 --warmup 3 --backend cuda --mixed-precision "$4" --json)
  echo "muppet $run: exit $? after $((SECONDS - t0)) s; kernels compiled so far $(grep -c . "$work/compile.log" 2>/dev/null || echo 0), autotune searches $(grep -c Fastest "$work/autotune.log" 2>/dev/null || echo 0)" >&2
  timeout 120 python3 "$repo/bench/torch_train_step.py" --preset "$1" --batch-size "$2" --max-len "$3" --steps 10 --warmup 3 \
    --device cuda --dtype "$5" --json
done | tee "$out/fusion_step.jsonl"
gpu="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
python3 bench/gpu/summarize.py --gpu "$gpu" <"$out/fusion_step.jsonl" | tee "$out/fusion_summary.md"
gzip -c "$work/compile.log" >"$out/compile.log.gz" 2>/dev/null
gzip -c "$work/autotune.log" >"$out/autotune.log.gz" 2>/dev/null
tar -C "$MUPPET_HOME/cache" -cJf "$out/kernels-fusion.tar.xz" kernels 2>/dev/null && du -b "$out/kernels-fusion.tar.xz"
echo "total $((SECONDS - start)) s"

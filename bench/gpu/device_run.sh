#!/usr/bin/env bash
# Everything the GPU machine is asked for, in one call (its time is counted, and each call
# starts a bare machine): the CUDA correctness run (and its first 20 updates data-parallel
# on two peers), then the train-step benchmark in
# every precision (mixed bf16 first) against PyTorch, then the data-parallel sums per
# parameter against packed (bench/dp_buckets.py), then a per-phase split and a kernel
# profile of one shape. It receives
#   device-out/muppet.xz     the stripped release build with --features cuda, xz-compressed;
#   device-out/data.tar.xz   device-data/assets from scripts/gpu/prepare_correctness.sh;
# both made by scripts/gpu/pack.sh, in one carry of at most 64 MiB. Results go to $OUT
# (or ./gpu-out): log.txt, losses-cuda.jsonl, train_step.jsonl, dp_buckets.jsonl, summary.md, the kernel
# profiles kernels-<backend>-mixed-<m>.log.gz and the compiled kernels (kernels.tar.xz:
# scripts/gpu/pack.sh with KERNELS set carries them into the next call).
#   bash bench/gpu/device_run.sh
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out"
budget="${BUDGET_S:-420}"  # stop starting new measurements after this many seconds
start=$SECONDS
work="$(mktemp -d)"
exec > >(tee -a "$out/log.txt") 2>&1
left() { (( SECONDS - start < budget )) || { echo "skipped (budget of ${budget} s spent): $*"; return 1; }; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
xz -dc device-out/muppet.xz >"$work/muppet" && chmod +x "$work/muppet"
tar -C "$work" -xJf device-out/data.tar.xz
bin="$work/muppet"
"$bin" --version
# One home for the benchmarks, so that they share the kernels muppet compiles (kept in
# $MUPPET_HOME/cache/kernels), seeded with a cache an earlier call returned, if carried.
export MUPPET_HOME="$work/home"
mkdir -p "$MUPPET_HOME/cache"
[ -f device-out/kernels.tar.xz ] && tar -C "$MUPPET_HOME/cache" -xJf device-out/kernels.tar.xz
echo "== correctness: 200 updates of MiniLM on four real tasks, cuda ($((SECONDS - start)) s)"
MUPPET_ASSETS="$work/assets" timeout 180 bash bench/gpu/correctness.sh cuda "$bin" >"$out/losses-cuda.jsonl"
echo "exit $?; $(wc -l <"$out/losses-cuda.jsonl") lines"; tail -n 2 "$out/losses-cuda.jsonl"
echo "== data-parallel: the same run's first 20 updates on two peers sharing the GPU ($((SECONDS - start)) s)"
MUPPET_ASSETS="$work/assets" STEPS=20 DEVICES=2 timeout 120 bash bench/gpu/correctness.sh cuda "$bin" >"$out/losses-cuda-2peers.jsonl"
echo "exit $?; $(wc -l <"$out/losses-cuda-2peers.jsonl") lines"; tail -n 1 "$out/losses-cuda-2peers.jsonl"
steps="${STEPS:-10}" warmup="${WARMUP:-3}"
declare -A measured  # PyTorch rows already taken (one per shape and dtype)
for shape in "roberta-base 32 256" "minilm-l6 32 128"; do
  # muppet backend, its --mixed-precision, the PyTorch --dtype it is compared with (bf16
  # and fp16 are autocast there): each pair back to back, so that a spent budget leaves
  # whole pairs. Mixed bf16 first: it is the scheme PyTorch's bf16 row uses.
  for pair in "cuda bf16 bf16" "cuda no fp32" "cuda-bf16 no bf16" "cuda-f16 no fp16"; do
    set -- $shape $pair
    left "$1 $4 $5" || continue
    timeout 150 "$bin" bench train-step --preset "$1" --batch-size "$2" --max-len "$3" --steps "$steps" --warmup "$warmup" \
      --backend "$4" --mixed-precision "$5" --json
    [[ -n "${measured[$1 $6]:-}" ]] && continue
    measured[$1 $6]=1
    timeout 120 python3 bench/torch_train_step.py --preset "$1" --batch-size "$2" --max-len "$3" --steps "$steps" --warmup "$warmup" \
      --device cuda --dtype "$6" --json
  done
done | tee "$out/train_step.jsonl"
echo "== data-parallel sums, one all-reduce per parameter against 25 MiB buckets: two peers sharing the GPU ($((SECONDS - start)) s)"
if left "data-parallel buckets"; then
  MUPPET_ASSETS="$work/assets" timeout 150 python3 bench/dp_buckets.py --muppet "$bin" --backend cuda --layout devices --rounds 1 \
    --steps 10 --batch-size 32 --max-len 128 --task sarcasm_headlines --task vitaminc | tee "$out/dp_buckets.jsonl"
fi
echo "== phases ($((SECONDS - start)) s)"
for run in "cuda bf16" "cuda no"; do
  set -- $run
  left "phases $1 $2" || continue
  timeout 90 "$bin" bench train-step --preset roberta-base --batch-size 32 --max-len 256 --steps 5 --warmup 3 \
    --backend "$1" --mixed-precision "$2" --phases --json
done | tee -a "$out/train_step.jsonl"
for dtype in bf16 fp32; do
  left "phases torch $dtype" || continue
  timeout 90 python3 bench/torch_train_step.py --preset roberta-base --batch-size 32 --max-len 256 --steps 5 --warmup 3 \
    --device cuda --dtype "$dtype" --phases --json
done | tee -a "$out/train_step.jsonl"
# Kernel times of two RoBERTa steps per precision: cubecl's profiling logger (a cubecl.toml
# in the working folder), which waits for each kernel, so only the split is meaningful.
for run in "cuda bf16" "cuda no"; do
  set -- $run
  left "kernel profile $1 $2" || continue
  dir="$work/profile-$1-$2"; mkdir -p "$dir"
  printf '[profiling.logger]\nlevel = "basic"\nfile = "%s"\nappend = false\n' "$dir/kernels.log" >"$dir/cubecl.toml"
  (cd "$dir" && timeout 90 "$bin" bench train-step --preset roberta-base --batch-size 32 --max-len 256 --steps 1 --warmup 1 \
    --backend "$1" --mixed-precision "$2" --phases --json)
  ls -l "$dir/kernels.log" && gzip -c "$dir/kernels.log" >"$out/kernels-$1-mixed-$2.log.gz"
done
gpu="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
python3 bench/gpu/summarize.py --gpu "$gpu" <"$out/train_step.jsonl" | tee "$out/summary.md"
tar -C "$MUPPET_HOME/cache" -cJf "$out/kernels.tar.xz" kernels 2>/dev/null && du -b "$out/kernels.tar.xz"
CUDA_VISIBLE_DEVICES="" "$bin" bench train-step --preset minilm-l6 --steps 1 --warmup 0 --backend cuda --json
echo "exit status without a visible GPU: $?; total $((SECONDS - start)) s"

#!/usr/bin/env bash
# Why the build with kernel fusion (--features cuda-fusion) did not finish a step on an
# H100: runs one MiniLM step with cubecl's compilation and autotune loggers on, twice
# (cold kernel cache, then warm), and returns the kernel cache (compiled PTX and autotune
# results, which muppet keeps in $MUPPET_HOME/cache/kernels) as kernels-fusion.tar.xz, for
# later calls to carry (scripts/gpu/pack.sh with FUSION_KERNELS set).
# It receives device-out/muppet-fusion.xz (scripts/gpu/pack.sh with FUSION_BIN set).
#   bash bench/gpu/fusion_probe.sh
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out"
work="$(mktemp -d)"
exec > >(tee -a "$out/probe.txt") 2>&1
xz -dc device-out/muppet-fusion.xz >"$work/muppet" && chmod +x "$work/muppet"
export MUPPET_HOME="$work/home"
mkdir -p "$MUPPET_HOME/cache"
[ -f device-out/kernels-fusion.tar.xz ] && tar -C "$MUPPET_HOME/cache" -xJf device-out/kernels-fusion.tar.xz
printf '[compilation.logger]\nlevel = "basic"\nfile = "%s"\n[autotune.logger]\nlevel = "minimal"\nfile = "%s"\n' \
  "$work/compile.log" "$work/autotune.log" >"$work/cubecl.toml"
for pass in cold warm; do
  t0=$SECONDS
  (cd "$work" && timeout "${PROBE_S:-200}" ./muppet bench train-step --preset minilm-l6 --batch-size 32 --max-len 128 \
    --steps 3 --warmup 1 --backend cuda-bf16 --phases --json)
  echo "$pass: exit $? after $((SECONDS - t0)) s; compiled kernels so far: $(grep -c . "$work/compile.log" 2>/dev/null || echo 0)"
done
gzip -c "$work/compile.log" >"$out/compile.log.gz" 2>/dev/null
gzip -c "$work/autotune.log" >"$out/autotune.log.gz" 2>/dev/null
tar -C "$MUPPET_HOME/cache" -cJf "$out/kernels-fusion.tar.xz" kernels 2>/dev/null && du -b "$out/kernels-fusion.tar.xz"

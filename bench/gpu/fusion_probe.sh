#!/usr/bin/env bash
# Why the build with kernel fusion (--features cuda-fusion) did not finish a step on an
# H100: runs one MiniLM step with cubecl's compilation and autotune loggers on, twice
# (cold kernel cache, then warm), and keeps the cache (~/.cache/cubecl) for later calls.
# It receives device-out/muppet-fusion.xz (scripts/gpu/pack.sh with FUSION_BIN set).
#   bash bench/gpu/fusion_probe.sh
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out"
work="$(mktemp -d)"
exec > >(tee -a "$out/probe.txt") 2>&1
xz -dc device-out/muppet-fusion.xz >"$work/muppet" && chmod +x "$work/muppet"
[ -f device-out/cubecl-cache.tar.xz ] && mkdir -p ~/.cache && tar -C ~/.cache -xJf device-out/cubecl-cache.tar.xz
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
tar -C ~/.cache -cJf "$out/cubecl-cache.tar.xz" cubecl 2>/dev/null && du -b "$out/cubecl-cache.tar.xz"

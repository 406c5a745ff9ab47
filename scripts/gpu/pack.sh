#!/usr/bin/env bash
# Pack what the GPU scripts need into device-out/ (git-ignored), one carry under the
# device machine's 64 MiB:
#   muppet.xz          the release CUDA build, stripped and xz-compressed (bench/gpu/device_run.sh);
#   data.tar.xz        device-data/assets (scripts/gpu/prepare_correctness.sh), unless NO_DATA=1;
#   muppet-fusion.xz   with FUSION_BIN=path, a build with --features cuda-fusion (bench/gpu/fusion_probe.sh);
#   kernels.tar.xz, kernels-fusion.tar.xz   with KERNELS / FUSION_KERNELS=path, the compiled
#                      kernels an earlier device_run.sh / fusion_probe.sh returned.
# The binaries, built here:
#   CUDARC_CUDA_VERSION=13000 CARGO_TARGET_DIR=target-cuda cargo build --release -p muppet-cli --features cuda
#   CUDARC_CUDA_VERSION=13000 CARGO_TARGET_DIR=target-cuda cargo build --release -p muppet-cli --features cuda-fusion
#     (then copy target-cuda/release/muppet to target-cuda/fusion/: the plain build overwrites it)
#   [FUSION_BIN=target-cuda/fusion/muppet] [NO_DATA=1] bash scripts/gpu/pack.sh [target-cuda/release/muppet]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-$root/target-cuda/release/muppet}"
rm -rf "$root/device-out"
mkdir -p "$root/device-out"
pack_bin() {
  strip "$1" -o "$root/device-out/tmp-bin"
  xz -9 -T2 -c "$root/device-out/tmp-bin" >"$root/device-out/$2"
  rm "$root/device-out/tmp-bin"
}
pack_bin "$bin" muppet.xz
[ -n "${FUSION_BIN:-}" ] && pack_bin "$FUSION_BIN" muppet-fusion.xz
[ -n "${KERNELS:-}" ] && cp "$KERNELS" "$root/device-out/kernels.tar.xz"
[ -n "${FUSION_KERNELS:-}" ] && cp "$FUSION_KERNELS" "$root/device-out/kernels-fusion.tar.xz"
if [ "${NO_DATA:-0}" != 1 ]; then
  [ -d "$root/device-data/assets" ] || bash "$root/scripts/gpu/prepare_correctness.sh"
  tar -C "$root/device-data" -cf - assets | xz -6 -T2 >"$root/device-out/data.tar.xz"
fi
du -b "$root/device-out"/*
echo "total $(du -sb "$root/device-out" | cut -f1) bytes; the carry limit is 67108864 with the working tree"

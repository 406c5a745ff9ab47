#!/usr/bin/env python3
"""Turn the JSON lines of bench/gpu/device_run.sh into one table: each muppet line
against the PyTorch line of the same shapes and precision measured in the same run,
with MFU against the GPU's dense peak for that precision.

    python3 bench/gpu/summarize.py --gpu "$(nvidia-smi --query-gpu=name --format=csv,noheader)" < $OUT/train_step.jsonl

(device_run.sh runs it itself; its runs with --phases get a table of their own.)
"""
import argparse
import json
import sys

# Dense (no sparsity) peak TFLOP/s from NVIDIA's data sheets: fp32 on CUDA cores, and
# bf16/fp16 on tensor cores.
PEAKS = {
    "H100 PCIe": {"fp32": 51.2, "half": 756.0},
    "H100": {"fp32": 66.9, "half": 989.4},  # SXM (HBM3)
    "H200": {"fp32": 66.9, "half": 989.4},
}

# muppet backend -> precision; PyTorch --dtype -> precision.
MUPPET = {"cuda": "fp32", "cuda-f16": "fp16", "cuda-bf16": "bf16"}


def muppet_precision(r):
    """(the PyTorch --dtype to compare with, the row's label). PyTorch's half rows are
    autocast: f32 weights, half products. muppet's --mixed-precision bf16 is the same
    scheme; its cuda-bf16/cuda-f16 backends hold every float in half precision."""
    base = MUPPET[r["backend"]]
    if r.get("mixed_precision") == "bf16":
        return "bf16", "bf16 mixed (f32 weights)"
    if base != "fp32":
        return base, f"{base}, every float"
    return base, base


def torch_precision(r):
    """A PyTorch row's label: its half precisions are autocast."""
    return "fp32" if r["dtype"] == "fp32" else f"{r['dtype']} (autocast)"


def peak_for(gpu):
    for name in sorted(PEAKS, key=len, reverse=True):
        if name in gpu:
            return PEAKS[name]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpu", required=True, help="the GPU's name as nvidia-smi prints it")
    a = ap.parse_args()
    peak = peak_for(a.gpu)
    rows = []
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    # Runs with --phases wait between the parts of a step: they get a table of their own.
    timed = [r for r in rows if r.get("phases_ms")]
    rows = [r for r in rows if not r.get("phases_ms")]
    torch = {(r["model"], r["batch_size"], r["max_len"], r["dtype"]): r for r in rows if r.get("impl") == "torch"}
    print(f"GPU: {a.gpu}; dense peak {peak or 'unknown'} TFLOP/s")
    print("| shapes | muppet precision | muppet weights / products | muppet ex/s | PyTorch ex/s | ratio | muppet MFU | PyTorch MFU | muppet peak MiB | PyTorch peak MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if r.get("impl") != "muppet" or r.get("backend") not in MUPPET:
            continue
        precision, label = muppet_precision(r)
        t = torch.get((r["model"], r["batch_size"], r["max_len"], precision))
        p = peak and (peak["fp32"] if precision == "fp32" else peak["half"])
        mfu = lambda x: f"{100 * x['achieved_tflops'] / p:.1f}%" if (p and x) else "-"
        fmt = lambda x, k, f: (f.format(x[k]) if x and x.get(k) is not None else "-")
        ratio = f"{r['examples_per_sec'] / t['examples_per_sec']:.2f}x" if t else "-"
        # The float types muppet's weights were created in and its products ran in: a bf16
        # row computed in F32 is no bf16 figure.
        types = f"{r.get('float_dtype', '?')} / {r.get('compute_dtype', r.get('float_dtype', '?'))}"
        print(f"| {r['model']}, batch {r['batch_size']}, length {r['max_len']} | {label} | {types} | "
              f"{r['examples_per_sec']:.0f} | "
              f"{fmt(t, 'examples_per_sec', '{:.0f}')} | {ratio} | {mfu(r)} | {mfu(t)} | "
              f"{fmt(r, 'peak_memory_mib', '{:.0f}')} | {fmt(t, 'peak_memory_mib', '{:.0f}')} |")
    if timed:
        print()
        print("| impl | shapes | precision | forward ms | backward ms | update ms |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in timed:
            precision = muppet_precision(r)[1] if r.get("impl") == "muppet" else torch_precision(r)
            p = r["phases_ms"]
            print(f"| {r['impl']} | {r['model']}, batch {r['batch_size']}, length {r['max_len']} | {precision} | "
                  f"{p['forward']:.1f} | {p['backward']:.1f} | {p['update']:.1f} |")


if __name__ == "__main__":
    main()

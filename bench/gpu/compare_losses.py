#!/usr/bin/env python3
"""Compare the per-update losses of two runs of bench/gpu/correctness.sh (e.g. CPU here,
CUDA on the GPU machine) over their first N updates.

    python3 bench/gpu/compare_losses.py losses-cpu.jsonl losses-cuda.jsonl --steps 20 --tol 1e-3
Exit status 1 when a loss differs by more than the tolerance (relative to max(1, |loss|)).
"""
import argparse
import json
import sys


def losses(path):
    out = {}
    for line in open(path):
        e = json.loads(line)
        if "step" in e and "loss" in e:
            out[e["step"]] = e["loss"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("other")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--tol", type=float, default=1e-3)
    a = ap.parse_args()
    ref, other = losses(a.reference), losses(a.other)
    worst = 0.0
    for step in range(1, a.steps + 1):
        if step not in ref or step not in other:
            sys.exit(f"update {step} is missing from one of the files")
        if ref[step].keys() != other[step].keys():
            sys.exit(f"update {step} drew different tasks: {sorted(ref[step])} vs {sorted(other[step])}")
        for task, value in ref[step].items():
            diff = abs(value - other[step][task]) / max(1.0, abs(value))
            worst = max(worst, diff)
            print(f"{step:4d} {task:20s} {value:.6f} {other[step][task]:.6f} {diff:.2e}")
    print(json.dumps({"steps": a.steps, "max_relative_difference": worst, "tolerance": a.tol, "ok": worst <= a.tol}))
    sys.exit(0 if worst <= a.tol else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Seconds per data-parallel update, gradients summed one parameter at a time
(MUPPET_GRAD_BUCKET_MB=0) against packed in buckets (the default, 25 MiB), in one run.

Two layouts on this machine:
- `nodes`: two nodes of one device each (two `muppet prefinetune` processes, one thread each,
  through `muppet coordinator` and each node's tensor service on localhost), where every
  all-reduce is a network exchange;
- `devices`: one process with `--devices 2` (two peers sharing the CPU), where the sums go
  through burn-collective's in-process server.

Each configuration runs `--rounds` times, alternating, on the real MiniLM and two real tasks
(K = 2: one micro-batch per peer). An update's time is the difference of the wall-clock
seconds node 0 stored with consecutive training-loss points (`metric_points.wall_s`); the
first `--skip` updates (warm-up) are left out. Prints one JSON line per
configuration and round, then a summary with the median per configuration.

  MUPPET_HOME=.muppet python3 bench/dp_buckets.py --muppet target/release/muppet [--layout nodes|devices|both]

The assets come from $MUPPET_ASSETS, else $MUPPET_HOME/assets. On one GPU, `--backend cuda
--layout devices` has two peers share it (bench/gpu/device_run.sh).
"""

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def update_seconds(home):
    """Wall-clock seconds of each update of the one run stored in `home`, from its
    training-loss points."""
    with sqlite3.connect(os.path.join(home, "muppet.db")) as db:
        rows = db.execute("SELECT p.wall_s FROM metric_series s JOIN metric_points p ON p.series_id = s.id "
                          "WHERE s.task = '' AND s.split = 'train' AND s.name = 'loss' ORDER BY p.step").fetchall()
    walls = [r[0] for r in rows]
    return [b - a for a, b in zip(walls, walls[1:])]


def run_once(args, layout, bucket_mb, home):
    env = dict(os.environ, MUPPET_HOME=home, MUPPET_GRAD_BUCKET_MB=str(bucket_mb))
    run = [args.muppet, "prefinetune", "--steps", str(args.steps), "--tasks-per-update", "2",
           "--batch-size", str(args.batch_size), "--max-len", str(args.max_len), "--eval-every", "0",
           "--checkpoint-every", "0", "--dev-size", "2", "--sampling", "uniform", "--backend", args.backend, "--json"]
    for task in args.task:
        run += ["--task", task]
    procs = []
    try:
        if layout == "devices":
            env["RAYON_NUM_THREADS"] = str(args.threads * 2)
            first = subprocess.Popen(run + ["--devices", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(first)
        else:
            env["RAYON_NUM_THREADS"] = str(args.threads)
            coordinator, data0, data1 = free_ports(3)
            procs.append(subprocess.Popen([args.muppet, "coordinator", "--port", str(coordinator)], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(0.5)
            address = f"ws://127.0.0.1:{coordinator}"

            def node(rank, port, node_home):
                node_env = dict(env, MUPPET_HOME=node_home)
                flags = ["--nodes", "2", "--node-rank", str(rank), "--coordinator", address, "--node-address", f"ws://127.0.0.1:{port}"]
                # Node 0's output is read at its end; node 1's is not needed (it fails with node 0).
                out = subprocess.PIPE if rank == 0 else subprocess.DEVNULL
                return subprocess.Popen(run + flags, env=node_env, stdout=out, stderr=out, text=True)

            second_home = os.path.join(home, "node1")
            os.makedirs(second_home)
            os.symlink(os.path.join(home, "assets"), os.path.join(second_home, "assets"))
            procs.append(node(1, data1, second_home))
            first = node(0, data0, home)
            procs.append(first)
        _, err = first.communicate()
        if first.returncode != 0:
            sys.exit(f"{layout} run failed:\n{err}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
            p.wait()
    gaps = update_seconds(home)[args.skip:]
    if not gaps:
        sys.exit(f"{layout} run stored fewer than {args.skip + 2} updates: raise --steps")
    return statistics.median(gaps)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--muppet", required=True)
    ap.add_argument("--layout", choices=["nodes", "devices", "both"], default="both")
    ap.add_argument("--task", action="append", default=None)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--skip", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="threads per peer")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--backend", default="cpu")
    args = ap.parse_args()
    args.task = args.task or ["sarcasm_headlines", "rt_fresh_rotten"]
    assets = os.environ.get("MUPPET_ASSETS") or os.path.join(os.environ.get("MUPPET_HOME") or sys.exit("set MUPPET_ASSETS or MUPPET_HOME (a data folder with the demo assets)"), "assets")
    layouts = ["nodes", "devices"] if args.layout == "both" else [args.layout]
    os.environ.pop("MUPPET_ASSETS", None)  # each run home links them
    kernels = None
    if os.environ.get("MUPPET_HOME"):
        kernels = os.path.abspath(os.path.join(os.environ["MUPPET_HOME"], "cache", "kernels"))
        os.makedirs(kernels, exist_ok=True)
    results = {}
    for layout in layouts:
        for rnd in range(args.rounds):
            for bucket_mb in (0, 25):
                with tempfile.TemporaryDirectory(prefix="dp-bench-") as run_home:
                    os.symlink(os.path.abspath(assets), os.path.join(run_home, "assets"))
                    if kernels:  # GPU kernels compiled once, for every run
                        os.makedirs(os.path.join(run_home, "cache"))
                        os.symlink(kernels, os.path.join(run_home, "cache", "kernels"))
                    seconds = run_once(args, layout, bucket_mb, run_home)
                results.setdefault((layout, bucket_mb), []).append(seconds)
                print(json.dumps({"layout": layout, "bucket_mb": bucket_mb, "round": rnd, "s_per_update": round(seconds, 4)}), flush=True)
    summary = {f"{layout}/{'per-parameter' if mb == 0 else f'{mb}MiB'}": round(statistics.median(v), 4) for (layout, mb), v in results.items()}
    for layout in layouts:
        summary[f"{layout}/speedup"] = round(statistics.median(results[(layout, 0)]) / statistics.median(results[(layout, 25)]), 3)
    print(json.dumps({"summary": summary, "steps": args.steps, "skip": args.skip, "batch_size": args.batch_size,
                      "max_len": args.max_len, "threads_per_peer": args.threads, "tasks": args.task, "backend": args.backend}))


if __name__ == "__main__":
    main()

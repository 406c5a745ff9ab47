#!/usr/bin/env bash
# Correctness of the CUDA backend on a real run: MiniLM (f16 weights computed in f32) on
# four real tasks of three families (sarcasm_headlines, vitaminc, wikihow_goal_step,
# squad_dev; trimmed copies made by scripts/gpu/prepare_correctness.sh), 200 heterogeneous
# updates, printed as one JSON line per update with the run-wide and per-task losses.
# Run it once with `cpu` here and once with `cuda` on the GPU machine; the first updates'
# losses must agree within the tolerance stated in BENCHMARKS.md (dropout masks come from
# each backend's own generator, so the comparison runs without dropout: the prepared
# config.json sets the encoder's dropout to 0 and --head-dropout 0 does the heads').
# DEVICES=N trains data-parallel on N devices (on one GPU, N peers share it): the losses must
# match the one-device run's within the same tolerance.
#   bash bench/gpu/correctness.sh cpu|cuda [path/to/muppet] > losses-<backend>.jsonl
set -euo pipefail
backend="${1:?cpu or cuda}"
bin="${2:-device-out/muppet}"
home="$(mktemp -d)"
export MUPPET_HOME="$home" MUPPET_ASSETS="${MUPPET_ASSETS:-device-data/assets}"
"$bin" prefinetune --task sarcasm_headlines --task vitaminc --task wikihow_goal_step --task squad_dev \
  --steps "${STEPS:-200}" --batch-size 8 --tasks-per-update 4 --max-len 128 --doc-stride 32 --dev-size 50 \
  --eval-every 0 --checkpoint-every 0 --head-dropout 0 --backend "$backend" --devices "${DEVICES:-1}" --queue --json >"$home/queued.json"
run="$(tail -n1 "$home/queued.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')"
"$bin" worker --run "$run" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e.get("event") == "metrics":
        losses = {(p["task"] or "all"): p["value"] for p in e["points"] if p["split"] == "train" and p["name"] == "loss"}
        if losses:
            print(json.dumps({"step": e["points"][0]["step"], "loss": losses}))
        # The worker'"'"'s memory, CPU use and (on CUDA) GPU memory, every two seconds: on stderr.
        system = {p["name"]: round(p["value"], 1) for p in e["points"] if p["split"] == "system"}
        if system:
            print(json.dumps({"step": e["points"][0]["step"], "system": system}), file=sys.stderr)
    elif e.get("event") in ("summary", "failed"):
        print(json.dumps(e))
'

#!/usr/bin/env bash
# Prepare what the GPU correctness run needs (bench/gpu/correctness.sh). The GPU machine
# has no registry and no Rust, and each call carries at most 64 MiB, so it goes in two
# carries kept apart:
#   device-out/muppet      the stripped CUDA build (about 34 MB), carried first;
#   device-data/assets/    MiniLM in f16 (45 MB; loaded as f32, see load_pretrained) with
#                          its tokenizer, and trimmed copies of four demo tasks' raw files
#                          (classification, pair, multiple choice, span), carried second.
# The CPU reference run (bench/gpu/correctness.sh cpu) uses the same device-data/ here.
#   bash scripts/gpu/prepare_correctness.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="${MUPPET_ASSETS:-$root/.muppet/assets}"
py="${MUPPET_PYTHON:-$root/.venv/bin/python}"
out="$root/device-data/assets"
rm -rf "$root/device-data"
mkdir -p "$out/models/all-MiniLM-L6-v2" "$out/raw/evals/sarcasm" "$out/raw/bigbench/goal_step_wikihow" \
  "$out/raw/bigbench/squad_shifts" "$out/raw/bigbench/vitaminc_fact_verification"
cp "$src/models/all-MiniLM-L6-v2/config.json" "$src/models/all-MiniLM-L6-v2/tokenizer.json" "$out/models/all-MiniLM-L6-v2/"
"$py" - "$src" "$out" <<'PY'
import json, sys
from safetensors.torch import load_file, save_file
src, out = sys.argv[1], sys.argv[2]
t = load_file(f"{src}/models/all-MiniLM-L6-v2/model.safetensors")
save_file({k: v.half() if v.is_floating_point() else v for k, v in t.items()},
          f"{out}/models/all-MiniLM-L6-v2/model.safetensors")
# No dropout, so that CPU and GPU runs compute the same function (their generators differ).
cfg_path = f"{out}/models/all-MiniLM-L6-v2/config.json"
cfg = json.load(open(cfg_path))
cfg["hidden_dropout_prob"] = 0.0
cfg["attention_probs_dropout_prob"] = 0.0
json.dump(cfg, open(cfg_path, "w"), indent=2)
# Trimmed tasks: the first examples of each file, same format and paths as the full assets.
with open(f"{src}/raw/evals/sarcasm/samples.jsonl") as f, open(f"{out}/raw/evals/sarcasm/samples.jsonl", "w") as g:
    for i, line in enumerate(f):
        if i == 4000:
            break
        g.write(line)
for sub in ["step_inference", "goal_inference", "step_ordering"]:
    task = json.load(open(f"{src}/raw/bigbench/goal_step_wikihow/{sub}/task.json"))
    task["examples"] = task["examples"][:1000]
    import os
    os.makedirs(f"{out}/raw/bigbench/goal_step_wikihow/{sub}", exist_ok=True)
    json.dump(task, open(f"{out}/raw/bigbench/goal_step_wikihow/{sub}/task.json", "w"))
task = json.load(open(f"{src}/raw/bigbench/vitaminc_fact_verification/task.json"))
task["examples"] = task["examples"][:4000]
json.dump(task, open(f"{out}/raw/bigbench/vitaminc_fact_verification/task.json", "w"))
squad = json.load(open(f"{src}/raw/bigbench/squad_shifts/squaddev_v1.1.json"))
squad["data"] = squad["data"][:12]
json.dump(squad, open(f"{out}/raw/bigbench/squad_shifts/squaddev_v1.1.json", "w"))
PY
for marker in evals bigbench; do cp "$src/raw/$marker/.muppet-asset" "$out/raw/$marker/" 2>/dev/null || true; done
cp "$src/models/all-MiniLM-L6-v2/.muppet-asset" "$out/models/all-MiniLM-L6-v2/" 2>/dev/null || true
du -sh "$root/device-data"

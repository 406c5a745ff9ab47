#!/usr/bin/env python3
"""Check a task export (`muppet export ID --format hf --task NAME`) against the full export of
the same checkpoint (`muppet export ID --format hf`), with transformers:

- the task folder loads with AutoModelForSequenceClassification and no weight newly
  initialised, and its config's id2label is the task's labels, in order;
- its logits equal the head of `heads.safetensors` (out_proj(tanh(dense(h[:, 0])))) applied to
  the full export's last hidden states (AutoModel), for real sentences;
- `pipeline("text-classification")` runs on it and answers one of the labels.

Prints one JSON object: {"max_abs_diff": ..., "labels": [...], "pipeline": {...}}.

Usage (from the repository root; `make reference-env` creates .venv):
    .venv/bin/python scripts/reference/hf_task_check.py FULL_DIR TASK_DIR --task NAME
"""

import argparse
import json
import logging
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline

SENTENCES = [
    "The cat sat on the mat.",
    "A thoroughly enjoyable film with a terrific cast.",
    "Dull, overlong and badly acted.",
    "Local man wins award for most average lawn in the county.",
]


class Captured(logging.Handler):
    """Collects transformers' warnings (the missing or newly initialised weights)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("full", type=Path, help="the full export: config.json, model.safetensors, heads.safetensors, heads.json")
    parser.add_argument("task_dir", type=Path, help="the task export")
    parser.add_argument("--task", required=True, help="the task's name")
    args = parser.parse_args()

    heads = json.loads((args.full / "heads.json").read_text(encoding="utf-8"))
    entry = next((t for t in heads["tasks"] if t["name"] == args.task), None)
    if entry is None:
        sys.exit(f"{args.full / 'heads.json'} has no task {args.task}")
    if entry["family"] not in ("single", "pair", "regression"):
        sys.exit(f"task {args.task} is a {entry['family']} task; this check covers sequence classification")

    captured = Captured()
    logging.getLogger("transformers").addHandler(captured)
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(args.task_dir)
    task_model = AutoModelForSequenceClassification.from_pretrained(args.task_dir, attn_implementation="eager").eval()
    base = AutoModel.from_pretrained(args.full, attn_implementation="eager").eval()
    problems = [m for m in captured.messages if "newly initialized" in m or "MISSING" in m or "not used" in m]
    if problems:
        sys.exit("transformers did not load every weight:\n" + "\n".join(problems))

    labels = [task_model.config.id2label[i] for i in range(task_model.config.num_labels)]
    tensors = load_file(str(args.full / "heads.safetensors"))
    prefix = entry["module"]
    dense_w, dense_b = tensors[f"{prefix}.dense.weight"], tensors[f"{prefix}.dense.bias"]
    out_w, out_b = tensors[f"{prefix}.out_proj.weight"], tensors[f"{prefix}.out_proj.bias"]

    worst = 0.0
    with torch.no_grad():
        for text in SENTENCES:
            enc = tokenizer(text, return_tensors="pt")
            logits = task_model(**enc).logits[0]
            first = base(**enc).last_hidden_state[0, 0]
            expected = torch.tanh(first @ dense_w.T + dense_b) @ out_w.T + out_b
            worst = max(worst, (logits - expected).abs().max().item())
    answer = pipeline("text-classification", model=str(args.task_dir), tokenizer=str(args.task_dir), device="cpu")(SENTENCES[1])[0]
    print(json.dumps({"max_abs_diff": worst, "labels": labels, "architecture": task_model.config.architectures[0], "pipeline": answer}))


if __name__ == "__main__":
    main()

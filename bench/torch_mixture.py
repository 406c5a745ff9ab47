#!/usr/bin/env python3
"""PyTorch reference for `muppet bench mixture`: real pre-finetuning updates on a real
classification mixture, on the same tokenized examples (`muppet bench mixture --dump FILE`),
the same model, batch size, tasks per update and threads. Tasks are drawn in proportion
to their size (natural mixing), each micro-batch from one task with dynamic padding (to
its longest example), one classification head per task, loss scaled by 1/ln(classes),
K micro-batches accumulated into one AdamW update. Prints the same JSON keys.

    muppet bench mixture --task sarcasm_headlines --task rt_fresh_rotten ... --dump /tmp/mix.jsonl
    python bench/torch_mixture.py --model DIR --data /tmp/mix.jsonl --batch-size 16 --threads 2 --json
"""
import argparse
import json
import math
import random
import time

import torch
from transformers import AutoModel


class Head(torch.nn.Module):
    def __init__(self, hidden, n):
        super().__init__()
        self.dense = torch.nn.Linear(hidden, hidden)
        self.out_proj = torch.nn.Linear(hidden, n)
        self.dropout = torch.nn.Dropout(0.1)

    def forward(self, h):
        return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(h)))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="Hugging Face model folder")
    ap.add_argument("--data", required=True, help="JSON lines written by `muppet bench mixture --dump`")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--tasks-per-update", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)

    tasks = {}
    with open(a.data) as f:
        for line in f:
            ex = json.loads(line)
            t = tasks.setdefault(ex["task"], {"n": ex["n_classes"], "examples": []})
            t["examples"].append((ex["ids"], ex["type_ids"], ex["label"]))
    order = sorted(tasks)
    sizes = [len(tasks[t]["examples"]) for t in order]
    total = sum(sizes)

    encoder = AutoModel.from_pretrained(a.model, add_pooling_layer=False, attn_implementation="eager")
    hidden = encoder.config.hidden_size
    heads = torch.nn.ModuleList([Head(hidden, tasks[t]["n"]) for t in order])
    model = torch.nn.ModuleDict({"encoder": encoder, "heads": heads}).train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)

    def micro_batch():
        ti = rng.choices(range(len(order)), weights=sizes)[0]
        exs = [rng.choice(tasks[order[ti]]["examples"]) for _ in range(a.batch_size)]
        seq = max(len(e[0]) for e in exs)
        ids = torch.zeros(len(exs), seq, dtype=torch.long)
        types = torch.zeros_like(ids)
        mask = torch.zeros_like(ids)
        for r, (i, ty, _) in enumerate(exs):
            ids[r, :len(i)] = torch.tensor(i)
            types[r, :len(ty)] = torch.tensor(ty)
            mask[r, :len(i)] = 1
        labels = torch.tensor([e[2] for e in exs])
        return ti, ids, types, mask, labels

    start = None
    examples = 0
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        for _ in range(a.tasks_per_update):
            ti, ids, types, mask, labels = micro_batch()
            h = model["encoder"](input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state[:, 0]
            logits = model["heads"][ti](h)
            loss = torch.nn.functional.cross_entropy(logits, labels) / math.log(tasks[order[ti]]["n"])
            (loss / a.tasks_per_update).backward()
            if step >= a.warmup:
                examples += len(labels)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    seconds = time.perf_counter() - start
    out = {
        "impl": "torch", "backend": f"torch-{torch.__version__}", "threads": torch.get_num_threads(),
        "tasks": len(order), "examples_in_file": total, "batch_size": a.batch_size,
        "tasks_per_update": a.tasks_per_update, "length_buckets": False, "steps": a.steps,
        "examples": examples, "seconds": seconds, "examples_per_sec": examples / seconds,
    }
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{out['examples_per_sec']:.1f} examples/s ({examples} examples in {seconds:.1f} s)")


if __name__ == "__main__":
    main()

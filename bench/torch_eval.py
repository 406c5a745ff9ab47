#!/usr/bin/env python3
"""PyTorch reference for `muppet eval`: every example of a classification task scored by the
encoder and a classification head (first token, dense + tanh + projection, argmax), on the
same tokenized examples (`muppet bench mixture --task T --dump FILE`), sorted by length and
scored 32 at a time with dynamic padding under `torch.inference_mode()`, as `muppet eval`
batches them. The whole pass is timed (as `muppet eval` reports `scoring_s`). Prints
examples/s.

    muppet bench mixture --task rt_fresh_rotten --max-len 128 --dump /tmp/rt.jsonl
    python bench/torch_eval.py --model DIR --data /tmp/rt.jsonl --threads 2 --json
"""
import argparse
import json
import time

import torch
from transformers import AutoModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="Hugging Face model folder")
    ap.add_argument("--data", required=True, help="JSON lines written by `muppet bench mixture --dump`")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--attn", default="sdpa", help="transformers attention implementation (sdpa, eager)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    examples, n_classes = [], None
    with open(a.data) as f:
        for line in f:
            ex = json.loads(line)
            n_classes = ex["n_classes"]
            examples.append((ex["ids"], ex["type_ids"], ex["label"]))

    encoder = AutoModel.from_pretrained(a.model, add_pooling_layer=False, attn_implementation=a.attn).eval()
    hidden = encoder.config.hidden_size
    head = torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, n_classes)).eval()
    pad = encoder.config.pad_token_id or 0

    started = time.perf_counter()
    ordered = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    predicted = [0] * len(examples)
    with torch.inference_mode():
        for lo in range(0, len(ordered), a.batch_size):
            rows = ordered[lo : lo + a.batch_size]
            width = max(len(examples[i][0]) for i in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            types = torch.zeros((len(rows), width), dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                seq, seg, _ = examples[i]
                ids[r, : len(seq)] = torch.tensor(seq)
                types[r, : len(seg)] = torch.tensor(seg)
                mask[r, : len(seq)] = 1
            h = encoder(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
            for r, p in zip(rows, head(h[:, 0]).argmax(-1).tolist()):
                predicted[r] = p
    seconds = time.perf_counter() - started
    accuracy = sum(int(p == ex[2]) for p, ex in zip(predicted, examples)) / len(examples)
    result = {
        "implementation": f"pytorch-eager ({a.attn})",
        "examples": len(examples),
        "seconds": seconds,
        "examples_per_s": len(examples) / seconds,
        "threads": torch.get_num_threads(),
        "accuracy_random_head": accuracy,
    }
    if a.json:
        print(json.dumps(result))
    else:
        print(f"{len(examples)} examples in {seconds:.1f} s: {result['examples_per_s']:.1f} examples/s ({result['threads']} threads)")


if __name__ == "__main__":
    main()

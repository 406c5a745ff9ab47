#!/usr/bin/env python3
"""Load a Hugging Face folder (a `muppet export --format hf` output, or a base model) with
transformers and print the last hidden states of some texts, one JSON object per line:

    {"input_ids": [...], "shape": [1, seq, hidden], "hidden": [...flattened, row-major...]}

the same format as `muppet encode --model DIR --input FILE`, so that the two can be compared
(tests/tests/export.rs does). Each text is encoded alone, unpadded, on CPU, in eval mode.

Input: --input FILE with one text per line, a tab separating the two texts of a pair (as
`muppet encode` reads it); without --input, the built-in SENTENCES below.

Usage (from the repository root; `make reference-env` creates .venv):
    .venv/bin/python scripts/reference/hf_roundtrip.py DIR [--input FILE]
"""

import argparse
import json
import sys
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

# Real sentences, single and pairs, of different lengths.
SENTENCES = [
    ("The cat sat on the mat.", None),
    ("Pre-finetuning trains one encoder on about fifty labeled tasks before fine-tuning.", None),
    ("Hello!", None),
    ("A man is playing a guitar on a small stage while the audience claps along.", None),
    ("A soccer game with multiple males playing.", "Some men are playing a sport."),
    ("Is the sky blue?", "Rayleigh scattering makes the daytime sky look blue to us."),
    ("The movie was terrible.", "I loved every minute of it, best film of the year."),
    ("How do I learn Rust?", "What is the best way to learn the Rust programming language?"),
]


def read_inputs(path: Path):
    inputs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        a, sep, b = line.partition("\t")
        inputs.append((a, b if sep else None))
    if not inputs:
        sys.exit(f"{path} has no text: write one text per line (a tab separates a pair)")
    return inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="Hugging Face folder: config.json, model.safetensors, tokenizer")
    parser.add_argument("--input", type=Path, help="one text per line; a tab separates a pair")
    args = parser.parse_args()

    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (args.model / name).is_file():
            sys.exit(f"{args.model / name} not found: is {args.model} a Hugging Face model folder?")
    inputs = read_inputs(args.input) if args.input else SENTENCES

    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModel.from_pretrained(args.model, attn_implementation="eager").eval()
    with torch.no_grad():
        for a, b in inputs:
            enc = tokenizer(a, b, return_tensors="pt") if b is not None else tokenizer(a, return_tensors="pt")
            hidden = model(**enc).last_hidden_state.to(torch.float32)
            print(
                json.dumps(
                    {
                        "input_ids": enc["input_ids"][0].tolist(),
                        "shape": list(hidden.shape),
                        "hidden": hidden.flatten().tolist(),
                    }
                )
            )


if __name__ == "__main__":
    main()

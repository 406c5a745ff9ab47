#!/usr/bin/env python3
"""Reference hidden states for the muppet-model encoder parity tests.

Writes, under crates/muppet-model/tests/fixtures/:

* minilm_reference.safetensors -- a padded batch of real sentences (single and pair inputs)
  tokenized with the all-MiniLM-L6-v2 tokenizer, and the model's last_hidden_state as computed
  by Hugging Face transformers on CPU. The model itself is not copied (90 MB); the Rust test
  loads it from the asset folder.
* tiny_roberta/ -- a randomly initialised 2-layer RoBERTa (fixed seed) saved in Hugging Face
  layout (config.json + model.safetensors, keys prefixed with `roberta.`, plus an `lm_head.*`
  the loader must skip), and tiny_roberta/reference.safetensors with a padded batch and its
  last_hidden_state. It exercises the RoBERTa position ids (offset by padding_idx + 1) and the
  single token type.

Tensors in the reference files: input_ids, token_type_ids, attention_mask (I64, [batch, seq])
and last_hidden_state (F32, [batch, seq, hidden]). The metadata holds the inputs as text.

Usage (from the repository root):
    python3 -m venv .venv && .venv/bin/pip install -r scripts/reference/requirements.txt
    .venv/bin/python scripts/reference/encoder_reference.py [--model DIR]

DIR defaults to $MUPPET_ASSETS/models/all-MiniLM-L6-v2, then
$MUPPET_HOME/assets/models/all-MiniLM-L6-v2, then .muppet/assets/models/all-MiniLM-L6-v2.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import AutoModel, AutoTokenizer, RobertaConfig, RobertaForMaskedLM

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "crates" / "muppet-model" / "tests" / "fixtures"
MODEL_NAME = "all-MiniLM-L6-v2"

# Single sentences and sentence pairs of different lengths, so that the batch is padded and
# token_type_ids contain both segments.
SINGLES = [
    "The cat sat on the mat.",
    "Pre-finetuning trains one encoder on about fifty labeled tasks before fine-tuning.",
    "Hello!",
    "A man is playing a guitar on a small stage while the audience claps along.",
    "Sample efficiency matters most when the downstream task has only a few hundred examples.",
]
PAIRS = [
    ("A soccer game with multiple males playing.", "Some men are playing a sport."),
    ("Is the sky blue?", "Rayleigh scattering makes the daytime sky look blue to us."),
    ("How do I learn Rust?", "What is the best way to learn the Rust programming language?"),
    ("The movie was terrible.", "I loved every minute of it, best film of the year."),
]


def default_model_dir() -> Path:
    if os.environ.get("MUPPET_ASSETS"):
        return Path(os.environ["MUPPET_ASSETS"]) / "models" / MODEL_NAME
    if os.environ.get("MUPPET_HOME"):
        return Path(os.environ["MUPPET_HOME"]) / "assets" / "models" / MODEL_NAME
    return REPO / ".muppet" / "assets" / "models" / MODEL_NAME


def minilm_reference(model_dir: Path) -> None:
    if not (model_dir / "model.safetensors").is_file():
        sys.exit(f"{model_dir}/model.safetensors not found: run `muppet assets fetch --model`")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()

    # Pairs and singles go through the tokenizer separately (a batch is either all pairs or
    # all singles), then are padded together to one length.
    singles = tokenizer(SINGLES)
    pairs = tokenizer([a for a, _ in PAIRS], [b for _, b in PAIRS])
    rows = [
        {k: singles[k][i] for k in ("input_ids", "token_type_ids", "attention_mask")}
        for i in range(len(SINGLES))
    ] + [
        {k: pairs[k][i] for k in ("input_ids", "token_type_ids", "attention_mask")}
        for i in range(len(PAIRS))
    ]
    batch = tokenizer.pad(rows, padding=True, return_tensors="pt")

    with torch.no_grad():
        hidden = model(
            input_ids=batch["input_ids"],
            token_type_ids=batch["token_type_ids"],
            attention_mask=batch["attention_mask"],
        ).last_hidden_state

    texts = SINGLES + [f"{a} [SEP] {b}" for a, b in PAIRS]
    write_reference(FIXTURES / "minilm_reference.safetensors", batch, hidden, texts, MODEL_NAME)


def tiny_roberta_reference() -> None:
    out = FIXTURES / "tiny_roberta"
    out.mkdir(parents=True, exist_ok=True)
    config = RobertaConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=24,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        layer_norm_eps=1e-5,
        # Larger than the usual 0.02 so that attention is far from uniform and a wrong mask or
        # position offset shows up clearly in the outputs.
        initializer_range=0.2,
    )
    torch.manual_seed(20210126)
    model = RobertaForMaskedLM(config).eval()
    model.save_pretrained(out, safe_serialization=True)

    # RoBERTa layout: <s>=0 ... </s>=2, padding with pad_token_id=1 on the right. Real tokens
    # avoid id 1, otherwise HF itself would treat them as padding for the position ids.
    generator = torch.Generator().manual_seed(7)
    lengths = [9, 4, 14]
    seq = max(lengths)
    input_ids = torch.full((len(lengths), seq), config.pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(lengths), seq), dtype=torch.long)
    for row, n in enumerate(lengths):
        body = torch.randint(3, config.vocab_size, (n - 2,), generator=generator)
        input_ids[row, :n] = torch.cat([torch.tensor([0]), body, torch.tensor([2])])
        attention_mask[row, :n] = 1
    batch = {
        "input_ids": input_ids,
        "token_type_ids": torch.zeros_like(input_ids),
        "attention_mask": attention_mask,
    }
    with torch.no_grad():
        hidden = model.roberta(**batch).last_hidden_state

    texts = [" ".join(map(str, input_ids[r, :n].tolist())) for r, n in enumerate(lengths)]
    write_reference(out / "reference.safetensors", batch, hidden, texts, "tiny_roberta")


def write_reference(path: Path, batch, hidden, texts, model: str) -> None:
    tensors = {
        "input_ids": batch["input_ids"].to(torch.int64).contiguous(),
        "token_type_ids": batch["token_type_ids"].to(torch.int64).contiguous(),
        "attention_mask": batch["attention_mask"].to(torch.int64).contiguous(),
        "last_hidden_state": hidden.to(torch.float32).contiguous(),
    }
    metadata = {
        "model": model,
        "texts": json.dumps(texts),
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
    }
    save_file(tensors, str(path), metadata=metadata)
    shape = tuple(hidden.shape)
    print(f"wrote {path.relative_to(REPO)}: hidden {shape}, {path.stat().st_size} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="all-MiniLM-L6-v2 folder")
    args = parser.parse_args()
    torch.set_num_threads(1)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    minilm_reference(args.model or default_model_dir())
    tiny_roberta_reference()


if __name__ == "__main__":
    main()

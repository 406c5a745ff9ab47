#!/usr/bin/env python3
"""Read the model card (README.md) of a `muppet export` folder with huggingface_hub, the
parser the Hugging Face hub uses, and print what it understood as one JSON object:

    {"model_name": ..., "library_name": ..., "pipeline_tag": ..., "base_model": ..., "license": ...,
     "tags": [...], "eval_results": [{"task_type", "dataset_name", "dataset_type", "dataset_split",
     "metric_type", "metric_name", "metric_value"}, ...]}

tests/tests/export.rs compares it with the run's stored dev scores. Offline: nothing is fetched.

Usage (from the repository root; `make reference-env` creates .venv):
    .venv/bin/python scripts/reference/hf_card_check.py DIR
"""

import argparse
import json
import sys
from pathlib import Path

from huggingface_hub import ModelCard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="an exported Hugging Face folder with README.md")
    args = parser.parse_args()
    readme = args.folder / "README.md"
    if not readme.is_file():
        sys.exit(f"{readme} not found: was {args.folder} written by `muppet export`?")
    card = ModelCard.load(readme)
    data = card.data
    results = [
        {
            "task_type": r.task_type,
            "dataset_name": r.dataset_name,
            "dataset_type": r.dataset_type,
            "dataset_split": r.dataset_split,
            "metric_type": r.metric_type,
            "metric_name": r.metric_name,
            "metric_value": r.metric_value,
        }
        for r in (data.eval_results or [])
    ]
    print(
        json.dumps(
            {
                "model_name": data.model_name,
                "library_name": data.library_name,
                "pipeline_tag": data.pipeline_tag,
                "base_model": data.base_model,
                "license": data.license,
                "tags": data.tags,
                "eval_results": results,
                "text": card.text,
            }
        )
    )


if __name__ == "__main__":
    main()

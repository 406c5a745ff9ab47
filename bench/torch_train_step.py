#!/usr/bin/env python3
"""PyTorch reference for `muppet bench train-step`: the same step (encoder +
classification head on the first token, scaled cross-entropy, backward, AdamW)
on the same shapes, printing the same JSON keys, so BENCHMARKS.md can state
the ratio measured side by side.

    python bench/torch_train_step.py --preset roberta-base --batch-size 32 --max-len 256 --device cuda --json
"""
import argparse
import json
import math
import time

import torch
from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel

PRESETS = {
    "minilm-l6": dict(kind="bert", vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                      intermediate_size=1536, type_vocab_size=2, pad_token_id=0, max_position_embeddings=512),
    "roberta-base": dict(kind="roberta", vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         intermediate_size=3072, type_vocab_size=1, pad_token_id=1, max_position_embeddings=514),
}


class Classifier(torch.nn.Module):
    def __init__(self, encoder, hidden):
        super().__init__()
        self.encoder = encoder
        self.dense = torch.nn.Linear(hidden, hidden)
        self.out_proj = torch.nn.Linear(hidden, 2)
        self.dropout = torch.nn.Dropout(0.1)

    def forward(self, ids, mask):
        h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]
        return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(h)))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="Hugging Face model folder")
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--dtype", choices=["fp32", "bf16", "fp16"], default="fp32",
                    help="fp32, or autocast to bf16/fp16 (mixed precision)")
    ap.add_argument("--phases", action="store_true",
                    help="wait for the device after forward, backward and update, and report each one's time")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.model:
        from transformers import AutoConfig, AutoModel
        cfg = AutoConfig.from_pretrained(a.model)
        encoder = AutoModel.from_pretrained(a.model, add_pooling_layer=False, attn_implementation="eager")
        name = a.model
    else:
        p = dict(PRESETS[a.preset])
        kind = p.pop("kind")
        cls_cfg, cls_model = (BertConfig, BertModel) if kind == "bert" else (RobertaConfig, RobertaModel)
        cfg = cls_cfg(**p)
        encoder = cls_model(cfg, add_pooling_layer=False)
        name = a.preset
    dev = torch.device(a.device)
    model = Classifier(encoder, cfg.hidden_size).to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01)
    g = torch.Generator().manual_seed(0)
    low = min(1000, cfg.vocab_size // 2)
    ids = torch.randint(low, cfg.vocab_size, (a.batch_size, a.max_len), generator=g).to(dev)
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 2, (a.batch_size,), generator=g).to(dev)
    amp = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(a.dtype)
    scaler = torch.amp.GradScaler(enabled=a.dtype == "fp16")
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    phases = [0.0, 0.0, 0.0]

    def wait(t0):
        if a.phases and dev.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - t0) * 1e3

    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
            loss = torch.nn.functional.cross_entropy(model(ids, mask), labels) / math.log(2)
        forward = wait(t0)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        backward = wait(t0)
        scaler.step(opt)
        scaler.update()
        loss.item()  # waits for the device
        total = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(total)
            phases[0] += forward
            phases[1] += backward - forward
            phases[2] += total * 1e3 - backward
    mean = sum(times) / len(times)
    params = sum(p.numel() for p in model.parameters())
    h, layers, tokens = cfg.hidden_size, cfg.num_hidden_layers, a.batch_size * a.max_len
    emb = (cfg.vocab_size + cfg.max_position_embeddings + cfg.type_vocab_size) * h
    flops = 6 * (params - emb) * tokens + 12 * layers * h * a.max_len * tokens
    out = {
        "impl": "torch", "backend": f"torch-{torch.__version__}", "device": a.device, "dtype": a.dtype,
        "threads": torch.get_num_threads(), "model": name, "batch_size": a.batch_size, "max_len": a.max_len,
        "steps": a.steps, "examples_per_sec": a.batch_size / mean, "tokens_per_sec": tokens / mean,
        "step_ms_mean": mean * 1e3, "step_ms_min": min(times) * 1e3, "achieved_tflops": flops / mean / 1e12,
        "parameters": params,
    }
    if a.phases:
        out["phases_ms"] = dict(zip(["forward", "backward", "update"], (p / len(times) for p in phases)))
    # Peak memory as muppet reports it: what the allocator holds at its peak on CUDA
    # (tensors plus cached blocks), the process's peak resident set on the CPU.
    if dev.type == "cuda":
        out["peak_memory_mib"] = torch.cuda.max_memory_reserved() / 2**20
        out["peak_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
    else:
        import resource
        out["peak_memory_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{out['examples_per_sec']:.1f} examples/s, {out['tokens_per_sec']:.0f} tokens/s, "
              f"{out['step_ms_mean']:.1f} ms/step, {out['achieved_tflops']:.2f} TFLOP/s, {params} parameters")


if __name__ == "__main__":
    main()

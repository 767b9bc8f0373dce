#!/usr/bin/env python3
"""PyTorch eager reference for bench_cuda: the PipeLab GPT model (token + position
embedding, pre-LN blocks with causal multi-head attention written out as two matmuls and a
masked softmax, tanh GELU MLP, final LayerNorm, untied LM head, mean cross-entropy) trained
one step at a time with the same shapes: `microbatches` forward/backward passes of `batch`
sequences accumulated, then AdamW (betas 0.9/0.95, eps 1e-8). Precision: fp32 (TF32 off),
tf32 (TF32 matmuls), bf16 (autocast to bf16, fp32 master weights). Prints
`torch_step_ms <median>`. A benchmark reference only: never a build or test dependency."""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, NH, Fd):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc, self.fcproj = nn.Linear(C, Fd), nn.Linear(Fd, C)
        self.NH = NH

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        hs = C // self.NH
        q, k, v = (t.view(B, T, self.NH, hs).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(mask[:T, :T], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, C, L, NH, Fd, T):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.blocks = nn.ModuleList(Block(C, NH, Fd) for _ in range(L))
        self.lnf, self.head = nn.LayerNorm(C), nn.Linear(C, V, bias=False)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1))

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for b in self.blocks:
            x = b(x, self.mask)
        logits = self.head(self.lnf(x))
        return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--d-model", type=int, default=768)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--d-ff", type=int, default=3072)
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--microbatches", type=int, default=8)
    p.add_argument("--precision", choices=["fp32", "tf32", "bf16"], default="tf32")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--device", default="cuda", help="cpu: a smoke test of this script on small shapes")
    a = p.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = a.precision == "tf32"
    torch.backends.cudnn.allow_tf32 = a.precision == "tf32"
    dev = a.device
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    torch.manual_seed(1234)
    model = GPT(a.vocab, a.d_model, a.layers, a.heads, a.d_ff, a.seq).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    data = torch.randint(0, a.vocab, (a.microbatches, a.batch, a.seq + 1), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        for mb in range(a.microbatches):
            x, y = data[mb, :, :-1], data[mb, :, 1:]
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=a.precision == "bf16"):
                loss = model(x, y) / a.microbatches
            loss.backward()
        opt.step()

    times = []
    for s in range(a.warmup + a.steps):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        if s >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    name = torch.cuda.get_device_name() if dev == "cuda" else dev
    print(f"PyTorch {torch.__version__} on {name}, {a.precision}: "
          f"steps {', '.join(f'{t:.1f}' for t in times)} ms", flush=True)
    print(f"torch_step_ms {statistics.median(times):.3f}", flush=True)


if __name__ == "__main__":
    main()

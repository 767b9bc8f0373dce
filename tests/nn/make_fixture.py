#!/usr/bin/env python3
"""Regenerate tests/nn/fixtures/tiny_gpt.json: the PyTorch reference for core/nn.

The same tiny GPT as core/nn (embedding, L pre-LN blocks, final LayerNorm + untied LM head,
mean cross-entropy), run in float64 on parameters that are exactly representable in fp32, so
the C++ fp32 result can be compared to a near-exact loss and exact-ish gradients.
Parameter names and layouts follow core/nn/gpt_layer.cpp's tables (linear weights (OC, C)).

PyTorch is only needed to regenerate the fixture: `pip install torch; python3 make_fixture.py`.
Letters: B microbatch, T sequence length, C d_model, NH heads, F d_ff, V vocab, L blocks.
"""
import json
import math
import os

import torch

V, C, NH, L, F, T, B = 32, 16, 2, 2, 64, 8, 2
HS = C // NH
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "tiny_gpt.json")

gen = torch.Generator().manual_seed(20240601)


def param(shape, std, mean=0.0):
    # 4 decimals in the file; both sides use the fp32 value of that decimal.
    x = mean + std * torch.randn(shape, generator=gen, dtype=torch.float64)
    x = torch.round(x * 1e4) / 1e4
    text = [float(f"{v:.4f}") for v in x.flatten().tolist()]
    exact = torch.tensor(text, dtype=torch.float32).to(torch.float64).reshape(shape)
    return exact.requires_grad_(True), text


# Larger than GPT-2's 0.02 and non-trivial LN weights/biases so that every term matters.
layers = []  # list of dicts name -> (tensor, text)
layers.append({"wte": param((V, C), 0.3), "wpe": param((T, C), 0.3)})
for _ in range(L):
    layers.append({
        "ln1w": param((C,), 0.1, 1.0), "ln1b": param((C,), 0.1),
        "qkvw": param((3 * C, C), 0.2), "qkvb": param((3 * C,), 0.1),
        "attprojw": param((C, C), 0.2), "attprojb": param((C,), 0.1),
        "ln2w": param((C,), 0.1, 1.0), "ln2b": param((C,), 0.1),
        "fcw": param((F, C), 0.2), "fcb": param((F,), 0.1),
        "fcprojw": param((C, F), 0.1), "fcprojb": param((C,), 0.1),
    })
layers.append({"lnfw": param((C,), 0.1, 1.0), "lnfb": param((C,), 0.1), "wlm": param((V, C), 0.3)})
P = [{k: t for k, (t, _) in layer.items()} for layer in layers]

tokens = torch.randint(0, V, (B, T), generator=gen)
targets = torch.randint(0, V, (B, T), generator=gen)


def layernorm(x, w, b):
    m = x.mean(-1, keepdim=True)
    v = ((x - m) ** 2).mean(-1, keepdim=True)
    return (x - m) / torch.sqrt(v + 1e-5) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def block(x, p):
    qkv = layernorm(x, p["ln1w"], p["ln1b"]) @ p["qkvw"].T + p["qkvb"]  # (B, T, 3C)
    q, k, v = (t.view(B, T, NH, HS).transpose(1, 2) for t in qkv.split(C, dim=-1))
    att = (q @ k.transpose(-2, -1)) / math.sqrt(HS)  # (B, NH, T, T)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    att = torch.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
    y = (att @ v).transpose(1, 2).reshape(B, T, C)
    x = x + y @ p["attprojw"].T + p["attprojb"]
    h = gelu(layernorm(x, p["ln2w"], p["ln2b"]) @ p["fcw"].T + p["fcb"])
    return x + h @ p["fcprojw"].T + p["fcprojb"]


x = P[0]["wte"][tokens] + P[0]["wpe"][torch.arange(T)]
for l in range(1, L + 1):
    x = block(x, P[l])
logits = layernorm(x, P[-1]["lnfw"], P[-1]["lnfb"]) @ P[-1]["wlm"].T
loss = torch.nn.functional.cross_entropy(logits.view(-1, V), targets.view(-1))
loss.backward()

fixture = {
    "config": {"V": V, "C": C, "NH": NH, "L": L, "F": F, "T": T, "B": B},
    "tokens": tokens.flatten().tolist(),
    "targets": targets.flatten().tolist(),
    "loss": loss.item(),
    "params": [{k: text for k, (_, text) in layer.items()} for layer in layers],
    "grads": [{k: [float(f"{g:.8g}") for g in t.grad.flatten().tolist()] for k, t in layer.items()}
              for layer in P],
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print(f"wrote {OUT}: loss {loss.item():.8f}, {os.path.getsize(OUT)} bytes")

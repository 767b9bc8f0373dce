#!/usr/bin/env python3
"""Regenerate tests/kineto/fixtures/: real torch.profiler traces of pipelined training.

How the fixtures were made
--------------------------
    /path/to/python-with-torch tests/kineto/make_traces.py      # PyTorch 2.15, CPU only

For each schedule below, WORLD processes (spawned with torch.multiprocessing, gloo on CPU)
train a tiny GPT split into WORLD * V stages with torch.distributed.pipelining. Each rank
profiles 3 training steps with torch.profiler (schedule: 1 warm-up step, 2 active steps,
so the traces hold ProfilerStep#1 and ProfilerStep#2) and writes what
export_chrome_trace wrote, gzipped, as <name>_rank<R>.json.gz. Nothing is edited by hand.

manifest.json records, per fixture: the PyTorch schedule class, p (ranks), v (stages per
rank), m (microbatches), the files, whether the run recorded memory, and two compute
orders per rank in PipeLab's text form "<stage><KIND><microbatch>" (F/B/I/W only):
  "order"           what the stages ran in the last step, logged by wrapping each stage's
                    forward_one_chunk / backward_one_chunk / backward_weight_one_chunk;
  "pipeline_order"  what the schedule object reports (pipeline_order, or
                    _get_pipeline_order() for the single-stage schedules). For
                    Schedule1F1B in PyTorch 2.15 this differs from what runs (the last
                    rank's microbatch numbers are off by one), so tests use "order".
The importer's tests compare the order read back from the traces with "order".

PyTorch is never a build or test dependency: this script is run by hand.
"""
import gzip
import json
import os
import shutil
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from torch.distributed.pipelining import (PipelineStage, Schedule1F1B, ScheduleGPipe,
                                          ScheduleInterleaved1F1B,
                                          ScheduleInterleavedZeroBubble)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

# name, schedule class, ranks, stages per rank, microbatches, profile memory
RUNS = [
    ("gpipe", ScheduleGPipe, 2, 1, 4, False),
    ("1f1b", Schedule1F1B, 2, 1, 4, True),
    ("interleaved", ScheduleInterleaved1F1B, 2, 2, 4, False),
    ("zb", ScheduleInterleavedZeroBubble, 2, 2, 4, False),
]

# Tiny GPT: vocabulary V, width C, heads NH, sequence T, microbatch size B, 1 block per stage.
V, C, NH, T, B = 64, 32, 2, 16, 2
STEPS = 3  # 1 warm-up + 2 recorded


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(C)
        self.attn = nn.MultiheadAttention(C, NH, batch_first=True)
        self.ln2 = nn.LayerNorm(C)
        self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C))

    def forward(self, x):
        h = self.ln1(x)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class StageModule(nn.Module):
    """Stage s of n: the embedding on the first, the LM head on the last, a block on each."""

    def __init__(self, s, n):
        super().__init__()
        self.first, self.last = s == 0, s == n - 1
        if self.first:
            self.tok = nn.Embedding(V, C)
            self.pos = nn.Parameter(torch.zeros(T, C))
        self.block = Block()
        if self.last:
            self.lnf = nn.LayerNorm(C)
            self.head = nn.Linear(C, V)

    def forward(self, x):
        if self.first:
            x = self.tok(x) + self.pos
        x = self.block(x)
        if self.last:
            x = self.head(self.lnf(x))
        return x


def loss_fn(logits, targets):
    return nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))


def action_text(a):
    return f"{a.stage_index}{a.computation_type.value}{a.microbatch_index}"


def log_calls(stage, log):
    """Wraps a stage's compute entry points so that each call appends its action text."""
    fwd, bwd, bww = stage.forward_one_chunk, stage.backward_one_chunk, stage.backward_weight_one_chunk
    s = stage.stage_index

    def forward_one_chunk(mb, *a, **k):
        log.append(f"{s}F{mb}")
        return fwd(mb, *a, **k)

    def backward_one_chunk(mb, *a, **k):
        log.append(f"{s}{'B' if k.get('full_backward', True) else 'I'}{mb}")
        return bwd(mb, *a, **k)

    def backward_weight_one_chunk(mb, *a, **k):
        log.append(f"{s}W{mb}")
        return bww(mb, *a, **k)

    stage.forward_one_chunk = forward_one_chunk
    stage.backward_one_chunk = backward_one_chunk
    stage.backward_weight_one_chunk = backward_weight_one_chunk


def reported_order(schedule, world):
    """The order PyTorch runs: F/B/I/W actions per rank, None padding dropped."""
    if hasattr(schedule, "pipeline_order"):
        order = schedule.pipeline_order
    else:
        order = schedule._get_pipeline_order()
    out = []
    for r in range(world):
        acts = [a for a in order[r] if a is not None and a.computation_type.value in "FBIW"]
        out.append([action_text(a) for a in acts])
    return out


def worker(rank, world, name, cls, v, m, memory, tmp, port):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1234)  # same model on every rank; each keeps its own stages
    n_stages = world * v
    modules = [StageModule(s, n_stages) for s in range(n_stages)]
    # Interleaved and zero bubble hold stages r, r + p, ... ("loop" placement).
    mine = [s for s in range(n_stages) if s % world == rank]
    stages = [PipelineStage(modules[s], s, n_stages, torch.device("cpu")) for s in mine]
    log = []
    for st in stages:
        log_calls(st, log)
    params = [p for s in mine for p in modules[s].parameters()]
    opt = torch.optim.AdamW(params, lr=1e-3)
    if v == 1:
        sched = cls(stages[0], n_microbatches=m, loss_fn=loss_fn)
    else:
        sched = cls(stages, n_microbatches=m, loss_fn=loss_fn)

    g = torch.Generator().manual_seed(7)
    prof = torch.profiler.profile(
        activities=[torch.profiler.ProfilerActivity.CPU],
        schedule=torch.profiler.schedule(wait=0, warmup=1, active=STEPS - 1, repeat=1),
        profile_memory=memory,
        on_trace_ready=lambda p: p.export_chrome_trace(os.path.join(tmp, f"{name}_rank{rank}.json")))
    with prof:
        for _ in range(STEPS):
            tokens = torch.randint(0, V, (B * m, T), generator=g)
            targets = torch.randint(0, V, (B * m, T), generator=g)
            log.clear()  # keep the last step's calls
            opt.zero_grad()
            if rank == 0:
                sched.step(tokens)
            elif any(s.is_last for s in stages):
                sched.step(target=targets)
            else:
                sched.step()
            opt.step()
            prof.step()
    logs = [None] * world
    dist.all_gather_object(logs, log)
    if rank == 0:
        with open(os.path.join(tmp, f"{name}_order.json"), "w") as f:
            json.dump({"order": logs, "pipeline_order": reported_order(sched, world)}, f)
    dist.barrier()
    dist.destroy_process_group()


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {"torch": torch.__version__, "fixtures": []}
    port = 29650
    for name, cls, world, v, m, memory in RUNS:
        tmp = tempfile.mkdtemp()
        port += 1
        mp.spawn(worker, args=(world, name, cls, v, m, memory, tmp, port), nprocs=world, join=True)
        files = []
        for r in range(world):
            src = os.path.join(tmp, f"{name}_rank{r}.json")
            dst = f"{name}_rank{r}.json.gz"
            with open(src, "rb") as fi, gzip.open(os.path.join(OUT, dst), "wb", compresslevel=9) as fo:
                shutil.copyfileobj(fi, fo)
            files.append(dst)
        with open(os.path.join(tmp, f"{name}_order.json")) as f:
            orders = json.load(f)
        manifest["fixtures"].append({
            "name": name, "schedule_class": cls.__name__, "ranks": world, "stages_per_rank": v,
            "microbatches": m, "profile_memory": memory, "steps": [1, 2], "files": files,
            "order": orders["order"], "pipeline_order": orders["pipeline_order"]})
        shutil.rmtree(tmp)
        print(name, "done", file=sys.stderr)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Regenerate the fuzz targets' seed corpora under tests/fuzz/corpus/ (stdlib only).

    python3 tests/fuzz/make_seeds.py build/app/pipelab-cli

  config/    the samples (experiment configs) and a few near-misses
  schedule/  schedules written by `pipelab-cli schedule --out`, and one with a backward
             removed (the validator's error path)
  trace/     PipeLab traces written by `pipelab-cli simulate --trace`
  kineto/    excerpts of the torch.profiler fixtures (tests/kineto/fixtures): one step's
             pipeline annotations, transfers, top-level operators and allocator events,
             one rank per file and both ranks of a job joined by a form feed (0x0c), as
             fuzz_kineto reads them
  mapping/   event-mapping files
Seeds whose names start with "regress-" are inputs that once broke a parser: keep them.
"""
import glob
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
FIXTURES = os.path.join(ROOT, "tests", "kineto", "fixtures")


def write(target, name, text):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "w") as f:
        f.write(text)


def configs():
    for path in sorted(glob.glob(os.path.join(ROOT, "samples", "*.json"))):
        shutil.copy(path, os.path.join(CORPUS, "config", os.path.basename(path)))
    write("config", "near-miss-interleaved.json", json.dumps(
        {"pipeline": {"schedule": "interleaved", "stages": 4, "chunks": 2, "microbatches": 9}}))
    write("config", "near-miss-dualpipev.json", json.dumps(
        {"pipeline": {"schedule": "dualpipev", "stages": 4, "microbatches": 7}}))
    write("config", "near-miss-boundaries.json", json.dumps(
        {"model": {"layers": 4}, "pipeline": {"stages": 2, "boundaries": [3]}, "training": {"lr": 1e-3}}))


def schedules(cli):
    # zb_p3m4v1.json (zb-greedy under its old name "zb") stays in the corpus: the alias.
    specs = [("gpipe", 2, 2, 1), ("1f1b", 4, 4, 1), ("interleaved", 2, 4, 2), ("zb-greedy", 3, 4, 1),
             ("bfs", 2, 3, 2), ("interleaved-zb", 2, 4, 2), ("zb-h1", 3, 4, 1), ("zb-h2", 3, 4, 1),
             ("zb-v", 2, 4, 2), ("dualpipev", 2, 4, 2)]
    for kind, p, m, v in specs:
        out = os.path.join(CORPUS, "schedule", f"{kind}_p{p}m{m}v{v}.json")
        subprocess.run([cli, "schedule", "--schedule", kind, "--stages", str(p), "--microbatches", str(m),
                        "--chunks", str(v), "--out", out], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(CORPUS, "schedule", "1f1b_p4m4v1.json")) as f:
        s = json.load(f)
    s["actions"][1] = [a for a in s["actions"][1] if a != "1B2"]
    write("schedule", "broken-missing-backward.json", json.dumps(s))


def traces(cli):
    for kind, chunks in [("gpipe", 1), ("interleaved", 2), ("zb-greedy", 1), ("zb-v", 2)]:
        out = os.path.join(CORPUS, "trace", f"{kind}.json")
        subprocess.run([cli, "simulate", "--schedule", kind, "--stages", "2", "--microbatches", "2",
                        "--chunks", str(chunks), "--trace", out, "--no-gantt"], check=True, stdout=subprocess.DEVNULL)


def excerpt(path, step="ProfilerStep#2", operators=False):
    """One step of a fixture: annotations, c10d operators, memory; with operators, the
    top-level operators too (what order inference reads). Operator args are dropped."""
    with gzip.open(path) as f:
        doc = json.load(f)
    events = doc["traceEvents"]
    span = next(e for e in events if e.get("name") == step)
    lo, hi = span["ts"], span["ts"] + span["dur"]
    inside = [e for e in events if "ts" in e and lo <= e["ts"] < hi]
    keep, open_end = [span], -1.0
    for e in sorted(inside, key=lambda e: (e["ts"], -e.get("dur", 0))):
        if e.get("ph") == "X" and e.get("cat") == "user_annotation" and e is not span:
            keep.append(e)
        elif e.get("ph") == "X" and e.get("cat") == "cpu_op" and e["ts"] >= open_end:
            open_end = e["ts"] + e["dur"]  # top-level: not inside the previous one
            if operators or e["name"].startswith("c10d::"):
                keep.append({k: v for k, v in e.items() if k != "args"})
        elif e.get("name") == "[memory]" and len([k for k in keep if k.get("name") == "[memory]"]) < 20:
            keep.append(e)
    head = {k: v for k, v in doc.items() if k not in ("traceEvents", "traceName")}
    head["traceEvents"] = keep
    return json.dumps(head, separators=(",", ":"))


def kineto():
    for name in ["gpipe", "1f1b", "interleaved", "zb"]:
        ranks = [excerpt(os.path.join(FIXTURES, f"{name}_rank{r}.json.gz"), operators=name == "1f1b")
                 for r in range(2)]
        write("kineto", f"{name}_job.json", ranks[0] + "\f" + ranks[1])
    write("kineto", "zb_rank0_alone.json", excerpt(os.path.join(FIXTURES, "zb_rank0.json.gz")))


def mappings():
    write("mapping", "megatron.json", json.dumps({
        "framework": "megatron",
        "actions": [{"pattern": "^(?<kind>fwd|bwd) s(?<stage>\\d+) m(?<microbatch>\\d+)$",
                     "kinds": {"fwd": "F", "bwd": "B"}},
                    {"pattern": "^wgrad mb(?P<microbatch>\\d+)", "kind": "W"}],
        "step": "^iteration (?<step>\\d+)$", "send": "^send-", "recv": "^recv-"}))
    write("mapping", "bad-regex.json", json.dumps({"actions": [{"pattern": "(fwd[", "kind": "F"}]}))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py PATH/TO/pipelab-cli")
    cli = os.path.abspath(sys.argv[1])
    for target in ["config", "schedule", "trace", "kineto", "mapping"]:
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if not f.startswith("regress-"):
                os.remove(os.path.join(d, f))
    configs()
    schedules(cli)
    traces(cli)
    kineto()
    mappings()


if __name__ == "__main__":
    main()

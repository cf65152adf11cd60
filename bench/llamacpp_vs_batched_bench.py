#!/usr/bin/env python3
"""The llamacpp engine against llama.cpp's own llama-batched-bench, side by side.

Same synthetic model, same threads, same batch sizes, same prompt and generation
lengths, same context size: for each B the two programs alternate, RUNS times each, and
the medians of their prefill and decode tokens/s are compared. llama-batched-bench runs
`-ntg T` decode steps after a prompt of `-npp I`; `jouleperf run -O T+1` runs the same
T decode forwards (its first token comes from the prefill), so both decode figures are
B*T tokens over the decode time.

Usage: bench/llamacpp_vs_batched_bench.py [--build build] [--runs 5] [--threads N]
           [--batches 1,4,16] [--input 128] [--gen 32] [--preset small] [--type q8_0]
           [--min-ratio 0.98] [--hz 100]
Exit status 1 when a ratio (jouleperf / llama-batched-bench) is below --min-ratio.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def batched_bench(tool, model, b, i, t, threads):
    out = run([tool, "-m", model, "-c", str(b * (i + t + 1)), "-b", "2048", "-ub", "512", "-npp", str(i),
               "-ntg", str(t), "-npl", str(b), "-t", str(threads), "-tb", str(threads), "--output-format", "jsonl"])
    for line in (out.stdout + out.stderr).splitlines():
        line = line.strip()
        if line.startswith("{") and '"speed_pp"' in line:
            j = json.loads(line)
            return j["speed_pp"], j["speed_tg"]
    raise RuntimeError("no jsonl line from llama-batched-bench")


def jouleperf(cli, model, b, i, t, threads, hz):
    out = run([cli, "run", "--engine", "llamacpp", "--model", model, "--input", str(i), "--output", str(t + 1),
               "--batch", str(b), "--threads", str(threads), "--n-batch", "2048", "--n-ubatch", "512",
               "--warmup", "1", "--sensor", "cpu-model", "--hz", str(hz), "--json"])
    j = json.loads(out.stdout)
    return j["prefill_tokens_per_s"], j["decode_tokens_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batches", default="1,4,16")
    ap.add_argument("--input", type=int, default=128)
    ap.add_argument("--gen", type=int, default=32, help="decode steps (jouleperf --output is one more)")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--type", default="q8_0")
    ap.add_argument("--min-ratio", type=float, default=0.98)
    ap.add_argument("--hz", type=float, default=100.0, help="jouleperf's sampling rate (its default: 100)")
    a = ap.parse_args()

    cli = os.path.join(a.build, "jouleperf")
    tool = os.path.join(ROOT, "third_party", "_build", "llama-cpu", "bin", "llama-batched-bench")
    model_dir = os.path.join(a.build, "bench-models")
    os.makedirs(model_dir, exist_ok=True)
    model = os.path.join(model_dir, f"{a.preset}-{a.type}.gguf")
    if not os.path.exists(model):
        run([cli, "model", "synth", "--preset", a.preset, "--type", a.type, "--context", "8192", "-o", model])

    print(f"model {a.preset} ({a.type}), I={a.input}, decode steps={a.gen}, threads={a.threads}, runs={a.runs}, "
          f"jouleperf sampling at {a.hz} Hz")
    print("| B | phase | llama-batched-bench t/s | jouleperf t/s | ratio |")
    print("| ---: | --- | ---: | ---: | ---: |")
    worst = float("inf")
    for b in [int(x) for x in a.batches.split(",")]:
        ref_pp, ref_tg, our_pp, our_tg = [], [], [], []
        for r in range(a.runs):
            # Alternate which goes first, so drift on a shared machine hits both alike.
            order = [0, 1] if r % 2 == 0 else [1, 0]
            for k in order:
                if k == 0:
                    pp, tg = batched_bench(tool, model, b, a.input, a.gen, a.threads)
                    ref_pp.append(pp)
                    ref_tg.append(tg)
                else:
                    pp, tg = jouleperf(cli, model, b, a.input, a.gen, a.threads, a.hz)
                    our_pp.append(pp)
                    our_tg.append(tg)
        for phase, ref, ours in (("prefill", ref_pp, our_pp), ("decode", ref_tg, our_tg)):
            mr, mo = statistics.median(ref), statistics.median(ours)
            ratio = mo / mr
            worst = min(worst, ratio)
            print(f"| {b} | {phase} | {mr:.1f} | {mo:.1f} | {ratio:.3f} |", flush=True)
    print(f"worst ratio: {worst:.3f} (required: {a.min_ratio})")
    return 0 if worst >= a.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The llamacpp engine against llama.cpp's own llama-batched-bench, side by side.

Same synthetic model, same threads, same batch sizes, same prompt and generation
lengths, same context size: for each B the two programs alternate, RUNS times each, and
the median over runs of the ratio of each back-to-back pair (jouleperf / llama-batched-bench) is
reported with a distribution-free ~95 % interval. Pairing cancels the slow drift of a shared
machine that made medians of the two programs' figures move by +-5 % between invocations. llama-batched-bench runs
`-ntg T` decode steps after a prompt of `-npp I`; `jouleperf run -O T+1` runs the same
T decode forwards (its first token comes from the prefill), so both decode figures are
B*T tokens over the decode time.

Usage: bench/llamacpp_vs_batched_bench.py [--build build] [--runs 5] [--threads N]
           [--batches 1,4,16] [--input 128] [--gen 32] [--preset small] [--type q8_0]
           [--min-ratio 0.98] [--hz 100] [--pin CPUS]
Exit status 1 when a paired ratio's median is below --min-ratio.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


PIN = []  # e.g. ["taskset", "-c", "1"]: both programs on the same core


def run(cmd):
    return subprocess.run(PIN + cmd, check=True, capture_output=True, text=True)


def median_ci(xs):
    """The median of xs and a distribution-free ~95 % confidence interval for it (order
    statistics of the binomial(n, 1/2) distribution); (lo, hi) is the sample range when n < 6."""
    xs = sorted(xs)
    n = len(xs)
    med = statistics.median(xs)
    if n < 6:
        return med, xs[0], xs[-1]
    # the largest k with P(Binomial(n, 1/2) < k) <= 0.025: the interval is [x_(k), x_(n-k+1)]
    cdf, k = 0.0, 0
    while True:
        p = math.comb(n, k) / 2 ** n
        if cdf + p > 0.025:
            break
        cdf += p
        k += 1
    k = max(k, 1)
    return med, xs[k - 1], xs[n - k]


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
    ap.add_argument("--raw", default="", help="also write every run's figures to this JSON file")
    ap.add_argument("--pin", default="", help="run both programs on these CPUs (taskset -c LIST), e.g. 1")
    a = ap.parse_args()
    if a.pin:
        PIN.extend(["taskset", "-c", a.pin])

    cli = os.path.join(a.build, "jouleperf")
    tool = os.path.join(ROOT, "third_party", "_build", "llama-cpu", "bin", "llama-batched-bench")
    model_dir = os.path.join(a.build, "bench-models")
    os.makedirs(model_dir, exist_ok=True)
    model = os.path.join(model_dir, f"{a.preset}-{a.type}.gguf")
    if not os.path.exists(model):
        run([cli, "model", "synth", "--preset", a.preset, "--type", a.type, "--context", "8192", "-o", model])

    print(f"model {a.preset} ({a.type}), I={a.input}, decode steps={a.gen}, threads={a.threads}, runs={a.runs}, "
          f"jouleperf sampling at {a.hz} Hz")
    print(f"pinned to CPUs {a.pin or 'none'}; ratio = median over runs of (jouleperf / llama-batched-bench) of the "
          "same pair of back-to-back runs, with its ~95 % interval")
    print("| B | phase | llama-batched-bench t/s | jouleperf t/s | paired ratio | 95 % interval |")
    print("| ---: | --- | ---: | ---: | ---: | --- |")
    worst = float("inf")
    raw = {}
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
        raw[b] = {"batched_bench_pp": ref_pp, "batched_bench_tg": ref_tg, "jouleperf_pp": our_pp, "jouleperf_tg": our_tg}
        for phase, ref, ours in (("prefill", ref_pp, our_pp), ("decode", ref_tg, our_tg)):
            mr, mo = statistics.median(ref), statistics.median(ours)
            ratio, lo, hi = median_ci([o / r for o, r in zip(ours, ref)])
            worst = min(worst, ratio)
            print(f"| {b} | {phase} | {mr:.1f} | {mo:.1f} | {ratio:.3f} | {lo:.3f}-{hi:.3f} |", flush=True)
    if a.raw:
        with open(a.raw, "w") as f:
            json.dump(raw, f, indent=1)
    print(f"worst paired ratio: {worst:.3f} (required: {a.min_ratio})")
    return 0 if worst >= a.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Side-by-side: loading an Azure trace with jouleperf vs Python's csv module.

Python standard library only. In one run it measures
  1. Python: csv.reader over the file, converting ContextTokens and GeneratedTokens to
     int (less work than jouleperf does: timestamps stay strings, nothing is validated);
  2. jouleperf: bench/trace_parse_bench's BM_LoadAzureConvFile (the library loader in
     process: timestamps parsed to nanoseconds, lengths validated, arrivals computed);
  3. end to end: the `jouleperf trace stats FILE --json` command (process start-up,
     loading, percentiles, JSON), for scale,
and prints the times and the ratio Python / jouleperf. Both in-process figures are the
median of --repeat runs of CPU time (less sensitive to other load on the machine) and
wall time; the ratio uses CPU time. Exit status 1 when the ratio is below --min-ratio.

Usage (from the repository root, after building the `trace_parse_bench` and `jouleperf`
targets in build/):
  python3 scripts/trace_load_compare.py [--trace FILE] [--repeat N]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time


def python_load(path):
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        n = tokens = 0
        for row in rows:
            tokens += int(row[1]) + int(row[2])
            n += 1
    return n, tokens


def time_python(path, repeat):
    wall, cpu = [], []
    result = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = python_load(path)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return result, statistics.median(wall), statistics.median(cpu)


def time_bench(bench, path, repeat):
    env = dict(os.environ, JOULEPERF_BENCH_TRACE=path)
    out = subprocess.run(
        [bench, "--benchmark_filter=^BM_LoadAzureConvFile$", f"--benchmark_repetitions={repeat}",
         "--benchmark_format=json", "--benchmark_min_time=0.2"],
        env=env, check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    if not runs or "error_message" in runs[0]:
        sys.exit(f"benchmark failed: {runs[0].get('error_message') if runs else out}")
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[runs[0]["time_unit"]]
    return (int(runs[0]["requests"]), statistics.median(r["real_time"] for r in runs) * scale,
            statistics.median(r["cpu_time"] for r in runs) * scale)


def time_cli(jouleperf, path, repeat):
    wall = []
    requests = None
    for _ in range(repeat):
        w0 = time.perf_counter()
        out = subprocess.run([jouleperf, "trace", "stats", path, "--json"], check=True, capture_output=True,
                             text=True).stdout
        wall.append(time.perf_counter() - w0)
        requests = json.loads(out)["requests"]
    return requests, statistics.median(wall)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", default=os.path.join(root, "..", "shared", "data", "AzureLLMInferenceTrace_conv.csv"))
    ap.add_argument("--bench", default=os.path.join(root, "build", "bench", "trace_parse_bench"))
    ap.add_argument("--jouleperf", default=os.path.join(root, "build", "jouleperf"))
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--min-ratio", type=float, default=10.0)
    a = ap.parse_args()
    path = os.path.abspath(a.trace)

    (py_n, _), py_wall, py_cpu = time_python(path, a.repeat)
    jp_n, jp_wall, jp_cpu = time_bench(a.bench, path, a.repeat)
    cli_n, cli_wall = time_cli(a.jouleperf, path, a.repeat)
    if not (py_n == jp_n == cli_n):
        sys.exit(f"request counts differ: python {py_n}, jouleperf {jp_n}, cli {cli_n}")
    ratio = py_cpu / jp_cpu
    print(f"trace: {path} ({py_n} requests, {os.path.getsize(path)} bytes)")
    print(f"python {sys.version.split()[0]} csv.reader + int():  {py_cpu * 1e3:8.2f} ms CPU  {py_wall * 1e3:8.2f} ms wall")
    print(f"jouleperf load_trace (in process):   {jp_cpu * 1e3:8.2f} ms CPU  {jp_wall * 1e3:8.2f} ms wall")
    print(f"jouleperf trace stats --json (process, end to end): {cli_wall * 1e3:8.2f} ms wall")
    print(f"ratio python / jouleperf: {ratio:.1f}x CPU, {py_wall / jp_wall:.1f}x wall "
          f"(medians of {a.repeat} runs; required >= {a.min_ratio:g}x)")
    return 0 if ratio >= a.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())

"""What jouleperf costs a Python program (docs/performance.md, "Python package").

1. An empty window (begin + end) from Python: the raw binding, the Monitor methods and
   the `with mon.window()` block, against a bare Python loop calling two no-op
   functions (the floor of any two calls from Python).
2. A Python busy loop with a Monitor sampling (its C++ thread, the GIL released) against
   the same loop with none, in alternating runs; and the sampler thread's share of a core
   (process CPU time minus the main thread's, over wall time).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--sensors cpu-model] [--hz 100]
Every figure is measured here and printed with its spread; nothing is asserted.
"""

import argparse
import statistics
import time

import jouleperf


def per_call_us(fn, n):
    t = time.perf_counter()
    fn(n)
    return (time.perf_counter() - t) / n * 1e6


def empty_windows(mon, n, repeats):
    raw = mon._m

    def bare(k):
        def noop(_name):
            return None
        for _ in range(k):
            noop("w")
            noop("w")

    def binding(k):
        for _ in range(k):
            raw.begin_window("w")
            raw.end_window("w")

    def methods(k):
        for _ in range(k):
            mon.begin_window("w")
            mon.end_window("w")

    def block(k):
        for _ in range(k):
            with mon.window("w"):
                pass

    out = {}
    for name, fn in (("bare Python loop, two no-op calls", bare), ("_jouleperf binding begin+end", binding),
                     ("Monitor.begin_window + end_window", methods), ("with mon.window(...)", block)):
        fn(n // 10)  # warm
        runs = [per_call_us(fn, n) for _ in range(repeats)]
        out[name] = runs
    return out


def busy(iterations):
    x = 0
    for i in range(iterations):
        x += i * i
    return x


def loop_rate(iterations):
    t = time.perf_counter()
    busy(iterations)
    return iterations / (time.perf_counter() - t)


def busy_loop_side_by_side(sensors, hz, iterations, pairs):
    off, on, shares = [], [], []
    for _ in range(pairs):
        off.append(loop_rate(iterations))
        mon = jouleperf.Monitor(sensors=sensors, hz=hz)
        wall0, proc0, main0 = time.perf_counter(), time.process_time(), time.thread_time()
        on.append(loop_rate(iterations))
        wall, proc, main = time.perf_counter() - wall0, time.process_time() - proc0, time.thread_time() - main0
        shares.append((proc - main) / wall * 100)
        del mon
    return off, on, shares


def spread(values, fmt):
    return f"median {fmt(statistics.median(values))} (min {fmt(min(values))}, max {fmt(max(values))}, n={len(values)})"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sensors", default="cpu-model")
    p.add_argument("--hz", type=float, default=100.0)
    p.add_argument("--windows", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--iterations", type=int, default=5_000_000)
    p.add_argument("--pairs", type=int, default=7)
    a = p.parse_args()
    mon = jouleperf.Monitor(sensors=a.sensors, hz=a.hz)
    print(f"jouleperf {jouleperf.__version__}; sensors: {mon.sensors}; {a.hz:g} Hz")
    print(f"1. an empty window, µs per begin+end ({a.windows} windows per run):")
    for name, runs in empty_windows(mon, a.windows, a.repeats).items():
        print(f"   {name}: {spread(runs, lambda v: f'{v:.2f}')}")
    del mon
    off, on, shares = busy_loop_side_by_side(a.sensors, a.hz, a.iterations, a.pairs)
    ratio = [b / o for o, b in zip(off, on)]
    print(f"2. a Python busy loop ({a.iterations} iterations), alternating runs without and with a Monitor:")
    print(f"   without: {spread(off, lambda v: f'{v / 1e6:.2f} M it/s')}")
    print(f"   with:    {spread(on, lambda v: f'{v / 1e6:.2f} M it/s')}")
    print(f"   with / without, per pair: {spread(ratio, lambda v: f'{v:.3f}')}")
    print(f"   sampler thread's share of a core while the loop runs: {spread(shares, lambda v: f'{v:.2f} %')}")


if __name__ == "__main__":
    main()

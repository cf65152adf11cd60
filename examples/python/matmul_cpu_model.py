"""Measure a numpy matmul loop with jouleperf (docs/python.md).

On a machine without an energy sensor (no RAPL, no GPU) the Monitor falls back to the
CPU-time model and every figure says ESTIMATED; with RAPL or NVML readable it measures.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/matmul_cpu_model.py [N] [REPEATS]
"""

import sys

import numpy as np

import jouleperf


def main(n=512, repeats=20):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    mon = jouleperf.Monitor(sensors="auto", idle=0.5)  # half a second of idle baseline first
    print(f"sensors: {mon.sensors}{' (ESTIMATED: the CPU-time model)' if mon.estimated_only else ''}")
    with mon.window("matmul") as w:
        for _ in range(repeats):
            a = (a @ b) / n  # keep the values bounded
    m = w.measurement
    flops = 2.0 * n**3 * repeats
    print(m)
    print(f"{m.energy_j:.3f} J +- {m.uncertainty_j:.3f} J ({m.kind}, {m.energy_source}) in {m.duration_s:.3f} s; "
          f"{m.energy_j / flops * 1e9:.3f} J per GFLOP; above idle: "
          f"{'n/a' if m.above_idle_j is None else f'{m.above_idle_j:.3f} J'}")
    return m


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:3]))

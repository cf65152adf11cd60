"""A window over a fake RAPL zone whose counter a thread advances at a known power:
the measured energy is that power times the window, within the sampler's bound."""
import os
import sys
import threading
import time

import jouleperf

POWER_W = 20.0


def make_powercap(root):
    rel = os.path.join("sys", "devices", "virtual", "powercap", "intel-rapl", "intel-rapl:0")
    zone = os.path.join(root, rel)
    os.makedirs(zone)
    for name, text in (("name", "package-0"), ("energy_uj", "1000"), ("max_energy_range_uj", "262143328850"),
                       ("enabled", "0")):
        with open(os.path.join(zone, name), "w") as f:
            f.write(text + "\n")
    cls = os.path.join(root, "sys", "class", "powercap")
    os.makedirs(cls)
    with open(os.path.join(root, "sys", "devices", "virtual", "powercap", "intel-rapl", "enabled"), "w") as f:
        f.write("1\n")
    os.symlink(cls, os.path.join(zone, "subsystem"))
    os.symlink("../../devices/virtual/powercap/intel-rapl", os.path.join(cls, "intel-rapl"))
    os.symlink("../../devices/virtual/powercap/intel-rapl/intel-rapl:0", os.path.join(cls, "intel-rapl:0"))
    return cls, os.path.join(cls, "intel-rapl:0", "energy_uj")


def test_known_power_gives_known_energy(tmp_path):
    cls, energy_file = make_powercap(str(tmp_path))
    stop = threading.Event()
    start = time.monotonic()

    def advance():
        while not stop.is_set():
            uj = 1000 + int(POWER_W * (time.monotonic() - start) * 1e6)
            with open(energy_file, "r+") as f:
                f.seek(0)
                f.write(f"{uj}\n")
                f.truncate()
            time.sleep(0.001)

    t = threading.Thread(target=advance)
    t.start()
    try:
        mon = jouleperf.Monitor(sensors="rapl", hz=100, powercap_root=cls)
        with mon.window("work") as w:
            time.sleep(0.5)
    finally:
        stop.set()
        t.join()
    m = w.measurement
    assert not m.estimated
    assert m.energy_source == "counter"
    expected = POWER_W * m.duration_s
    # The sampler's bound covers the sensor; the fake itself lags: its writer thread waits for
    # the GIL (up to the switch interval) and writes in 1 ms steps, at each end of the window.
    lag_s = sys.getswitchinterval() + 0.001
    assert abs(m.energy_j - expected) <= m.uncertainty_j + 2 * POWER_W * lag_s, (m, expected)


def test_nested_and_overlapping_windows_each_measure_their_own_span(tmp_path):
    cls, energy_file = make_powercap(str(tmp_path))
    stop = threading.Event()
    start = time.monotonic()

    def advance():
        while not stop.is_set():
            uj = 1000 + int(POWER_W * (time.monotonic() - start) * 1e6)
            with open(energy_file, "r+") as f:
                f.seek(0)
                f.write(f"{uj}\n")
                f.truncate()
            time.sleep(0.001)

    t = threading.Thread(target=advance)
    t.start()
    try:
        mon = jouleperf.Monitor(sensors="rapl", hz=100, powercap_root=cls)
        mon.begin_window("outer")
        time.sleep(0.2)
        mon.begin_window("a")  # a: inside outer, overlapping b
        time.sleep(0.2)
        mon.begin_window("b")
        time.sleep(0.2)
        a = mon.end_window("a")
        time.sleep(0.2)
        b = mon.end_window("b")
        outer = mon.end_window("outer")
    finally:
        stop.set()
        t.join()
    lag_s = sys.getswitchinterval() + 0.001
    for m in (outer, a, b):
        assert not m.estimated and m.energy_source == "counter"
        assert abs(m.energy_j - POWER_W * m.duration_s) <= m.uncertainty_j + 2 * POWER_W * lag_s, m
    assert outer.duration_s > a.duration_s and outer.duration_s > b.duration_s
    assert outer.energy_j > a.energy_j and outer.energy_j > b.energy_j
    assert abs(a.duration_s - 0.4) < 0.1 and abs(b.duration_s - 0.4) < 0.1

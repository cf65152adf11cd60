"""Windows on the CPU-time model: the decorator, what a Measurement shows, two threads at
once, and 10,000 windows without a leak."""

import threading

import jouleperf


def busy(n=100000):
    return sum(i * i for i in range(n))


def test_a_window_is_estimated_on_the_cpu_model_and_says_so():
    mon = jouleperf.Monitor(sensors="cpu-model", hz=100)
    assert mon.estimated_only and "cpu-model" in mon.sensors
    with mon.window("loop") as w:
        busy(200000)
    m = w.measurement
    assert m.name == "loop"
    assert m.estimated and m.kind == "ESTIMATED"
    assert m.energy_source == "cpu-time-model"
    assert m.energy_j > 0 and m.duration_s > 0 and m.power_w > 0
    assert m.uncertainty_j > 0
    assert m.above_idle_j is None  # no idle baseline was measured
    [d] = m.domains
    assert d["sensor"] == "cpu-model" and d["source"] == "cpu-time-model" and d["in_total"]
    assert abs(d["energy_j"] - m.energy_j) < 1e-9


def test_to_dict_repr_and_html_show_the_figures_and_their_kind():
    mon = jouleperf.Monitor(sensors="cpu-model")
    with mon.window("step") as w:
        busy()
    m = w.measurement
    d = m.to_dict()
    assert d["energy_j"] == m.energy_j and d["estimated"] is True and d["domains"][0]["domain"] == "cpu-model:all"
    d["domains"][0]["energy_j"] = -1  # a copy: the Measurement is unchanged
    assert m.domains[0]["energy_j"] >= 0
    text = repr(m)
    assert "'step'" in text and " J " in text and "ESTIMATED" in text and "cpu-time-model" in text
    page = m._repr_html_()
    assert "<table>" in page and "ESTIMATED" in page and "cpu-model:all" in page


def test_the_idle_baseline_gives_energy_above_idle():
    mon = jouleperf.Monitor(sensors="cpu-model", idle=0.2)
    with mon.window("after-idle") as w:
        busy()
    m = w.measurement
    assert m.idle_power_w is not None and m.idle_power_w >= 0
    assert m.above_idle_j is not None and m.above_idle_j <= m.energy_j


def test_the_decorator_measures_each_call():
    mon = jouleperf.Monitor(sensors="cpu-model")

    @jouleperf.measure(mon)
    def step(n):
        return busy(n)

    assert step(1000) == busy(1000)
    first = step.last_measurement
    step(50000)
    second = step.last_measurement
    assert first is not second
    assert first.name == "test_the_decorator_measures_each_call.<locals>.step"
    assert second.duration_s > 0 and second.estimated
    assert mon.open_windows == []

    @jouleperf.measure
    def bare():
        return 7

    assert bare() == 7 and bare.last_measurement.energy_j >= 0

    @jouleperf.measure(mon, name="failing")
    def failing():
        raise RuntimeError("inside")

    try:
        failing()
    except RuntimeError:
        pass
    assert failing.last_measurement.name == "failing" and mon.open_windows == []


def test_the_decorator_on_a_coroutine_measures_the_awaited_call():
    import asyncio

    mon = jouleperf.Monitor(sensors="cpu-model")

    @jouleperf.measure(mon)
    async def work():
        await asyncio.sleep(0.05)
        return busy(1000)

    assert asyncio.run(work()) == busy(1000)
    assert work.last_measurement.duration_s >= 0.04


def test_the_same_window_name_from_two_threads_at_once():
    mon = jouleperf.Monitor(sensors="cpu-model")
    inside = threading.Barrier(2)
    out = []

    def worker():
        with mon.window("request") as w:
            inside.wait()  # both windows named "request" are open here
        out.append(w.measurement)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [m.name for m in out] == ["request", "request"]


def test_rates_and_idle_out_of_range_are_invalid():
    import pytest

    for kwargs in ({"hz": 0}, {"hz": float("inf")}, {"hz": float("nan")}, {"counter_hz": -1}, {"idle": 0}):
        with pytest.raises(jouleperf.InvalidArgumentError):
            jouleperf.Monitor(sensors="cpu-model", **kwargs)


def test_a_window_still_ends_when_its_block_raises():
    mon = jouleperf.Monitor(sensors="cpu-model")
    try:
        with mon.window("fails") as w:
            raise ValueError("in the block")
    except ValueError:
        pass
    assert w.measurement is not None and mon.open_windows == []


def test_two_python_threads_measure_windows_at_once():
    mon = jouleperf.Monitor(sensors="cpu-model", hz=200)
    results = {0: [], 1: []}
    errors = []
    start = threading.Barrier(2)

    def worker(t):
        try:
            start.wait()
            for i in range(100):
                with mon.window(f"thread{t}-{i}") as w:
                    busy(2000)
                results[t].append(w.measurement)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for t in (0, 1):
        assert len(results[t]) == 100
        assert [m.name for m in results[t]] == [f"thread{t}-{i}" for i in range(100)]
        assert all(m.energy_j >= 0 and m.duration_s >= 0 for m in results[t])
    assert mon.open_windows == []


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_ten_thousand_windows_do_not_leak():
    mon = jouleperf.Monitor(sensors="cpu-model", hz=100)

    def windows(n):
        for _ in range(n):
            mon.begin_window("w")
            mon.end_window("w")

    windows(2000)  # warm: allocator pools, the sampler's ring
    before = rss_bytes()
    windows(10000)
    after = rss_bytes()
    # Catches a leak of 52 bytes or more per window (one small object or string each).
    assert after - before < 512 * 1024, (before, after)

"""The Monitor from Python on the CPU-time model (work in progress, issue 16)."""
import pytest

import jouleperf


def test_a_window_is_estimated_on_the_cpu_model():
    mon = jouleperf.Monitor(sensors="cpu-model", hz=100)
    with mon.window("loop") as w:
        sum(i * i for i in range(200000))
    m = w.measurement
    assert m.estimated
    assert m.energy_source == "cpu-time-model"
    assert m.energy_j > 0
    assert m.duration_s > 0


def test_an_unknown_sensor_is_an_error_with_its_message():
    with pytest.raises(jouleperf.Error) as e:
        jouleperf.Monitor(sensors="no-such-sensor")
    assert "no-such-sensor" in str(e.value)


def test_ending_a_window_that_is_not_open_is_not_found():
    mon = jouleperf.Monitor(sensors="cpu-model")
    with pytest.raises(jouleperf.NotFoundError):
        mon.end_window("never-begun")

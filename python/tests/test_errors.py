"""The library's errors arrive as jouleperf.Error subclasses with its message; bad input
never crashes the interpreter."""

import pytest

import jouleperf


def test_an_unknown_sensor_is_invalid_and_names_the_known_ones():
    with pytest.raises(jouleperf.InvalidArgumentError) as e:
        jouleperf.Monitor(sensors="no-such-sensor")
    assert isinstance(e.value, jouleperf.Error)
    assert e.value.code == "invalid-argument"
    assert "no-such-sensor" in str(e.value) and "cpu-model" in str(e.value)


def test_a_missing_store_is_not_found(tmp_path):
    missing = tmp_path / "nothing.db"
    with pytest.raises(jouleperf.NotFoundError) as e:
        jouleperf.open_store(missing)
    assert str(missing) in str(e.value)
    with pytest.raises(jouleperf.NotFoundError):
        jouleperf.estimate(missing, workload="azure-conv-2023")
    assert not missing.exists()  # nothing was created


def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path):
    f = tmp_path / "notes.db"
    f.write_text("not a database\n")
    with pytest.raises(jouleperf.Error):
        jouleperf.open_store(f)
    assert f.read_text() == "not a database\n"


def test_a_malformed_trace_line_names_file_and_line(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                 "2023-11-16 18:15:46.6805900,374,44\n"
                 "2023-11-16 18:15:50.9951690,many,10\n")
    with pytest.raises(jouleperf.ParseError) as e:
        jouleperf.load_trace(f)
    assert f"{f}:3" in str(e.value)
    skipped = jouleperf.load_trace(f, skip_bad=True)
    assert len(skipped) == 1 and skipped.attrs["summary"]["skipped_bad"] == 1


def test_misspelt_or_mistyped_keywords_are_invalid():
    with pytest.raises(jouleperf.InvalidArgumentError, match="unknown keyword hardwar"):
        jouleperf.simulate("h100-sxm", workload="azure-conv-2023", hardwar="a100")
    with pytest.raises(jouleperf.InvalidArgumentError, match="count has the wrong type"):
        jouleperf.simulate("h100-sxm", workload="azure-conv-2023", count="many")


def test_unknown_hardware_is_not_found_listing_the_profiles():
    with pytest.raises(jouleperf.NotFoundError, match="h100-sxm"):
        jouleperf.hardware.show("no-such-gpu")


def test_window_misuse_is_an_error_and_the_monitor_goes_on():
    mon = jouleperf.Monitor(sensors="cpu-model")
    with pytest.raises(jouleperf.NotFoundError):
        mon.end_window("never-begun")
    mon.begin_window("a")
    with pytest.raises(jouleperf.InvalidArgumentError, match="already open"):
        mon.begin_window("a")
    with pytest.raises(jouleperf.InvalidArgumentError):
        mon.begin_window("")
    assert mon.end_window("a").duration_s >= 0
    assert mon.open_windows == []

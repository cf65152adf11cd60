"""Traces, the simulator and the hardware profiles from Python equal the commands' output."""

import json
import os

import numpy as np
import pytest
from conftest import run
from frames import assert_same_rows

import jouleperf


def test_a_generic_csv_trace_reads_into_a_dataframe(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("t,prompt,completion,user\n0.5,100,20,a\n1.25,3000,7,b\n2.0,42,900,a\n")
    frame = jouleperf.load_trace(f, input_col="prompt", output_col="completion", time_col="t")
    assert list(frame.columns) == ["line", "arrival_s", "input_tokens", "output_tokens"]
    assert frame["input_tokens"].tolist() == [100, 3000, 42]
    assert frame["output_tokens"].tolist() == [20, 7, 900]
    assert frame["arrival_s"].tolist() == [0.0, 0.75, 1.5]  # from the first timed row
    assert frame["line"].tolist() == [2, 3, 4]
    only_a = jouleperf.load_trace(f, input_col="prompt", output_col="completion", where=["user=a"])
    assert only_a["input_tokens"].tolist() == [100, 42] and np.isnan(only_a["arrival_s"]).all()
    assert only_a.attrs["summary"]["filtered_out"] == 1


def test_the_azure_trace_reads_as_the_command_counts_it(jp_bin):
    trace = os.path.join(os.environ.get("JP_SHARED_DATA_DIR", ""), "AzureLLMInferenceTrace_conv.csv")
    if not os.path.exists(trace):
        pytest.skip("../shared/data is not beside the repository")
    frame = jouleperf.load_trace(trace)
    stats = json.loads(run(jp_bin, "trace", "stats", trace, "--json"))
    assert frame.attrs["summary"]["format"] == stats["format"] == "azure"
    assert len(frame) == stats["input"]["count"]
    assert int(frame["input_tokens"].sum()) == stats["input"]["total"]
    assert int(frame["output_tokens"].sum()) == stats["output"]["total"]
    assert frame["arrival_s"].iloc[-1] == pytest.approx(stats["last_arrival_s"])


def test_simulate_equals_the_command_and_says_it_is_simulated(jp_bin):
    sim = jouleperf.simulate("h100-sxm", workload="azure-conv-2023", count=200, stack="vllm", max_batch=64)
    cli = json.loads(run(jp_bin, "simulate", "--hardware", "h100-sxm", "--workload", "azure-conv-2023", "--count", "200",
                         "--stack", "vllm", "--max-batch", "64", "--json"))
    assert sim.json == cli
    assert sim.simulated and sim.header[0].startswith("SIMULATED")
    summary = sim.to_frame().set_index("quantity")["value"]
    assert summary["completed"] == 200 and summary["energy_j"] > 0
    assert set(sim.table_names) >= {"summary", "latency"}


def test_one_simulated_batch(jp_bin):
    sim = jouleperf.simulate("a100-sxm", batch=8, input_tokens=512, output_tokens=64)
    cli = json.loads(run(jp_bin, "simulate", "--hardware", "a100-sxm", "--batch", "8", "--input-tokens", "512",
                         "--output-tokens", "64", "--json"))
    assert sim.json == cli


def test_the_hardware_list_equals_the_commands_csv(jp_bin):
    frame = jouleperf.hardware.list()
    assert_same_rows(frame, run(jp_bin, "hardware", "list", "--output", "csv"))
    assert "h100-sxm" in set(frame["name"])
    h100 = jouleperf.hardware.show("h100")
    assert h100.json == json.loads(run(jp_bin, "hardware", "show", "h100", "--json"))

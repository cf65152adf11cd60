"""A results store read into pandas equals what `jouleperf report --output csv` writes of
the same store, and jouleperf.estimate equals `jouleperf estimate --json`."""

import json
import os

import pytest
from conftest import run
from frames import assert_same_rows

import jouleperf

REPORT_TABLES = ["cells", "estimates", "replays", "validations"]


@pytest.mark.parametrize("table", REPORT_TABLES)
def test_the_simulated_studys_tables_equal_the_reports_csv(jp_bin, sim_store, table):
    store = jouleperf.open_store(sim_store)
    frame = getattr(store, table)
    assert_same_rows(frame, run(jp_bin, "report", "--store", sim_store, "--output", "csv", "--table", table))
    if table in ("cells", "estimates"):
        assert len(frame) > 0


def test_a_replayed_runs_tables_equal_the_reports_csv(jp_bin, replay_store):
    store = jouleperf.open_store(replay_store)
    assert store.table_names == REPORT_TABLES + ["replay_requests"]
    for table in store.table_names:
        assert_same_rows(store.table(table),
                         run(jp_bin, "report", "--store", replay_store, "--output", "csv", "--table", table))
    assert len(store.replays) == 1 and len(store.table("replay_requests")) == 6


def test_units_are_in_the_column_names_and_each_column_has_its_help(sim_store):
    cells = jouleperf.open_store(sim_store).cells
    assert "energy_per_batch_j" in cells.columns
    assert cells.attrs["help"]["energy_per_batch_j"]
    assert cells["energy_per_batch_j"].dtype.kind == "f"
    assert set(cells["config"]) == {"eager", "vllm"}


def test_configurations_runs_and_requests(replay_store, sim_store):
    configs = jouleperf.open_store(sim_store).configurations
    assert list(configs["config"]) == ["eager", "vllm"]
    assert configs.loc[configs["config"] == "eager", "baseline"].item()
    assert configs.loc[configs["config"] == "vllm", "settings"].item() == {"hardware": "h100-sxm", "stack": "vllm"}

    store = jouleperf.open_store(replay_store)
    runs = store.runs
    assert len(runs) == 1 and runs["kind"].item() == "replay"
    assert isinstance(runs["info"].item(), dict)
    requests = store.requests()
    assert len(requests) == 6
    assert requests["ok"].all()
    assert (requests["output_tokens"] == 4).all()
    assert (requests["end_s"] >= requests["send_s"]).all()
    assert len(store.requests(runs["run_id"].item())) == 6
    # The run's energy, attributed to its requests (black-box: their token timelines).
    assert (requests["energy_j"] > 0).all()
    assert requests["attribution"].str.startswith("black-box").all()
    info = runs["info"].item()["attribution"]
    assert abs(requests["energy_j"].sum() + info["unattributed_idle_j"] - info["total_j"]) <= 1e-9 * info["total_j"]


def test_the_estimate_equals_the_commands_json(jp_bin, sim_store):
    est = jouleperf.estimate(sim_store, workload="azure-conv-2023")
    cli = json.loads(run(jp_bin, "estimate", "--store", sim_store, "--workload", "azure-conv-2023", "--json"))
    assert est.json == cli
    frame = est.to_frame()
    assert list(frame["config"]) == ["eager", "vllm"]
    vllm = frame.set_index("config").loc["vllm"]
    assert vllm["energy_wh"] < frame.set_index("config").loc["eager", "energy_wh"]
    assert vllm["saving_pct"] > 0
    assert vllm["ideal_wh"] > 0
    assert est.baseline == "eager" and est.workload == "azure-conv-2023"
    assert est.config("vllm")["simulated"] is True
    bins = est.bins()
    assert set(bins["config"]) == {"eager", "vllm"} and (bins["energy_batch_j"] > 0).all()


def test_the_estimate_with_settings_equals_the_command_with_the_same_flags(jp_bin, sim_store):
    est = jouleperf.estimate(jouleperf.open_store(sim_store), workload="azure-code-2023", max_batch=4,
                             carbon_intensity_g_per_kwh=50, pue=1.2, input_edges="128,1024")
    cli = json.loads(run(jp_bin, "estimate", "--store", sim_store, "--workload", "azure-code-2023", "--max-batch", "4",
                         "--carbon-intensity", "50", "--pue", "1.2", "--input-edges", "128,1024", "--json"))
    assert est.json == cli
    assert "set by the user" in est.json["carbon"]["source"]


def test_the_estimate_of_a_real_trace_equals_the_command(jp_bin, sim_store):
    trace = os.path.join(os.environ.get("JP_SHARED_DATA_DIR", ""), "AzureLLMInferenceTrace_conv.csv")
    if not os.path.exists(trace):
        pytest.skip("../shared/data is not beside the repository")
    est = jouleperf.estimate(sim_store, trace=trace)
    cli = json.loads(run(jp_bin, "estimate", "--store", sim_store, "--trace", trace, "--json"))
    assert est.json == cli

"""Traces and the simulator as thin calls over the library."""

from . import _jouleperf
from ._frames import Document


def load_trace(path, format="auto", **options):
    """The requests of a trace (Azure 2023/2024, BurstGPT, Mooncake, or any CSV/JSONL with
    input_col/output_col) as a DataFrame: line (in the file), arrival_s (s from the first
    timed row; NaN without times), input_tokens, output_tokens. `attrs["summary"]` holds
    the loader's counts (rows, requests, skipped and excluded rows).

    options: input_col, output_col, time_col, time_unit (s|ms|us|ns), skip_bad,
    include_failed, where (list of "KEY=VALUE"), from_s, to_s.
    A malformed row raises ParseError naming file, line and reason (unless skip_bad).
    """
    import pandas as pd

    options = dict(options, format=format)
    cols = _jouleperf.trace_columns(str(path), options)
    summary = cols.pop("summary")
    frame = pd.DataFrame({k: cols[k] for k in ("line", "arrival_s", "input_tokens", "output_tokens")})
    frame.attrs["summary"] = summary
    return frame


class Simulation(Document):
    """A simulated run (`jouleperf simulate`): every figure is SIMULATED (header[0] says so).

    json        the simulator's result as `jouleperf simulate --json` prints it
    to_frame()  the summary table (quantity, value); table("latency"), table("timeline")
    """

    simulated = True

    def to_frame(self, name=None):
        return self.table(name or self.table_names[0])


def simulate(hardware, workload=None, trace=None, **options):
    """Simulates serving a workload on hardware you may not have (docs/simulator.md).

    hardware   a profile name (jouleperf.hardware.list())
    workload   an embedded workload, or trace= a trace file, or poisson_rps= a rate (req/s)
               with input_tokens= and output_tokens=; count= caps the requests
    options    stack (hf-eager | hf-compiled | vllm | llamacpp-cpu), stack_file, model,
               precision, tp, replicas, router, batching, max_batch, token_budget,
               no_chunked_prefill, memory_utilization, static_wait_s, beam, spec_tokens,
               spec_acceptance, draft, timeline_bins, seed, lengths, speed, profiles (JSON
               files of extra hardware), per_request; batch=B with input_tokens and
               output_tokens simulates one controlled batch instead.
    """
    options = dict(options, hardware=hardware)
    if workload is not None:
        options["workload"] = workload
    if trace is not None:
        options["trace"] = str(trace)
    return Simulation(_jouleperf.simulate_document(options))

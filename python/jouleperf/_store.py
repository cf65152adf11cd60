"""Reading results stores into pandas, and the workload estimate."""

from . import _jouleperf
from ._frames import Document, table_frame


def _records_frame(records, columns):
    import pandas as pd

    return pd.DataFrame.from_records(records, columns=columns)


class Store:
    """A results store (the SQLite file `jouleperf sweep` / `study` write), opened read-only.

    The report's tables are DataFrames with the columns `jouleperf report --output csv
    --table NAME` writes (units in the names: energy_per_batch_j, duration_s):
    `cells`, `estimates`, `replays`, `validations`, or any of `table_names` via
    `table(name)`. `configurations`, `runs` and `requests()` read the stored
    configurations, online runs and their requests.
    """

    def __init__(self, path):
        self._s = _jouleperf.Store(str(path))

    @property
    def path(self):
        return self._s.path

    @property
    def table_names(self):
        """The report's tables for this store (cells, estimates, replays, validations, ...)."""
        return self._s.table_names()

    def table(self, name):
        """The report table `name` as a DataFrame (InvalidArgumentError listing the names)."""
        return table_frame(self._s.table(name))

    @property
    def cells(self):
        """One row per measured (or skipped) cell: config, input/output tokens, batch,
        energy per batch (J) with its spread, duration (s), energy source, estimated..."""
        return self.table("cells")

    @property
    def estimates(self):
        """The stored workload estimates (Table 4: Wh, interval, FLOPs-ideal, saving)."""
        return self.table("estimates")

    @property
    def replays(self):
        """The stored online replays (energy, latency percentiles)."""
        return self.table("replays")

    @property
    def validations(self):
        """The stored validations (binned estimate against a full replay)."""
        return self.table("validations")

    @property
    def configurations(self):
        """One row per configuration: config, engine, model, weight_type, strategy,
        batching, threads, baseline, settings (a dict)."""
        return _records_frame(self._s.configs(), ["config", "engine", "model", "weight_type", "strategy",
                                                  "batching", "threads", "baseline", "settings"])

    @property
    def runs(self):
        """One row per stored online run: run_id, kind, engine, target, model,
        started_unix_s (s since the epoch), info (a dict: settings, phases, energy)."""
        import json

        records = self._s.runs()
        for r in records:
            r["info"] = json.loads(r.pop("info_json"))
        return _records_frame(records, ["run_id", "kind", "engine", "target", "model", "started_unix_s", "info"])

    def requests(self, run_id=None):
        """The requests of run `run_id` (every run's when None): times in s from the run's
        origin (scheduled_s, send_s, end_s, ttft_s; token_s lists every token's arrival),
        token counts asked and received, ok, error, http_status, and the run's energy
        attributed to each (energy_j = prefill_j + decode_j + idle_j, above_idle_j; NaN
        where the run was not attributed) with how (attribution; docs/serving.md)."""
        columns = ["run_id", "index", "phase", "scheduled_s", "send_s", "lateness_s", "end_s", "ttft_s",
                   "input_tokens_asked", "output_tokens_asked", "output_tokens", "usage_prompt_tokens",
                   "usage_completion_tokens", "token_s", "ok", "error", "http_status", "finish_reason", "mismatch",
                   "energy_j", "prefill_j", "decode_j", "idle_j", "above_idle_j", "attribution"]
        return _records_frame(self._s.requests(run_id or ""), columns)

    def __repr__(self):
        return f"<jouleperf.Store {self.path}: {len(self._s.configs())} configurations>"


def open_store(path):
    """Opens the results store at `path` read-only (NotFoundError when there is none;
    ParseError for a file that is not a jouleperf store)."""
    return Store(path)


class Estimate(Document):
    """A workload's energy on each configuration of a store (`jouleperf estimate`).

    json          the estimate exactly as `jouleperf estimate --json` prints it
    to_frame()    one row per configuration: energy_wh with energy_lo_wh/energy_hi_wh
                  (the interval), ideal_wh (the FLOPs-ideal baseline), above_ideal_pct,
                  saving_pct against the baseline with its interval, per request (J) and
                  per output token (mJ), corrected_wh (real lengths), gco2e
    config(name)  that configuration's whole entry (bins, sources, interval parts)
    bins()        one row per configuration and bin: requests N, batch B, E_batch (J)
    refused       (config, why) for configurations that could not be estimated
    """

    def __init__(self, doc):
        super().__init__(doc)
        self.refused = [tuple(r) for r in doc["refused"]]

    @property
    def workload(self):
        return self.json.get("workload")

    @property
    def baseline(self):
        return self.json.get("baseline")

    def to_frame(self, name="estimates"):
        return self.table(name)

    def config(self, name):
        for c in self.json["configs"]:
            if c["config"] == name:
                return c
        raise KeyError(f"no configuration {name!r} in the estimate "
                       f"({', '.join(c['config'] for c in self.json['configs'])})")

    def bins(self):
        import pandas as pd

        rows = []
        for c in self.json["configs"]:
            for b in c["bins"]:
                row = {"config": c["config"]}
                row.update({k: v for k, v in b.items() if k != "from_cells"})
                rows.append(row)
        return pd.DataFrame(rows)


def estimate(store, workload=None, trace=None, **options):
    """The energy of a workload on every configuration of `store` (a path or a Store):
    Σ N/B · E_batch over the workload's bins, its interval, the FLOPs-ideal baseline and
    the savings against the baseline configuration — what `jouleperf estimate` computes.

    workload  an embedded workload ("azure-conv-2023", "azure-code-2023"), or
    trace     a trace file (.csv / .jsonl, optionally .gz)
    options   the command's settings by their names: trace_format, input_col,
              output_col, skip_bad, include_failed, where (list of "KEY=VALUE"),
              input_edges, output_edges, out_of_range, scale_input, scale_output,
              hardware, hardware_file, precision, tdp_w, peak_flops, arch, baseline,
              max_batch, missing, composition, carbon_intensity_g_per_kwh, pue.
    Returns an Estimate; raises jouleperf.Error subclasses as the command fails.
    """
    path = store.path if isinstance(store, Store) else str(store)
    options = dict(options)
    if workload is not None:
        options["workload"] = workload
    if trace is not None:
        options["trace"] = str(trace)
    return Estimate(_jouleperf.estimate_document(path, options))

// Results stores in Python: a store opened read-only, its report tables (the rows `jouleperf
// report --output csv --table NAME` writes), its configurations, runs and requests, and the
// workload estimate (`jouleperf estimate`) as one Document.
#include "jouleperf/study/store.hpp"

#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.hpp"
#include "errors.hpp"
#include "jouleperf/report/documents.hpp"
#include "jouleperf/report/report_data.hpp"
#include "jouleperf/report/tables.hpp"
#include "jouleperf/study/store_estimate.hpp"
#include "options.hpp"
#include "tables.hpp"

namespace jouleperf::py {
namespace {

namespace pb = pybind11;

template <class T>
pb::object optional_value(const std::optional<T>& v) {
  return v ? pb::cast(*v) : pb::none();
}

study::Store open_read_only(const std::string& path) {
  Result<study::Store> store = make_error(Errc::kInternal, "store: not opened");
  {
    pb::gil_scoped_release release;
    store = study::Store::open(path, study::StoreMode::kReadOnly);
  }
  return value_or_raise(std::move(store));
}

pb::dict config_dict(const study::Config& c) {
  pb::dict out, settings;
  out["config"] = c.name;
  out["engine"] = c.engine;
  out["model"] = c.model;
  out["weight_type"] = c.weight_type;
  out["strategy"] = c.strategy;
  out["batching"] = c.batching;
  out["threads"] = c.threads;
  out["baseline"] = c.baseline;
  for (const auto& [k, v] : c.settings) settings[pb::str(k)] = v;
  out["settings"] = settings;
  return out;
}

pb::dict run_dict(const study::RunRecord& r) {
  pb::dict out;
  out["run_id"] = r.run_id;
  out["kind"] = r.kind;
  out["engine"] = r.engine;
  out["target"] = r.target;
  out["model"] = r.model;
  out["started_unix_s"] = r.started_unix_s;
  out["info_json"] = r.info.dump();
  return out;
}

pb::dict request_dict(const std::string& run_id, const study::RequestRecord& q) {
  pb::dict out;
  out["run_id"] = run_id;
  out["index"] = q.index;
  out["phase"] = q.phase;
  out["scheduled_s"] = q.scheduled_s;
  out["send_s"] = q.send_s;
  out["lateness_s"] = q.lateness_s;
  out["end_s"] = q.end_s;
  out["ttft_s"] = optional_value(q.ttft_s);
  out["input_tokens_asked"] = q.input_tokens_asked;
  out["output_tokens_asked"] = q.output_tokens_asked;
  out["output_tokens"] = q.output_tokens;
  out["usage_prompt_tokens"] = optional_value(q.usage_prompt_tokens);
  out["usage_completion_tokens"] = optional_value(q.usage_completion_tokens);
  out["token_s"] = q.token_s;
  out["ok"] = q.ok;
  out["error"] = q.error;
  out["http_status"] = q.http_status;
  out["finish_reason"] = q.finish_reason;
  out["mismatch"] = q.mismatch;
  out["energy_j"] = optional_value(q.energy_j);
  out["prefill_j"] = optional_value(q.prefill_j);
  out["decode_j"] = optional_value(q.decode_j);
  out["idle_j"] = optional_value(q.idle_j);
  out["above_idle_j"] = optional_value(q.above_idle_j);
  out["attribution"] = q.attribution;
  return out;
}

// A store opened read-only, with what the report reads from it loaded once.
class PyStore {
 public:
  explicit PyStore(const std::string& path) : store_(open_read_only(path)) {
    Result<report::ReportData> data = make_error(Errc::kInternal, "store: not read");
    {
      pb::gil_scoped_release release;
      data = report::load_report_data(store_);
    }
    data_ = value_or_raise(std::move(data));
  }

  std::string path() const { return store_.path(); }

  std::vector<std::string> table_names() const {
    std::vector<std::string> out;
    for (const auto& t : value_or_raise(report::report_tables(data_))) out.push_back(t.name);
    return out;
  }

  // The report's table `name`, exactly the rows `report --output csv --table NAME` writes.
  pb::dict table(const std::string& name) const {
    if (name.empty()) raise(make_error(Errc::kInvalidArgument, "store: a table needs a name"));
    auto doc = value_or_raise(report::report_document(data_, name));
    if (doc.tables.size() != 1) raise(make_error(Errc::kInternal, "store: table '" + name + "' is not one table"));
    return table_dict(doc.tables.front());
  }

  pb::list configs() const {
    pb::list out;
    for (const auto& c : data_.configs) out.append(config_dict(c));
    return out;
  }

  pb::list runs() const {
    pb::list out;
    for (const auto& r : value_or_raise(store_.runs())) out.append(run_dict(r));
    return out;
  }

  // The requests of run `run_id`, or of every run when it is empty.
  pb::list requests(const std::string& run_id) const {
    pb::list out;
    std::vector<std::string> ids;
    if (!run_id.empty())
      ids.push_back(run_id);
    else
      for (const auto& r : value_or_raise(store_.runs())) ids.push_back(r.run_id);
    for (const auto& id : ids)
      for (const auto& q : value_or_raise(store_.requests(id))) out.append(request_dict(id, q));
    return out;
  }

 private:
  study::Store store_;
  report::ReportData data_;
};

estimate::WorkloadRunOptions estimate_options(const pb::dict& kwargs) {
  estimate::WorkloadRunOptions o;
  Options opt(kwargs, "estimate");
  opt.get("trace", o.trace).get("workload", o.workload).get("trace_format", o.trace_format);
  opt.get("input_col", o.input_col).get("output_col", o.output_col).get("skip_bad", o.skip_bad);
  opt.get("include_failed", o.include_failed).get("where", o.where);
  opt.get("input_edges", o.input_edges).get("output_edges", o.output_edges).get("out_of_range", o.out_of_range);
  opt.get("scale_input", o.scale_input).get("scale_output", o.scale_output);
  opt.get("hardware", o.device.hardware).get("precision", o.device.precision).get("tdp_w", o.device.tdp_w);
  opt.get("peak_flops", o.device.peak_flops).get("hardware_file", o.hardware_file).get("arch", o.arch);
  opt.get("baseline", o.baseline).get("max_batch", o.max_batch).get("missing", o.missing);
  opt.get("composition", o.composition);
  opt.get("carbon_intensity_g_per_kwh", o.carbon.intensity_g_per_kwh).get("pue", o.carbon.pue);
  estimate::describe_carbon_source(o.carbon, opt.given("carbon_intensity_g_per_kwh"), opt.given("pue"));
  opt.finish();
  return o;
}

// `jouleperf estimate --store PATH ...` as a Document (its JSON is `estimate --json`).
pb::dict estimate_document(const std::string& path, const pb::dict& kwargs) {
  const auto options = estimate_options(kwargs);
  ok_or_raise(estimate::check_workload_run(options));
  const study::Store store = open_read_only(path);  // kNotFound when there is none; never creates one
  Result<estimate::WorkloadEstimate> r = make_error(Errc::kInternal, "estimate: not run");
  {
    pb::gil_scoped_release release;
    r = study::estimate_store(store, options);
  }
  const auto w = value_or_raise(std::move(r));
  if (w.configs.empty()) {  // as `jouleperf estimate` fails: nothing could be estimated
    std::string why;
    for (const auto& x : w.refused) why += "; " + x.config + ": " + x.message;
    raise(make_error(Errc::kNotFound, "estimate: no configuration could be estimated" + why));
  }
  pb::dict out = document_dict(estimate::workload_estimate_document(w));
  pb::list refused;
  for (const auto& x : w.refused) refused.append(pb::make_tuple(x.config, x.message));
  out["refused"] = refused;
  return out;
}

}  // namespace

void register_store(pb::module_& m) {
  pb::class_<PyStore>(m, "Store", "A results store opened read-only; use jouleperf.open_store (docs/python.md).")
      .def(pb::init<const std::string&>(), pb::arg("path"))
      .def_property_readonly("path", &PyStore::path)
      .def("table_names", &PyStore::table_names)
      .def("table", &PyStore::table, pb::arg("name"))
      .def("configs", &PyStore::configs)
      .def("runs", &PyStore::runs)
      .def("requests", &PyStore::requests, pb::arg("run_id") = "");
  m.def("estimate_document", &estimate_document, pb::arg("store"), pb::arg("options"));
}

}  // namespace jouleperf::py

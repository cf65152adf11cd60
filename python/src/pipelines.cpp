// The library's pipelines as thin calls: a trace's requests (workload/loader.hpp), a
// simulated deployment (sim/inputs.hpp, sim/simulator.hpp) and the hardware profiles
// (hardware/documents.hpp). Each returns plain values or a Document; the pure-Python
// package makes DataFrames of them.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "errors.hpp"
#include "jouleperf/hardware/documents.hpp"
#include "jouleperf/sim/documents.hpp"
#include "jouleperf/sim/inputs.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/trace_documents.hpp"
#include "options.hpp"
#include "tables.hpp"

namespace jouleperf::py {
namespace {

namespace pb = pybind11;

template <class T>
pb::array_t<T> to_array(const std::vector<T>& v) {
  pb::array_t<T> out(static_cast<pb::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// Columns of a trace's requests: line, arrival_s (NaN without times), input_tokens,
// output_tokens; and the loader's summary.
pb::dict trace_columns(const std::string& path, const pb::dict& kwargs) {
  workload::TraceReadOptions read;
  Options opt(kwargs, "load_trace");
  opt.get("format", read.format).get("input_col", read.input_col).get("output_col", read.output_col);
  opt.get("time_col", read.time_col).get("time_unit", read.time_unit).get("skip_bad", read.skip_bad);
  opt.get("include_failed", read.include_failed).get("where", read.where).get("from_s", read.from_s);
  opt.get("to_s", read.to_s);
  opt.finish();
  const auto load = value_or_raise(workload::to_load_options(read));
  std::vector<std::uint64_t> line, input, output;
  std::vector<double> arrival;
  Result<workload::LoadSummary> summary = make_error(Errc::kInternal, "load_trace: not read");
  {
    pb::gil_scoped_release release;
    summary = workload::load_trace(path, load, [&](const workload::Request& r) {
      line.push_back(r.line);
      arrival.push_back(r.arrival_s ? *r.arrival_s : std::nan(""));
      input.push_back(r.input_tokens);
      output.push_back(r.output_tokens);
    });
  }
  const auto s = value_or_raise(std::move(summary));
  pb::dict info;
  info["source"] = s.source;
  info["format"] = std::string(workload::trace_format_name(s.format));
  info["has_arrivals"] = s.has_arrivals;
  info["rows"] = s.rows;
  info["requests"] = s.requests;
  info["failed_excluded"] = s.failed_excluded;
  info["zero_token_excluded"] = s.zero_token_excluded;
  info["skipped_bad"] = s.skipped_bad;
  info["filtered_out"] = s.filtered_out;
  pb::dict out;
  out["line"] = to_array(line);
  out["arrival_s"] = to_array(arrival);
  out["input_tokens"] = to_array(input);
  out["output_tokens"] = to_array(output);
  out["summary"] = info;
  return out;
}

void deployment_options(Options& opt, sim::DeploymentOptions& d) {
  opt.get("hardware", d.hardware).get("profiles", d.profiles).get("stack", d.stack);
  opt.get("stack_file", d.stack_file).get("model", d.model).get("precision", d.precision).get("tp", d.tp);
  opt.get("replicas", d.replicas).get("router", d.router).get("batching", d.batching);
  opt.get("max_batch", d.max_batch).get("token_budget", d.token_budget);
  opt.get("no_chunked_prefill", d.no_chunked_prefill).get("memory_utilization", d.memory_utilization);
  opt.get("static_wait_s", d.static_wait_s).get("beam", d.beam).get("spec_tokens", d.spec_tokens);
  opt.get("spec_acceptance", d.spec_acceptance).get("draft", d.draft).get("timeline_bins", d.timeline_bins);
}

void workload_options(Options& opt, sim::WorkloadSource& w) {
  opt.get("trace", w.trace).get("workload", w.workload).get("poisson_rps", w.poisson_rps);
  opt.get("count", w.count).get("seed", w.seed).get("lengths", w.lengths).get("input_tokens", w.input);
  opt.get("output_tokens", w.output).get("speed", w.speed);
}

// `jouleperf simulate` as a Document: a whole workload, or one controlled batch (`batch`
// > 0 with input_tokens and output_tokens). Every figure is SIMULATED (the header says so).
pb::dict simulate_document(const pb::dict& kwargs) {
  sim::DeploymentOptions d;
  sim::WorkloadSource w;
  bool per_request = false;
  std::uint32_t batch = 0;
  Options opt(kwargs, "simulate");
  deployment_options(opt, d);
  workload_options(opt, w);
  opt.get("per_request", per_request).get("batch", batch);
  opt.finish();
  if (d.hardware.empty()) raise(make_error(Errc::kInvalidArgument, "simulate: hardware= is required"));
  const auto registry = value_or_raise(sim::load_registry(d.profiles));
  auto config = value_or_raise(sim::to_sim_config(d, registry));
  config.keep_requests = per_request;
  if (batch > 0) {
    if (w.input == 0 || w.output == 0)
      raise(make_error(Errc::kInvalidArgument, "simulate: batch= needs input_tokens= and output_tokens="));
    Result<sim::BatchRun> b = make_error(Errc::kInternal, "simulate: not run");
    {
      pb::gil_scoped_release release;
      b = sim::simulate_batch(config, w.input, w.output, batch);
    }
    return document_dict(
        sim::batch_document(value_or_raise(std::move(b)), config, batch, w.input, w.output, per_request));
  }
  std::string described;
  auto requests = value_or_raise(sim::load_workload(w, described));
  Result<sim::SimResult> r = make_error(Errc::kInternal, "simulate: not run");
  {
    pb::gil_scoped_release release;
    r = sim::simulate(config, requests);
  }
  return document_dict(sim::simulate_document(value_or_raise(std::move(r)), config, described, per_request));
}

hardware::HardwareRegistry registry_with(const std::vector<std::string>& files) {
  hardware::HardwareRegistry r;
  for (const auto& f : files) ok_or_raise(r.load_file(f));
  return r;
}

}  // namespace

void register_pipelines(pb::module_& m) {
  m.def("trace_columns", &trace_columns, pb::arg("path"), pb::arg("options"));
  m.def("simulate_document", &simulate_document, pb::arg("options"));
  m.def(
      "hardware_list_document",
      [](const std::vector<std::string>& files) {
        return document_dict(hardware::list_document(registry_with(files)));
      },
      pb::arg("files"));
  m.def(
      "hardware_show_document",
      [](const std::string& name, const std::vector<std::string>& files) {
        return document_dict(hardware::show_document(value_or_raise(registry_with(files).find(name))));
      },
      pb::arg("name"), pb::arg("files"));
}

}  // namespace jouleperf::py

#include "jouleperf/estimate/workload_run.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "jouleperf/estimate/batch_composition.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/synthetic.hpp"

namespace jouleperf::estimate {
namespace {

// The workload's per-request lengths and a description of where they come from.
struct Lengths {
  RequestLengths lengths;
  std::string name, trace, source;
};

Lengths embedded_lengths(const workload::DefaultWorkload& w, const std::string& name) {
  Lengths out;
  out.lengths = lengths_from_default(w);
  out.name = name;
  out.trace = "embedded:" + name;
  out.source = "embedded quantile tables of " + name +
               " spread within each bin (input and output independent); the trace's own per-request lengths are not "
               "embedded";
  return out;
}

Result<workload::LoadOptions> load_options(const WorkloadRunOptions& o) {
  workload::LoadOptions lo;
  auto format = workload::parse_trace_format(o.trace_format);
  if (!format) return format.error();
  lo.format = *format;
  lo.input_col = o.input_col;
  lo.output_col = o.output_col;
  lo.skip_bad = o.skip_bad;
  lo.include_failed = o.include_failed;
  for (const auto& w : o.where) {
    auto tf = workload::parse_tag_filter(w);
    if (!tf) return tf.error();
    lo.where.push_back(*tf);
  }
  return lo;
}

// "trace.csv.gz" -> "trace".
std::string trace_stem(const std::string& path) {
  namespace fs = std::filesystem;
  std::string stem = fs::path(path).stem().string();
  const auto ext = fs::path(stem).extension();
  if (ext == ".csv" || ext == ".jsonl") stem = fs::path(stem).stem().string();
  return stem;
}

Result<Lengths> load_lengths(const WorkloadRunOptions& o) {
  if (!o.workload.empty()) {
    auto w = workload::find_default_workload(o.workload);
    if (!w) return make_error(Errc::kInvalidArgument, w.error().message);
    return embedded_lengths(**w, o.workload);
  }
  auto lo = load_options(o);
  if (!lo) return lo.error();
  auto t = workload::load_timed_requests(o.trace, *lo);
  if (!t) return t.error();
  if (t->requests.empty())
    return make_error(Errc::kParse,
                      fmt::format("{}: no requests left to estimate ({} rows: {} failed, {} with zero tokens, {} "
                                  "filtered out, {} skipped as bad)",
                                  o.trace, t->load.rows, t->load.failed_excluded, t->load.zero_token_excluded,
                                  t->load.filtered_out, t->load.skipped_bad));
  Lengths out;
  for (const auto& r : t->requests) {
    out.lengths.inputs.push_back(r.input_tokens);
    out.lengths.outputs.push_back(r.output_tokens);
  }
  out.name = trace_stem(o.trace);
  out.trace = o.trace;
  out.source = "trace " + o.trace;
  if (t->load.zero_token_excluded > 0)
    out.source += fmt::format(" ({} requests with zero input or output tokens excluded)", t->load.zero_token_excluded);
  return out;
}

// Edges from a setting, else the lengths measured in the cells.
Result<std::vector<std::uint64_t>> edges(const std::string& spec_text, const std::set<std::uint64_t>& measured,
                                         const char* what) {
  if (spec_text.empty()) {
    if (measured.empty()) return make_error(Errc::kNotFound, "the store holds no measured cell");
    return std::vector<std::uint64_t>(measured.begin(), measured.end());
  }
  auto spec = workload::parse_edge_spec(spec_text);
  if (!spec) return spec.error();
  if (spec->kind == workload::EdgeSpec::Kind::kQuantiles)
    return make_error(Errc::kInvalidArgument, std::string("--") + what + "-edges: quantiles are not supported here");
  return workload::resolve_edges(*spec, {});
}

Result<WorkloadBins> binned(const WorkloadRunOptions& o, std::span<const study::CellResult> cells, Lengths& lengths) {
  std::set<std::uint64_t> in_measured, out_measured;
  for (const auto& c : cells) {
    if (c.status != study::CellStatus::kDone) continue;
    in_measured.insert(c.key.input_tokens);
    out_measured.insert(c.key.output_tokens);
  }
  auto in_edges = edges(o.input_edges, in_measured, "input");
  if (!in_edges) return in_edges.error();
  auto out_edges = edges(o.output_edges, out_measured, "output");
  if (!out_edges) return out_edges.error();
  auto loaded = load_lengths(o);
  if (!loaded) return loaded.error();
  lengths = std::move(*loaded);
  if (auto st = scale_lengths(lengths.lengths, LengthScale{o.scale_input, o.scale_output}); !st) return st.error();
  workload::BinningOptions bo;
  bo.input_edges = *in_edges;
  bo.output_edges = *out_edges;
  bo.policy = *workload::parse_out_of_range(o.out_of_range);
  return bin_lengths(lengths.lengths, bo, lengths.name, lengths.trace);
}

// The architecture of a configuration: `arch`, else its model (a built-in name or a GGUF).
Result<ModelInfo> model_of(const study::Config& c, const std::string& arch) {
  const std::string name = arch.empty() ? c.model : arch;
  if (name.empty()) return make_error(Errc::kNotFound, "no model named (give --arch)");
  auto a = find_builtin_arch(name);
  if (a) return info_from_arch(*a);
  auto info = read_gguf_info(name);
  if (!info)
    return make_error(info.error().code,
                      "model '" + name + "': not a built-in architecture, and as a GGUF file: " + info.error().message);
  return info;
}

// Names given by the user must resolve; a config's own model or hardware that does not
// only leaves that config without an ideal baseline (said in its note).
Status check_named(const WorkloadRunOptions& o, const hardware::HardwareRegistry& registry) {
  if (!o.device.hardware.empty())
    if (auto p = registry.find(o.device.hardware); !p) return make_error(Errc::kInvalidArgument, p.error().message);
  if (!o.device.precision.empty())
    if (auto p = hardware::parse_precision(o.device.precision); !p) return p.error();
  if (!o.arch.empty())
    if (auto m = model_of(study::Config{}, o.arch); !m)
      return make_error(Errc::kInvalidArgument, "--arch: " + m.error().message);
  return {};
}

Result<std::vector<ConfigInputs>> config_inputs(const WorkloadRunOptions& o, std::span<const study::Config> configs) {
  hardware::HardwareRegistry registry;
  if (!o.hardware_file.empty())
    if (auto st = registry.load_file(o.hardware_file); !st) return st.error();
  if (auto st = check_named(o, registry); !st) return st.error();
  std::vector<ConfigInputs> inputs;
  for (const auto& c : configs) {
    ConfigInputs in;
    in.config = c;
    auto model = model_of(c, o.arch);
    auto device = flops_ideal_device(c, o.device, registry);
    if (!device && device.error().code == Errc::kInvalidArgument && (o.device.tdp_w > 0.0 || o.device.peak_flops > 0.0))
      return device.error();
    if (model) in.model = *model;
    if (device) in.device = *device;
    if (!model) in.ideal_note = model.error().message;
    if (!device) in.ideal_note += (in.ideal_note.empty() ? "" : "; ") + device.error().message;
    inputs.push_back(std::move(in));
  }
  return inputs;
}

}  // namespace

Status check_workload_run(const WorkloadRunOptions& o) {
  if (o.trace.empty() == o.workload.empty())
    return make_error(Errc::kInvalidArgument, "give --trace FILE or --workload NAME (one of them)");
  if (auto m = parse_missing_bins(o.missing); !m) return m.error();
  if (auto c = parse_batch_composition(o.composition); !c) return c.error();
  if (auto p = workload::parse_out_of_range(o.out_of_range); !p) return p.error();
  return validate(o.carbon);
}

Result<WorkloadEstimate> run_workload_estimate(const WorkloadRunOptions& o, std::span<const study::Config> configs,
                                               std::span<const study::CellResult> cells) {
  if (auto st = check_workload_run(o); !st) return st.error();
  if (configs.empty()) return make_error(Errc::kNotFound, "the store holds no configuration");
  Lengths lengths;
  auto bins = binned(o, cells, lengths);
  if (!bins) return bins.error();
  auto inputs = config_inputs(o, configs);
  if (!inputs) return inputs.error();
  EstimateOptions options;
  options.missing = *parse_missing_bins(o.missing);
  options.composition = *parse_batch_composition(o.composition);
  options.max_batch = o.max_batch;
  auto result = estimate_workload(*bins, &lengths.lengths, *inputs, cells, options, o.carbon, o.baseline);
  if (!result) return result.error();
  result->scale = LengthScale{o.scale_input, o.scale_output};
  result->lengths_source = lengths.source;
  return result;
}

}  // namespace jouleperf::estimate

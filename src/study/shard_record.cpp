#include "jouleperf/study/shard_record.hpp"

#include <fmt/format.h>

#include <utility>

namespace jouleperf::study {

namespace {

constexpr const char* kKind = "shard";

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (const unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Error bad(const std::string& field) {
  return make_error(Errc::kParse, fmt::format("shard record: field \"{}\" missing or of the wrong type", field));
}

}  // namespace

GridOutline grid_outline(const Study& study) {
  GridOutline g;
  g.input_tokens = study.input_tokens;
  g.output_tokens = study.output_tokens;
  // Read from the grid itself, so that a config's own "batches" is taken exactly as expand_grid takes it.
  for (const auto& cell : expand_grid(study)) {
    if (g.configs.empty() || g.configs.back().name != cell.key.config) g.configs.push_back({cell.key.config, {}});
    auto& b = g.configs.back().batch_sizes;
    if (cell.key.input_tokens == study.input_tokens.front() && cell.key.output_tokens == study.output_tokens.front())
      b.push_back(cell.key.batch);
  }
  return g;
}

std::vector<CellKey> outline_cells(const GridOutline& g) {
  std::vector<CellKey> out;
  for (const auto& c : g.configs)
    for (auto i : g.input_tokens)
      for (auto o : g.output_tokens)
        for (auto b : c.batch_sizes) out.push_back(CellKey{c.name, i, o, b});
  return out;
}

std::string study_fingerprint(const Study& s) {
  nlohmann::json j;
  nlohmann::json configs = nlohmann::json::array();
  for (const auto& c : s.configs) configs.push_back(c.key());
  j["configs"] = std::move(configs);
  j["input"] = s.input_tokens;
  j["output"] = s.output_tokens;
  j["batch"] = s.batch_sizes;
  j["warmup"] = {s.warmup.max_batches, s.warmup.budget_tokens,
                 s.warmup.fixed ? nlohmann::json(*s.warmup.fixed) : nlohmann::json()};
  j["repetitions"] = s.repetitions;
  j["idle_gap_s"] = s.idle_gap_s;
  j["seed"] = s.seed;
  j["order"] = std::string(run_order_name(s.order));
  j["until_ci_pct"] = s.until_ci_pct ? nlohmann::json(*s.until_ci_pct) : nlohmann::json();
  j["max_reps"] = s.max_reps;
  return fmt::format("{:016x}", fnv1a(0xcbf29ce484222325ULL, j.dump()));
}

ShardRecord begin_shard_record(const Study& study, Shard shard, std::uint64_t shard_cells, std::string host,
                               nlohmann::json scheduler, double now_unix_s) {
  ShardRecord r;
  r.study_name = study.name;
  r.study_hash = study_fingerprint(study);
  r.shard = shard;
  r.grid = grid_outline(study);
  r.cells = shard_cells;
  r.started_unix_s = now_unix_s;
  r.host = std::move(host);
  r.scheduler = scheduler.is_object() ? std::move(scheduler) : nlohmann::json::object();
  return r;
}

nlohmann::json to_json(const ShardRecord& r) {
  nlohmann::json configs = nlohmann::json::array();
  for (const auto& c : r.grid.configs) configs.push_back({{"name", c.name}, {"batch", c.batch_sizes}});
  return {{"study", r.study_name},
          {"study_hash", r.study_hash},
          {"shard", r.shard.index},
          {"shards", r.shard.count},
          {"grid", {{"configs", configs}, {"input", r.grid.input_tokens}, {"output", r.grid.output_tokens}}},
          {"cells", r.cells},
          {"finished", r.finished},
          {"failed_cells", r.failed_cells},
          {"started_unix_s", r.started_unix_s},
          {"ended_unix_s", r.ended_unix_s ? nlohmann::json(*r.ended_unix_s) : nlohmann::json()},
          {"host", r.host},
          {"scheduler", r.scheduler}};
}

Result<ShardRecord> shard_record_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(Errc::kParse, "shard record: expected a JSON object");
  ShardRecord r;
  try {
    r.study_name = j.at("study").get<std::string>();
    r.study_hash = j.at("study_hash").get<std::string>();
    r.shard.index = j.at("shard").get<std::uint32_t>();
    r.shard.count = j.at("shards").get<std::uint32_t>();
    const auto& g = j.at("grid");
    for (const auto& c : g.at("configs"))
      r.grid.configs.push_back({c.at("name").get<std::string>(), c.at("batch").get<std::vector<std::uint64_t>>()});
    r.grid.input_tokens = g.at("input").get<std::vector<std::uint64_t>>();
    r.grid.output_tokens = g.at("output").get<std::vector<std::uint64_t>>();
    r.cells = j.at("cells").get<std::uint64_t>();
    r.finished = j.at("finished").get<bool>();
    r.failed_cells = j.value("failed_cells", std::uint64_t{0});
    r.started_unix_s = j.at("started_unix_s").get<double>();
    if (j.contains("ended_unix_s") && !j["ended_unix_s"].is_null()) r.ended_unix_s = j["ended_unix_s"].get<double>();
    r.host = j.value("host", std::string());
    if (j.contains("scheduler") && j["scheduler"].is_object()) r.scheduler = j["scheduler"];
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::kParse, fmt::format("shard record: {}", e.what()));
  }
  if (r.shard.count == 0 || r.shard.index >= r.shard.count)
    return make_error(Errc::kParse,
                      fmt::format("shard record: shard {}/{} is not i/n with i < n", r.shard.index, r.shard.count));
  if (r.study_hash.empty()) return bad("study_hash");
  return r;
}

Artifact shard_artifact(const ShardRecord& r) {
  return Artifact{kKind, fmt::format("{}:{}/{}", r.study_hash, r.shard.index, r.shard.count), to_json(r),
                  r.ended_unix_s.value_or(r.started_unix_s)};
}

Result<std::vector<ShardRecord>> shard_records(const Store& store) {
  auto as = store.artifacts(kKind);
  if (!as) return as.error();
  std::vector<ShardRecord> out;
  for (const auto& a : *as) {
    auto r = shard_record_from_json(a.body);
    if (!r)
      return make_error(Errc::kParse,
                        fmt::format("{}: artifact shard/{}: {}", store.path(), a.name, r.error().message));
    out.push_back(std::move(*r));
  }
  return out;
}

const ShardRecord& newer_record(const ShardRecord& a, const ShardRecord& b) {
  if (a.finished != b.finished) return a.finished ? a : b;
  const double ta = a.ended_unix_s.value_or(a.started_unix_s);
  const double tb = b.ended_unix_s.value_or(b.started_unix_s);
  return tb > ta ? b : a;
}

}  // namespace jouleperf::study

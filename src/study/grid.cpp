// Study definitions: validation, the YAML study file, grid expansion and sharding.
#include "jouleperf/study/grid.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "jouleperf/core/safe_text.hpp"
#include "jouleperf/core/text.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/study/decoding_settings.hpp"

namespace jouleperf::study {

std::uint32_t warmup_batches(const WarmupPolicy& policy, const CellKey& cell) {
  if (policy.fixed) return *policy.fixed;
  const std::uint64_t per_batch = std::max<std::uint64_t>(1, cell.batch * (cell.input_tokens + cell.output_tokens));
  const std::uint64_t n = std::max<std::uint64_t>(1, policy.budget_tokens / per_batch);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(policy.max_batches, n));
}

namespace {

Status check_axis(const std::vector<std::uint64_t>& v, const char* what) {
  if (v.empty()) return make_error(Errc::kInvalidArgument, fmt::format("{}: at least one value is needed", what));
  for (auto x : v)
    if (x == 0) return make_error(Errc::kInvalidArgument, fmt::format("{}: values must be >= 1", what));
  std::set<std::uint64_t> seen(v.begin(), v.end());
  if (seen.size() != v.size())
    return make_error(Errc::kInvalidArgument, fmt::format("{}: a value is listed twice", what));
  return {};
}

}  // namespace

std::uint64_t default_max_cells() {
  constexpr std::uint64_t kBytesPerCell = 4096, kLow = 100'000, kHigh = 100'000'000;
  const long pages = sysconf(_SC_PHYS_PAGES), page_bytes = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_bytes <= 0) return 1'000'000;
  const std::uint64_t memory = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_bytes);
  return std::clamp<std::uint64_t>(memory / 4 / kBytesPerCell, kLow, kHigh);
}

namespace {

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}

// The batch sizes config `c` runs at: its own "batches" setting, else the study's.
std::size_t batch_count(const Study& study, const Config& c) {
  if (auto b = c.setting("batches"))
    if (auto list = parse_size_list(*b, "batches")) return list->size();
  return study.batch_sizes.size();
}

}  // namespace

std::uint64_t grid_cell_count(const Study& study) {
  const std::uint64_t io = saturating_mul(study.input_tokens.size(), study.output_tokens.size());
  std::uint64_t total = 0;
  for (const auto& c : study.configs) total = saturating_add(total, saturating_mul(io, batch_count(study, c)));
  return total;
}

Status check_grid_size(const Study& study, std::uint64_t max_cells) {
  const std::uint64_t n = grid_cell_count(study);
  if (n <= max_cells) return {};
  return make_error(Errc::kInvalidArgument,
                    fmt::format("the grid has {} cells ({} configs, {} inputs, {} outputs, {} batch sizes), more "
                                "than --max-cells {} (docs/study.md, Limits): split it into studies or shards",
                                n, study.configs.size(), study.input_tokens.size(), study.output_tokens.size(),
                                study.batch_sizes.size(), max_cells));
}

Status validate_study(Study& s, std::uint64_t max_cells) {
  if (s.configs.empty()) return make_error(Errc::kInvalidArgument, "configs: at least one configuration is needed");
  std::set<std::string> names;
  for (auto& c : s.configs) {
    if (c.name.empty()) return make_error(Errc::kInvalidArgument, "configs: every configuration needs a name");
    if (!names.insert(c.name).second)
      return make_error(Errc::kInvalidArgument, fmt::format("configs: the name \"{}\" is used twice", c.name));
    if (c.engine != "llamacpp" && c.engine != "sim" && c.engine != "openai")
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("config \"{}\": engine \"{}\": expected llamacpp, sim or openai", c.name, c.engine));
    if (c.engine == "llamacpp" && c.model.empty())
      return make_error(Errc::kInvalidArgument,
                        fmt::format("config \"{}\": engine llamacpp needs a model (GGUF path)", c.name));
    if (auto st = parse_strategy(c.strategy); !st)
      return make_error(Errc::kInvalidArgument, fmt::format("config \"{}\": strategy: {}", c.name, st.error().message));
    if (auto b = parse_batching(c.batching); !b)
      return make_error(Errc::kInvalidArgument, fmt::format("config \"{}\": batching: {}", c.name, b.error().message));
    if (c.threads < 0)
      return make_error(Errc::kInvalidArgument, fmt::format("config \"{}\": threads must be >= 0", c.name));
    c.canonicalize();
    for (std::size_t i = 1; i < c.settings.size(); ++i)
      if (c.settings[i].first == c.settings[i - 1].first)
        return make_error(Errc::kInvalidArgument,
                          fmt::format("config \"{}\": setting \"{}\" given twice", c.name, c.settings[i].first));
    if (auto b = c.setting("batches")) {
      auto list = parse_size_list(*b, fmt::format("config \"{}\": setting batches", c.name));
      if (!list) return list.error();
    }
    if (auto d = decoding_settings(c); !d)
      return make_error(d.error().code, fmt::format("config \"{}\": {}", c.name, d.error().message));
  }
  if (auto st = check_axis(s.input_tokens, "input lengths"); !st) return st;
  if (auto st = check_axis(s.output_tokens, "output lengths"); !st) return st;
  if (auto st = check_axis(s.batch_sizes, "batch sizes"); !st) return st;
  if (s.repetitions == 0) return make_error(Errc::kInvalidArgument, "repetitions must be >= 1");
  if (!(s.idle_gap_s >= 0.0)) return make_error(Errc::kInvalidArgument, "idle_gap_s must be >= 0");
  if (s.until_ci_pct) {
    if (!std::isfinite(*s.until_ci_pct) || !(*s.until_ci_pct > 0.0) || *s.until_ci_pct > 100.0)
      return make_error(Errc::kInvalidArgument, "until_ci_pct must be a percentage above 0 and at most 100");
    if (s.repetitions < 2)
      return make_error(Errc::kInvalidArgument, "until_ci_pct needs repetitions >= 2 (one value has no interval)");
    if (s.max_reps < s.repetitions)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("max_reps ({}) must be >= repetitions ({})", s.max_reps, s.repetitions));
  }
  if (s.warmup.max_batches > 1000) return make_error(Errc::kInvalidArgument, "warmup.max must be <= 1000");
  return check_grid_size(s, max_cells);
}

Result<std::vector<std::uint64_t>> parse_size_list(std::string_view text, std::string_view what) {
  std::vector<std::uint64_t> out;
  const std::string t(trim(text));
  if (t.empty()) return make_error(Errc::kInvalidArgument, fmt::format("{}: empty list", what));
  if (auto dots = t.find(".."); dots != std::string::npos) {
    auto lo = parse_u64(trim(t.substr(0, dots)));
    auto hi = parse_u64(trim(t.substr(dots + 2)));
    if (!lo || !hi || *lo == 0 || *hi < *lo)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("{}: \"{}\": expected FROM..TO with 1 <= FROM <= TO (powers of two)", what,
                                    printable_excerpt(t)));
    // Stop before doubling past 2^63 (the next doubling would wrap to 0 and never end).
    for (std::uint64_t v = *lo; v <= *hi; v *= 2) {
      out.push_back(v);
      if (v > std::numeric_limits<std::uint64_t>::max() / 2) break;
    }
    return out;
  }
  std::size_t start = 0;
  while (start <= t.size()) {
    const auto comma = t.find(',', start);
    const std::string item(trim(t.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    auto v = parse_u64(item);
    if (!v || *v == 0)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("{}: \"{}\" is not a number >= 1", what, printable_excerpt(item)));
    out.push_back(*v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// ---- the YAML study file ----

namespace {

// yaml-cpp keeps every pair of a mapping but looks keys up by the first one, so a key
// given twice would silently lose its second value. Walks every mapping and sequence.
Status check_duplicate_keys(const YAML::Node& n, const std::string& source, const std::string& where) {
  if (n.IsSequence()) {
    std::size_t i = 0;
    for (const auto& item : n) {
      if (auto st = check_duplicate_keys(item, source, fmt::format("{}[{}]", where, i++)); !st) return st;
    }
    return {};
  }
  if (!n.IsMap()) return {};
  std::map<std::string, int> first_line;
  for (const auto& kv : n) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("(complex key)");
    const std::string path = where.empty() ? key : where + "." + key;
    const int line = kv.first.Mark().is_null() ? 0 : kv.first.Mark().line + 1;
    if (auto [it, fresh] = first_line.emplace(key, line); !fresh)
      return make_error(Errc::kParse,
                        fmt::format("{}:{}: {}: key given twice (first at line {})", source, line, path, it->second));
    if (auto st = check_duplicate_keys(kv.second, source, path); !st) return st;
  }
  return {};
}

class YamlReader {
 public:
  explicit YamlReader(std::string source) : source_(std::move(source)) {}

  Error error(const YAML::Node& n, const std::string& field, const std::string& what) const {
    const auto m = n.Mark();
    if (m.is_null()) return make_error(Errc::kParse, fmt::format("{}: {}: {}", source_, field, what));
    return make_error(Errc::kParse, fmt::format("{}:{}: {}: {}", source_, m.line + 1, field, what));
  }

  Status keys(const YAML::Node& map, const std::string& where, const std::vector<std::string>& known) const {
    if (!map.IsMap()) return error(map, where, "expected a mapping");
    for (const auto& kv : map) {
      const auto k = kv.first.as<std::string>();
      if (std::find(known.begin(), known.end(), k) == known.end())
        return error(kv.first, where.empty() ? k : where + "." + k,
                     fmt::format("unknown key (expected one of: {})", fmt::join(known, ", ")));
    }
    return {};
  }

  Result<std::string> str(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return error(n, field, "expected a string");
    return n.Scalar();
  }

  Result<std::uint64_t> u64(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return error(n, field, "expected a whole number");
    auto v = parse_u64(n.Scalar());
    if (!v) return error(n, field, fmt::format("\"{}\" is not a whole number >= 0", printable_excerpt(n.Scalar())));
    return *v;
  }

  Result<double> num(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return error(n, field, "expected a number");
    auto v = parse_double(n.Scalar());
    if (!v) return error(n, field, fmt::format("\"{}\" is not a number", printable_excerpt(n.Scalar())));
    return *v;
  }

  Result<bool> boolean(const YAML::Node& n, const std::string& field) const {
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) return error(n, field, "expected true or false");
    return b;
  }

  // A list of sizes: [128, 512], "128,512" or "32..8192".
  Result<std::vector<std::uint64_t>> sizes(const YAML::Node& n, const std::string& field) const {
    if (n.IsScalar()) {
      auto v = parse_size_list(n.Scalar(), field);
      if (!v) return error(n, field, v.error().message);
      return v;
    }
    if (!n.IsSequence()) return error(n, field, "expected a list of numbers, \"a,b,c\" or \"FROM..TO\"");
    std::vector<std::uint64_t> out;
    for (const auto& item : n) {
      auto v = u64(item, field);
      if (!v) return v.error();
      if (*v == 0) return error(item, field, "values must be >= 1");
      out.push_back(*v);
    }
    if (out.empty()) return error(n, field, "at least one value is needed");
    return out;
  }

  Result<Config> config(const YAML::Node& n, std::size_t index) const {
    const std::string where = fmt::format("configs[{}]", index);
    if (auto st =
            keys(n, where,
                 {"name", "engine", "model", "weight_type", "strategy", "batching", "threads", "baseline", "settings"});
        !st)
      return st.error();
    Config c;
    for (const char* f : {"name", "engine", "model", "weight_type", "strategy", "batching"}) {
      if (!n[f]) continue;
      auto v = str(n[f], where + "." + f);
      if (!v) return v.error();
      std::string& dst = std::string_view(f) == "name"          ? c.name
                         : std::string_view(f) == "engine"      ? c.engine
                         : std::string_view(f) == "model"       ? c.model
                         : std::string_view(f) == "weight_type" ? c.weight_type
                         : std::string_view(f) == "strategy"    ? c.strategy
                                                                : c.batching;
      dst = *v;
    }
    if (c.name.empty()) return error(n, where + ".name", "every configuration needs a name");
    if (n["threads"]) {
      auto v = u64(n["threads"], where + ".threads");
      if (!v) return v.error();
      c.threads = static_cast<int>(std::min<std::uint64_t>(*v, 1u << 20));
    }
    if (n["baseline"]) {
      auto v = boolean(n["baseline"], where + ".baseline");
      if (!v) return v.error();
      c.baseline = *v;
    }
    if (const auto s = n["settings"]) {
      if (!s.IsMap()) return error(s, where + ".settings", "expected a mapping of names to values");
      for (const auto& kv : s) {
        const auto k = kv.first.as<std::string>();
        auto v = str(kv.second, where + ".settings." + k);
        if (!v) return v.error();
        if (auto st = check_decoding_setting(k, *v); !st)
          return error(kv.second, where + ".settings." + k, st.error().message);
        c.settings.emplace_back(k, *v);
      }
    }
    // Decoding settings against the strategy and engine (speculative needs a draft, ...).
    if (auto d = decoding_settings(c); !d) {
      const YAML::Node at = n["settings"] ? n["settings"] : (n["strategy"] ? n["strategy"] : n);
      return error(at, where, d.error().message);
    }
    return c;
  }

  Result<Study> study(const YAML::Node& root, const std::vector<std::string>& other_sections) const {
    std::vector<std::string> known = {"name",         "configs",     "inputs",      "outputs", "batches",
                                      "warmup",       "repetitions", "idle_gap_s",  "seed",    "order",
                                      "until_ci_pct", "max_reps",    "measurements"};
    known.insert(known.end(), other_sections.begin(), other_sections.end());
    if (!root.IsMap()) return error(root, "study", "expected a mapping at the top level");
    if (auto st = keys(root, "", known); !st) return st.error();
    Study s;
    if (root["name"]) {
      auto v = str(root["name"], "name");
      if (!v) return v.error();
      s.name = *v;
    }
    const auto configs = root["configs"];
    if (!configs) return error(root, "configs", "missing (a list of configurations)");
    if (!configs.IsSequence() || configs.size() == 0)
      return error(configs, "configs", "expected a non-empty list of configurations");
    std::size_t i = 0;
    std::set<std::string> names;
    for (const auto& cn : configs) {
      auto c = config(cn, i);
      if (!c) return c.error();
      if (!names.insert(c->name).second)
        return error(cn["name"], fmt::format("configs[{}].name", i), fmt::format("\"{}\" is used twice", c->name));
      s.configs.push_back(std::move(*c));
      ++i;
    }
    struct Axis {
      const char* key;
      std::vector<std::uint64_t>* out;
    };
    for (const Axis& a :
         {Axis{"inputs", &s.input_tokens}, Axis{"outputs", &s.output_tokens}, Axis{"batches", &s.batch_sizes}}) {
      if (!root[a.key]) return error(root, a.key, "missing (a list of sizes)");
      auto v = sizes(root[a.key], a.key);
      if (!v) return v.error();
      *a.out = std::move(*v);
    }
    if (const auto w = root["warmup"]) {
      if (w.IsScalar()) {
        auto v = u64(w, "warmup");
        if (!v) return v.error();
        s.warmup.fixed = static_cast<std::uint32_t>(std::min<std::uint64_t>(*v, 1000));
      } else {
        if (auto st = keys(w, "warmup", {"max", "budget_tokens", "batches"}); !st) return st.error();
        if (w["max"]) {
          auto v = u64(w["max"], "warmup.max");
          if (!v) return v.error();
          if (*v > 1000) return error(w["max"], "warmup.max", "must be <= 1000");
          s.warmup.max_batches = static_cast<std::uint32_t>(*v);
        }
        if (w["budget_tokens"]) {
          auto v = u64(w["budget_tokens"], "warmup.budget_tokens");
          if (!v) return v.error();
          s.warmup.budget_tokens = *v;
        }
        if (w["batches"]) {
          auto v = u64(w["batches"], "warmup.batches");
          if (!v) return v.error();
          if (*v > 1000) return error(w["batches"], "warmup.batches", "must be <= 1000");
          s.warmup.fixed = static_cast<std::uint32_t>(*v);
        }
      }
    }
    if (root["repetitions"]) {
      auto v = u64(root["repetitions"], "repetitions");
      if (!v) return v.error();
      if (*v == 0 || *v > 100000) return error(root["repetitions"], "repetitions", "must be between 1 and 100000");
      s.repetitions = static_cast<std::uint32_t>(*v);
    }
    if (root["idle_gap_s"]) {
      auto v = num(root["idle_gap_s"], "idle_gap_s");
      if (!v) return v.error();
      if (!(*v >= 0.0)) return error(root["idle_gap_s"], "idle_gap_s", "must be >= 0");
      s.idle_gap_s = *v;
    }
    if (root["seed"]) {
      auto v = u64(root["seed"], "seed");
      if (!v) return v.error();
      s.seed = *v;
    }
    if (root["order"]) {
      auto v = str(root["order"], "order");
      if (!v) return v.error();
      auto o = parse_run_order(*v);
      if (!o) return error(root["order"], "order", o.error().message);
      s.order = *o;
    }
    if (root["until_ci_pct"]) {
      auto v = num(root["until_ci_pct"], "until_ci_pct");
      if (!v) return v.error();
      if (!std::isfinite(*v) || !(*v > 0.0) || *v > 100.0)
        return error(root["until_ci_pct"], "until_ci_pct", "must be a percentage above 0 and at most 100");
      s.until_ci_pct = *v;
    }
    if (root["max_reps"]) {
      auto v = u64(root["max_reps"], "max_reps");
      if (!v) return v.error();
      if (*v == 0 || *v > 100000) return error(root["max_reps"], "max_reps", "must be between 1 and 100000");
      s.max_reps = static_cast<std::uint32_t>(*v);
    }
    if (root["measurements"]) {
      auto v = str(root["measurements"], "measurements");
      if (!v) return v.error();
      if (v->empty()) return error(root["measurements"], "measurements", "must name a file");
      s.measurements = *v;
    }
    return s;
  }

 private:
  std::string source_;
};

}  // namespace

Result<Study> parse_study_yaml(const std::string& text, const std::string& source,
                               const std::vector<std::string>& other_sections, std::uint64_t max_cells) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return make_error(Errc::kParse, fmt::format("{}:{}: {}", source, e.mark.line + 1, e.msg));
  }
  Result<Study> s = make_error(Errc::kInternal, "unreachable");
  try {
    if (auto st = check_duplicate_keys(root, source, ""); !st) return st.error();
    s = YamlReader(source).study(root, other_sections);
  } catch (const YAML::Exception& e) {
    return make_error(Errc::kParse, fmt::format("{}:{}: {}", source, e.mark.line + 1, e.msg));
  }
  if (!s) return s;
  if (auto st = validate_study(*s, max_cells); !st)
    return make_error(st.error().code, fmt::format("{}: {}", source, st.error().message));
  return s;
}

// A config's setting "prompts" (a file of prompts) is relative to the study file: made
// so here, so the sweep reads the same file from any working directory.
static void resolve_prompts_paths(Study& study, const std::string& study_path) {
  const auto dir = std::filesystem::path(study_path).parent_path();
  for (auto& c : study.configs)
    for (auto& [k, v] : c.settings)
      if (k == "prompts" && !v.empty() && std::filesystem::path(v).is_relative())
        v = (dir / v).lexically_normal().string();
}

Result<Study> load_study_file(const std::string& path, const std::vector<std::string>& other_sections,
                              std::uint64_t max_cells) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  auto study = parse_study_yaml(*text, path, other_sections, max_cells);
  if (study) {
    resolve_prompts_paths(*study, path);
    if (!study->measurements.empty() && std::filesystem::path(study->measurements).is_relative())
      study->measurements =
          (std::filesystem::path(path).parent_path() / study->measurements).lexically_normal().string();
  }
  return study;
}

std::string_view run_order_name(RunOrder o) { return o == RunOrder::kRepMajor ? "rep-major" : "cell-major"; }

Result<RunOrder> parse_run_order(std::string_view text) {
  if (text == "rep-major") return RunOrder::kRepMajor;
  if (text == "cell-major") return RunOrder::kCellMajor;
  return make_error(Errc::kInvalidArgument,
                    fmt::format("run order \"{}\": expected rep-major or cell-major", std::string(text)));
}

// ---- grid and shards ----

std::vector<GridCell> expand_grid(const Study& study) {
  std::vector<GridCell> out;
  for (std::size_t c = 0; c < study.configs.size(); ++c) {
    // A config's own batch sizes (setting "batches") replace the study's.
    std::vector<std::uint64_t> batches = study.batch_sizes;
    if (auto b = study.configs[c].setting("batches")) {
      if (auto list = parse_size_list(*b, "batches")) batches = *list;
    }
    for (auto i : study.input_tokens)
      for (auto o : study.output_tokens)
        for (auto b : batches) {
          GridCell cell;
          cell.key = CellKey{study.configs[c].name, i, o, b};
          cell.config_index = c;
          cell.position = out.size();
          out.push_back(std::move(cell));
        }
  }
  return out;
}

Result<Shard> parse_shard(std::string_view text) {
  const std::string t(trim(text));
  const auto slash = t.find('/');
  auto bad = [&] {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("shard \"{}\": expected i/n with 0 <= i < n, e.g. 0/4 ... 3/4", t));
  };
  if (slash == std::string::npos) return bad();
  auto i = parse_u64(t.substr(0, slash));
  auto n = parse_u64(t.substr(slash + 1));
  if (!i || !n || *n == 0 || *i >= *n || *n > 1'000'000) return bad();
  return Shard{static_cast<std::uint32_t>(*i), static_cast<std::uint32_t>(*n)};
}

std::vector<GridCell> select_shard(const std::vector<GridCell>& cells, Shard shard) {
  std::vector<GridCell> out;
  if (shard.count == 0) return out;
  for (const auto& c : cells)
    if (c.position % shard.count == shard.index) out.push_back(c);
  return out;
}

}  // namespace jouleperf::study

// One cell of a sweep: a configuration at one input length I, output length O and batch
// size B, and what measuring it gave. These types are the schema shared by the sweep
// runner, the results store, the estimator and the reporters.
#pragma once

#include <compare>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/record/device_thermal.hpp"

namespace jouleperf::record {

// A configuration: everything about a cell except I, O and B.
struct Config {
  std::string name;                 // unique in a study: "baseline", "q8_0-continuous"
  std::string engine = "llamacpp";  // llamacpp | sim | openai
  std::string model;                // GGUF path (llamacpp), architecture name (sim), served name (openai)
  std::string weight_type;          // f32 | f16 | bf16 | q8_0 | q4_0; "" = as the model file stores it
  std::string strategy = "greedy";  // greedy | sample (engine::parse_strategy)
  std::string batching = "static";  // static | continuous (engine::parse_batching)
  int threads = 0;                  // CPU threads for in-process engines; 0 = every hardware thread
  bool baseline = false;            // the unoptimized configuration that savings are measured against
  // Other engine settings, e.g. {"hardware","h100-sxm"}, {"stack","vllm"}, {"url",...},
  // {"flash_attention","on"}. Kept sorted by key (canonicalize()).
  std::vector<std::pair<std::string, std::string>> settings;

  // Sorts settings by key.
  void canonicalize();
  // One line holding every field, settings sorted: two configs with the same key measure
  // the same thing. A resumed sweep refuses a store whose cell was measured under
  // another key for the same config name. URL credentials (user:password@) are redacted.
  std::string key() const;
  // The value of a setting, if present.
  std::optional<std::string> setting(std::string_view name) const;
};

struct CellKey {
  std::string config;  // Config::name
  std::uint64_t input_tokens = 0;
  std::uint64_t output_tokens = 0;
  std::uint64_t batch = 0;
  auto operator<=>(const CellKey&) const = default;
};

// "baseline I=128 O=32 B=4"
std::string to_string(const CellKey& key);

enum class CellStatus {
  kDone,     // measured: reps holds every repetition
  kSkipped,  // cannot run here (out of memory, context too long, unsupported): reason says why
  kFailed,   // a request of a batch failed (served engines: HTTP error, stall, cut stream,
             // deadline): reason and failures say why; no repetition is kept (no energy is
             // divided among the requests that succeeded). A resumed sweep runs it again.
};
std::string_view status_name(CellStatus s);  // "done", "skipped", "failed"

// A request that failed while a cell ran (CellStatus::kFailed).
struct CellFailure {
  std::string phase;          // "warm-up 1", "repetition 2" (1-based)
  std::uint64_t request = 0;  // its index in the batch (0-based)
  std::string reason;         // the engine's: "HTTP 500: ...", "stalled: ...", "overran max_tokens: ..."
};

// One measured batch.
struct Repetition {
  double energy_j = 0.0;                   // whole batch, J (total of the meter, idle included)
  std::optional<double> prefill_energy_j;  // "prefill" phase, J
  std::optional<double> decode_energy_j;   // "decode" phase, J (none when O = 1)
  std::optional<double> above_idle_j;      // energy above the idle baseline, J
  double duration_s = 0.0;                 // first forward to last token, s
  double prefill_s = 0.0;
  double decode_s = 0.0;
  double uncertainty_j = 0.0;  // the sensor's +- bound for this batch (resolution, sampling), J
  double ttft_mean_s = 0.0;    // mean time to first token over the batch's sequences, s
  // Where the repetition sits in the sweep's run order (the store records the order, so a
  // drift of the machine can be checked against it): the round it ran in (rep-major: round
  // r holds repetition r of every cell) and when it started, seconds since the epoch
  // (0 = not recorded, e.g. stores written before the order was recorded).
  std::uint32_t round = 0;
  double started_unix_s = 0.0;
  std::string energy_source;               // this repetition's source ("" = as the cell's)
  std::optional<double> draft_acceptance;  // speculative decoding: share of draft tokens accepted
  std::optional<double> draft_forwards;    // speculative decoding: draft-model forwards
  // The thermal protocol (record/device_thermal.hpp): what each watched device did during
  // the batch, and the cool-down waited before it. Empty / unset when nothing was watched.
  std::vector<DeviceThermal> devices;
  std::optional<CoolDown> cooldown;
};

// Mean and spread of a sample. stddev is the sample standard deviation (n - 1); 0 for n < 2.
struct Spread {
  std::uint64_t n = 0;
  double mean = 0.0;
  double stddev = 0.0;
  double min = 0.0;
  double max = 0.0;
};
Spread spread_of(const std::vector<double>& xs);

// Student's t quantile t(0.975, df) for a two-sided 95 % interval; df >= 1 (df = 0 gives
// +infinity: one value has no interval).
double t975(std::uint64_t df);
// Half-width of the 95 % interval of the mean of `s` (t975(n - 1) * stddev / sqrt(n)),
// in the sample's unit; +infinity for n < 2.
double ci95_half_width(const Spread& s);

struct CellResult {
  CellKey key;
  std::string config_key;  // Config::key() of what was measured
  CellStatus status = CellStatus::kDone;
  std::string reason;                  // with kSkipped / kFailed: why (the engine's error message)
  std::vector<CellFailure> failures;   // with kFailed: every failed request of the failing batch
  std::uint32_t warmup = 0;            // warm-up batches run before the repetitions
  std::vector<Repetition> reps;        // with kDone: one per repetition (>= 1)
  std::string energy_source;           // counter | power-integral | cpu-time-model | simulated | mixed: a+b
  bool estimated = false;              // from a model (CPU-time model, simulator), not a sensor
  bool simulated = false;              // from the simulator: nothing was run
  bool below_resolution = false;       // some repetition was shorter than the sensor's update interval
  std::optional<double> idle_power_w;  // idle baseline used, W
  nlohmann::json conditions = nlohmann::json::object();  // hardware, engine + version, model,
                                                         // sensor, build type, host, time
  double finished_unix_s = 0.0;                          // when the cell was stored, seconds since the epoch

  // Per batch, per request (/B) and per output token (/(B*O)), over the repetitions.
  Spread energy_per_batch_j() const;
  Spread energy_per_request_j() const;
  Spread energy_per_output_token_j() const;
  Spread duration_s() const;
  // Mean sensor bound per batch, J.
  double mean_uncertainty_j() const;
  // Output tokens per second over the whole batch (B*O / mean duration).
  double output_tokens_per_s() const;
};

// JSON forms (the store keeps CellResult as JSON beside indexed key columns; CSV and
// JSON reports use the same field names). from_json fails (kParse) naming the field.
nlohmann::json to_json(const Config& c);
nlohmann::json to_json(const CellResult& r);
Result<Config> config_from_json(const nlohmann::json& j);
Result<CellResult> cell_from_json(const nlohmann::json& j);

}  // namespace jouleperf::record

// The study part's names for these types (the code that measures and stores cells spells
// them study::CellResult, ...): the same types, defined here below estimate and study.
namespace jouleperf::study {
using record::cell_from_json;
using record::CellFailure;
using record::CellKey;
using record::CellResult;
using record::CellStatus;
using record::ci95_half_width;
using record::Config;
using record::config_from_json;
using record::Repetition;
using record::Spread;
using record::spread_of;
using record::status_name;
using record::t975;
using record::to_json;
using record::to_string;
}  // namespace jouleperf::study

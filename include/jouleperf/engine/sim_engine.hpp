// The `sim` engine: an Engine whose batches are priced by the serving simulator
// (sim::simulate_batch) on a hardware profile under a software stack. Nothing runs:
// timestamps are simulated offsets from the clock's now() (no sleeping) and the energy is
// BatchResult::simulated, always estimated. It lets a sweep cover hardware that is not here.
// Engine::serve runs the simulator's own scheduler on the requests' arrivals (batching,
// max_batch and static_wait_s as asked; greedy/sample only priced alike): each
// request's record has its simulated times (tokens one mean TPOT apart; admitted_s is
// its arrival, its queueing is inside its TTFT) and simulated energy, ServeResult::
// simulated is set and energy_j is the run's simulated energy; a request the simulator
// rejects (never fits the KV cache or the context) is a failed record, not an error.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/sim/config.hpp"

namespace jouleperf {

struct SimEngineConfig {
  std::string hardware = "h100-sxm";   // a profile of the registry (jouleperf hardware list)
  std::string stack = "vllm";          // hf-eager | hf-compiled | vllm | llamacpp-cpu
  std::string model = "Llama-3.1-8B";  // a built-in architecture, or a .gguf path (read for its shape)
  std::string precision = "bf16";      // bf16 | fp8 | int8 | int4 ("" = bf16)
  std::uint32_t tp = 1;                // tensor-parallel devices
  // Clocks and power limits (sim/clocks.hpp): a board power limit per device, W; a locked
  // graphics clock, MHz (needs the profile's max_clock_mhz) or as a ratio of the maximum
  // (not both).
  std::optional<double> gpu_power_limit_w, gpu_locked_clock_mhz, gpu_clock_ratio;
};

// Opens a sim engine. Fails with kInvalidArgument for an unknown hardware, stack, model,
// precision or draft model, or a draft whose vocabulary differs from the target's (the
// message names which), or as read_gguf_info fails for a .gguf path.
//
// The engine honours BatchRequest::strategy with the simulator's own decoding model:
// greedy and sample cost the same (one token per step); beam prices beam_width beams per
// sequence; speculative prices draft_tokens (gamma) draft forwards and one verification of
// gamma + 1 positions per step at the acceptance rate forced_accept_rate (alpha), which a
// simulation requires (kInvalidArgument without it or without a draft model).
// `draft` is speculative decoding's draft model: a built-in architecture or a .gguf path
// sharing the target's vocabulary; "" = none (a speculative batch then fails).
Result<std::unique_ptr<Engine>> open_sim_engine(const SimEngineConfig& config,
                                                const hardware::HardwareRegistry& registry,
                                                const std::string& draft = "");

// The same from an already built simulator configuration (config.decoding.draft is the
// draft model for speculative batches; its other decoding fields are set per batch).
std::unique_ptr<Engine> make_sim_engine(sim::SimConfig config, EngineInfo info);

}  // namespace jouleperf

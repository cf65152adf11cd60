// The effects Fernandez et al. (ACL 2025, arXiv 2504.17674) measured, reproduced on
// simulated GPUs. Nothing here is hard-coded: each figure comes out of the per-iteration
// model and the schedulers, on controlled batches as the paper ran them
// (simulate_batch: B requests of exactly I prompt and O generated tokens). Where an
// effect depends on the setting, the test names the setting and docs/simulator.md
// ("What the model reproduces") says where it does not hold and why.
#include <gtest/gtest.h>

#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/sim/simulator.hpp"

namespace jouleperf::sim {
namespace {

ModelInfo model(const char* name) {
  auto a = find_builtin_arch(name);
  EXPECT_TRUE(a.ok()) << name;
  return info_from_arch(*a);
}

SimConfig config(const char* h, const char* stack, const char* m = "Llama-3.1-8B") {
  hardware::HardwareRegistry r;
  auto p = r.find(h);
  auto s = find_stack(stack);
  EXPECT_TRUE(p.ok() && s.ok());
  return make_config(*p, *s, model(m));
}

BatchRun batch(const SimConfig& c, std::uint32_t in, std::uint32_t out, std::uint32_t b) {
  auto r = simulate_batch(c, in, out, b);
  if (!r.ok()) {
    ADD_FAILURE() << r.error().message;
    return {};
  }
  EXPECT_TRUE(r->fits) << "B=" << b;
  return std::move(*r);
}

const std::uint32_t kBatches[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};

TEST(PaperEffects, EnergyPerRequestFallsWithBatchSizeThenFlattens) {
  for (const char* gpu : {"a6000", "a100-sxm", "h100-sxm"}) {
    const SimConfig c = config(gpu, "vllm");
    std::vector<double> e;
    for (std::uint32_t b : kBatches) e.push_back(batch(c, 512, 128, b).energy_per_request_j);
    for (std::size_t i = 1; i < e.size(); ++i) EXPECT_LT(e[i], e[i - 1]) << gpu << " B=" << kBatches[i];
    // Doubling the batch nearly halves the energy at first (the weights are read once for
    // the whole batch) and changes it little at the end (compute and KV traffic grow with B).
    EXPECT_GT(e[0] / e[1], 1.7) << gpu;
    EXPECT_LT(e[7] / e[8], 1.15) << gpu;
  }
}

TEST(PaperEffects, FlopsIdealEnergyIsBelowEverySimulatedStack) {
  for (const char* gpu : {"a6000", "h100-sxm"}) {
    for (const char* stack : {"hf-eager", "hf-compiled", "vllm"}) {
      const SimConfig c = config(gpu, stack);
      for (std::uint32_t b : kBatches) {
        const BatchRun r = batch(c, 512, 128, b);
        EXPECT_GT(r.energy_j, r.flops_ideal_energy_j) << gpu << " " << stack << " B=" << b;
      }
      // And far below at batch 1: the device mostly waits on memory or the host.
      EXPECT_GT(batch(c, 512, 128, 1).energy_j, 10 * batch(c, 512, 128, 1).flops_ideal_energy_j);
    }
  }
}

TEST(PaperEffects, EagerUsesSeveralTimesTheEnergyOfVllmAtSmallBatchAndTheGapNarrows) {
  // Llama-3.1-8B on an H100, short requests (64 prompt, 64 generated tokens). At batch 1
  // eager PyTorch is bound by its host dispatch (~28 ms/token) while vLLM replays a CUDA
  // graph bound by weight streaming (~6 ms/token); at batch 256 both are bound by the
  // device and the gap shrinks to eager's extra memory traffic and lower efficiency.
  const SimConfig eager = config("h100-sxm", "hf-eager");
  const SimConfig vllm = config("h100-sxm", "vllm");
  auto ratio = [&](std::uint32_t b) {
    return batch(eager, 64, 64, b).energy_per_request_j / batch(vllm, 64, 64, b).energy_per_request_j;
  };
  const double small = ratio(1), large = ratio(256);
  EXPECT_GT(small, 2.5);
  EXPECT_LT(large, 0.8 * small);
  EXPECT_GT(large, 1.0);  // eager never wins
  // Compiled graphs sit in between at batch 1.
  const double compiled = batch(config("h100-sxm", "hf-compiled"), 64, 64, 1).energy_per_request_j /
                          batch(vllm, 64, 64, 1).energy_per_request_j;
  EXPECT_GT(compiled, 1.0);
  EXPECT_LT(compiled, small);
  // A smaller model on the paper's A6000: the host overhead dominates there too.
  const double a6000_1b = batch(config("a6000", "hf-eager", "Llama-3.2-1B"), 64, 64, 1).energy_per_request_j /
                          batch(config("a6000", "vllm", "Llama-3.2-1B"), 64, 64, 1).energy_per_request_j;
  EXPECT_GT(a6000_1b, 2.0);
}

TEST(PaperEffects, SpeculativeDecodingSavesEnergyAtBatchOneAndCostsEnergyAtBatch128) {
  for (const char* gpu : {"a6000", "a100-sxm", "h100-sxm"}) {
    SimConfig plain = config(gpu, "vllm");
    SimConfig spec = plain;
    spec.decoding.spec_tokens = 4;
    spec.decoding.spec_acceptance = 0.7;
    spec.decoding.draft = model("Llama-3.2-1B");
    for (auto [in, out] : {std::pair{512u, 128u}, std::pair{64u, 64u}}) {
      EXPECT_LT(batch(spec, in, out, 1).energy_j, 0.9 * batch(plain, in, out, 1).energy_j) << gpu;
      EXPECT_GT(batch(spec, in, out, 128).energy_j, batch(plain, in, out, 128).energy_j) << gpu;
    }
  }
}

TEST(PaperEffects, TensorParallelismAtBatchOneLowersLatencyAndRaisesEnergy) {
  for (const char* gpu : {"a100-sxm", "h100-sxm", "a6000"}) {
    SimConfig c = config(gpu, "vllm");
    const BatchRun one = batch(c, 512, 128, 1);
    double last_latency = one.duration_s, last_energy = one.energy_j;
    for (std::uint32_t tp : {2u, 4u}) {
      c.tp = tp;
      const BatchRun r = batch(c, 512, 128, 1);
      EXPECT_LT(r.duration_s, last_latency) << gpu << " tp " << tp;
      EXPECT_GT(r.energy_j, last_energy) << gpu << " tp " << tp;
      last_latency = r.duration_s;
      last_energy = r.energy_j;
    }
  }
}

}  // namespace
}  // namespace jouleperf::sim

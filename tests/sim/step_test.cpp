// The per-iteration model on hand-computed cases: per-token coefficients against
// docs/method.md, the roofline (a batch-1 decode of Llama-3.1-8B on an H100 SXM is
// memory-bound: its time is the weight bytes over the bandwidth, within the efficiency
// factor), overheads, tensor parallelism, mixture-of-experts weight reads, power.
#include "jouleperf/sim/step.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"

namespace jouleperf::sim {
namespace {

ModelInfo model(const char* name) {
  auto a = find_builtin_arch(name);
  EXPECT_TRUE(a.ok()) << name;
  return info_from_arch(*a);
}

hardware::HardwareProfile hw(const char* name) {
  hardware::HardwareRegistry r;
  auto p = r.find(name);
  if (!p.ok()) {
    ADD_FAILURE() << p.error().message;
    return {};
  }
  return std::move(*p);
}

SoftwareStack stack(const char* name) {
  auto s = find_stack(name);
  if (!s.ok()) {
    ADD_FAILURE() << s.error().message;
    return {};
  }
  return std::move(*s);
}

StepModel make(const char* m, const char* h, const SoftwareStack& s, std::uint32_t tp = 1,
               WeightPrecision p = WeightPrecision::kBf16) {
  auto hwp = hw(h);
  auto sm = StepModel::create(model(m), hwp, s, p, tp, default_power_model(hwp.kind));
  EXPECT_TRUE(sm.ok()) << (sm.ok() ? "" : sm.error().message);
  return std::move(*sm);
}

// Llama-3.1-8B: 6,979,588,096 active non-embedding parameters (docs/method.md), an
// untied 128256 x 4096 head, 131,072 KV bytes per token.
constexpr double kLlama8bActive = 6979588096.0;
constexpr double kLlama8bHead = 128256.0 * 4096.0;

TEST(ModelCosts, Llama8bCoefficientsByHand) {
  auto c = model_costs(model("Llama-3.1-8B"));
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->matmul_flops_per_token, 2.0 * kLlama8bActive);
  EXPECT_DOUBLE_EQ(c->attn_flops_per_pair, 4.0 * 32 * 32 * 128);
  EXPECT_DOUBLE_EQ(c->logits_flops_per_token, 2.0 * kLlama8bHead);
  EXPECT_DOUBLE_EQ(c->dense_params, kLlama8bActive);
  EXPECT_DOUBLE_EQ(c->head_params, kLlama8bHead);
  EXPECT_DOUBLE_EQ(c->expert_params, 0.0);
  EXPECT_DOUBLE_EQ(c->kv_bytes_per_token, 131072.0);
  EXPECT_DOUBLE_EQ(c->ffn_active, 14336.0);
}

TEST(ModelCosts, OlmoeExpertsByHand) {
  auto c = model_costs(model("OLMoE-1B-7B"));
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->expert_params, 3.0 * 2048 * 1024);  // one SwiGLU expert
  EXPECT_DOUBLE_EQ(c->ffn_active, 8.0 * 1024);
  // Dense part + the 8 active experts of 16 layers = the active parameters.
  EXPECT_DOUBLE_EQ(c->dense_params + 16 * 8 * c->expert_params, c->matmul_flops_per_token / 2.0);
  EXPECT_DOUBLE_EQ(experts_touched(64, 8, 1), 8.0);
  EXPECT_NEAR(experts_touched(64, 8, 2), 64 * (1 - (56.0 / 64) * (56.0 / 64)), 1e-12);
  EXPECT_GT(experts_touched(64, 8, 64), 63.0);
  EXPECT_EQ(experts_touched(64, 8, 0), 0.0);
}

TEST(StepModel, BatchOneDecodeOfLlama8bOnH100IsMemoryBound) {
  const SoftwareStack vllm = stack("vllm");
  const StepModel m = make("Llama-3.1-8B", "h100-sxm", vllm);
  const StepCost c = m.evaluate(decode_rows(1, 129));                 // 128 cached tokens + the new one
  const double weight_bytes = 2.0 * (kLlama8bActive + kLlama8bHead);  // 15.01 GB
  EXPECT_DOUBLE_EQ(c.weight_bytes, weight_bytes);
  EXPECT_FALSE(c.compute_bound);
  // Time of the memory traffic: the weight bytes over the bandwidth, within the
  // efficiency factor (KV and activations add < 0.5% here).
  const double bw = 3.35e12;
  EXPECT_GT(c.memory_s, weight_bytes / bw);
  EXPECT_LT(c.memory_s, 1.005 * weight_bytes / (bw * vllm.memory_efficiency));
  EXPECT_NEAR(weight_bytes / bw, 4.48e-3, 0.01e-3);
  // The step: graphed decode, so host = serial part + one graph launch, hidden by the device.
  EXPECT_TRUE(c.graphed);
  const double kernels = 32 * 12 + 10;
  EXPECT_DOUBLE_EQ(c.kernel_gap_s, kernels * 1.5e-6);
  EXPECT_DOUBLE_EQ(c.device_s, c.memory_s + c.kernel_gap_s);
  EXPECT_DOUBLE_EQ(c.duration_s, vllm.host_s_per_step + 5e-6 + c.device_s);
  // 15.01 GB at 0.72 of 3.35 TB/s (the fitted efficiency) + 394 kernel gaps + 1.305 ms of
  // fitted host time per step.
  EXPECT_NEAR(c.duration_s, 8.13e-3, 0.05e-3);
  // FLOPs: one token through the weights, 129 (query, key) pairs, one token's logits.
  EXPECT_DOUBLE_EQ(c.flops, 2.0 * kLlama8bActive + 129.0 * 4 * 32 * 32 * 128 + 2.0 * kLlama8bHead);
}

TEST(StepModel, LongPrefillIsComputeBound) {
  const SoftwareStack vllm = stack("vllm");
  const StepModel m = make("Llama-3.1-8B", "h100-sxm", vllm);
  const StepCost c = m.evaluate(prefill_chunk(0, 4096, true, LogitsMode::kLast));
  EXPECT_TRUE(c.compute_bound);
  const double flops = 4096.0 * 2 * kLlama8bActive + 4.0 * 32 * 32 * 128 * 4096.0 * 4097 / 2 + 2.0 * kLlama8bHead;
  EXPECT_DOUBLE_EQ(c.flops, flops);
  EXPECT_NEAR(c.compute_s, flops / (989.4e12 * vllm.compute_efficiency), 1e-12);
  EXPECT_FALSE(c.graphed);  // steps with prompt tokens run eagerly in vLLM
  EXPECT_DOUBLE_EQ(c.host_dispatch_s, (32 * 12 + 10) * 8e-6);
}

// A stack without overheads and with ideal efficiencies: the roofline alone.
SoftwareStack bare() {
  SoftwareStack s = stack("vllm");
  s.compute_efficiency = 1.0;
  s.memory_efficiency = 1.0;
  s.kernels_per_layer = s.kernels_fixed = 0;
  s.host_s_per_step = s.host_s_per_sequence = 0;
  s.graph_launch_s = s.host_s_per_kernel = s.kernel_gap_s = 0;
  s.activation_passes_dim = s.activation_passes_ffn = s.logit_passes = 0;
  s.attention_roofline_separate = false;  // one roofline over the step's totals
  return s;
}

TEST(StepModel, BareRooflineAndPowerByHand) {
  const StepModel m = make("Llama-3.1-8B", "a6000", bare());
  // 64 rows at 1000 keys each.
  const StepCost c = m.evaluate(decode_rows(64, 64000));
  const double flops = 64 * 2 * kLlama8bActive + 64000.0 * 4 * 32 * 32 * 128 + 64 * 2 * kLlama8bHead;
  const double bytes = 2 * (kLlama8bActive + kLlama8bHead) + (64000.0 + 64) * 131072.0;
  EXPECT_DOUBLE_EQ(c.flops, flops);
  EXPECT_DOUBLE_EQ(c.weight_bytes + c.kv_bytes + c.activation_bytes, bytes);
  EXPECT_DOUBLE_EQ(c.duration_s, std::max(flops / 154.8e12, bytes / 768e9));
  // Power: idle + (TDP - idle) * (f0 + (1 - f0) * a^0.8), a = w_c u_c + w_m u_m (the
  // fitted GPU figures: f0 0.2, w_m 0.562, w_c 4.44).
  const double uc = flops / 154.8e12 / c.duration_s, um = bytes / 768e9 / c.duration_s;
  EXPECT_NEAR(um, 1.0, 1e-12);  // memory-bound, no overheads: the memory runs all the step
  const double a = std::min(1.0, 4.44 * uc + 0.562 * um);
  // (tabulated: within 3e-4 of TDP of the formula)
  EXPECT_NEAR(c.power_w, 70 + (300 - 70) * (0.2 + 0.8 * std::pow(a, 0.8)), 3e-4 * 300);
  EXPECT_NEAR(c.energy_j, c.power_w * c.duration_s, 1e-12);
}

TEST(StepModel, DecodeEfficienciesSlowDecodeOnlyStepsByHand) {
  // Compute-bound decode (64 rows at 1000 keys each on an A6000, bare stack): the
  // matrix products take 1 / e_mm and attention 1 / e_attn of their peak time; a step
  // with prompt tokens is untouched.
  SoftwareStack s = bare();
  const StepModel plain = make("Llama-3.1-8B", "a6000", s);
  s.decode_matmul_efficiency = 0.5;
  s.decode_attention_efficiency = 0.25;
  const StepModel slow = make("Llama-3.1-8B", "a6000", s);
  const double mm = 64 * 2 * kLlama8bActive + 64 * 2 * kLlama8bHead;
  const double attn = 64000.0 * 4 * 32 * 32 * 128;
  const StepCost c = slow.evaluate(decode_rows(64, 64000));
  EXPECT_NEAR(c.compute_s, (mm / 0.5 + attn / 0.25) / 154.8e12, 1e-12);
  EXPECT_DOUBLE_EQ(c.duration_s, std::max(c.compute_s, c.memory_s));
  // The same FLOPs, and the utilization stays the peak-rate share (slower, not busier).
  EXPECT_DOUBLE_EQ(c.flops, plain.evaluate(decode_rows(64, 64000)).flops);
  EXPECT_NEAR(c.compute_util, (mm + attn) / 154.8e12 / c.duration_s, 1e-12);
  StepShape prefill = decode_rows(64, 64000);
  prefill.has_prompt = true;
  EXPECT_DOUBLE_EQ(slow.evaluate(prefill).compute_s, plain.evaluate(prefill).compute_s);
}

TEST(PowerCurve, TableFollowsTheFormulaAndStaysAboveActivity) {
  const auto h = hw("h100-sxm");
  for (const PowerModel& pm : {default_power_model(hardware::DeviceKind::kGpu), PowerModel{0.0, 0.4, 0.5}}) {
    const PowerCurve curve(pm, h);
    double worst = 0;
    for (int i = 0; i <= 100000; ++i) {
      const double a = i / 100000.0;
      const double p = curve.power_w(a);
      worst = std::max(worst, std::abs(p - step_power_w(pm, h, a)));
      // f(a) >= a: power at least idle + (TDP - idle) * a.
      EXPECT_GE(p, h.idle_w + (h.tdp_w - h.idle_w) * a - 1e-9) << a;
    }
    EXPECT_LT(worst, 3e-4 * h.tdp_w);
    EXPECT_DOUBLE_EQ(curve.power_w(0.0), h.idle_w + (h.tdp_w - h.idle_w) * pm.active_floor);
    EXPECT_DOUBLE_EQ(curve.power_w(2.0), h.tdp_w);  // clamped
  }
}

TEST(StepModel, TensorParallelSplitsWeightsAndAddsAllReduces) {
  const SoftwareStack s = bare();
  const StepModel one = make("Llama-3.1-8B", "h100-sxm", s, 1);
  const StepModel two = make("Llama-3.1-8B", "h100-sxm", s, 2);
  const StepShape shape = decode_rows(1, 100);
  const StepCost c1 = one.evaluate(shape), c2 = two.evaluate(shape);
  EXPECT_DOUBLE_EQ(c2.weight_bytes, c1.weight_bytes / 2);
  EXPECT_DOUBLE_EQ(two.weight_bytes_per_device(), one.weight_bytes_per_device() / 2);
  // 64 all-reduces of 4096 bf16 values over a ring of 2: 2 steps of 2 us + 8192 B / (2 * 450 GB/s * 0.8).
  const double ar = 2.0 * (2e-6 + 8192.0 / (2 * 450e9 * kLinkEfficiency));
  EXPECT_NEAR(c2.comm_s, 64 * ar, 1e-15);
  EXPECT_DOUBLE_EQ(c2.energy_j, c2.power_w * c2.duration_s * 2);
  // 8 KV heads over 16 devices: each holds one head (replicated), not half of one.
  auto h = hw("h100-sxm");
  h.max_tp = 16;
  auto s16 = StepModel::create(model("Llama-3.1-8B"), h, s, WeightPrecision::kBf16, 16, default_power_model(h.kind));
  ASSERT_TRUE(s16.ok());
  EXPECT_DOUBLE_EQ(s16->kv_bytes_per_token_per_device(), 131072.0 / 8);
}

TEST(StepModel, RejectsImpossibleConfigurations) {
  const auto pm = default_power_model(hardware::DeviceKind::kGpu);
  auto fp8 = StepModel::create(model("Llama-3.1-8B"), hw("a100-sxm"), stack("vllm"), WeightPrecision::kFp8, 1, pm);
  ASSERT_FALSE(fp8.ok());
  EXPECT_EQ(fp8.error().code, Errc::kUnsupported);
  auto tp3 = StepModel::create(model("Llama-3.1-8B"), hw("h100-sxm"), stack("vllm"), WeightPrecision::kBf16, 3, pm);
  ASSERT_FALSE(tp3.ok());
  EXPECT_EQ(tp3.error().code, Errc::kInvalidArgument);
  auto tp16 = StepModel::create(model("Llama-3.1-8B"), hw("h100-sxm"), stack("vllm"), WeightPrecision::kBf16, 16, pm);
  EXPECT_FALSE(tp16.ok());
  auto cpu =
      StepModel::create(model("Llama-3.1-8B"), hw("h100-sxm"), stack("llamacpp-cpu"), WeightPrecision::kBf16, 1, pm);
  ASSERT_FALSE(cpu.ok());
  EXPECT_EQ(cpu.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(find_stack("tgi").ok());
  EXPECT_TRUE(find_stack("VLLM").ok());
}

TEST(StepModel, FallbackRatesOnCpusWithoutBf16) {
  const StepModel m = make("Llama-3.2-1B", "epyc-7763", stack("llamacpp-cpu"));
  EXPECT_DOUBLE_EQ(m.matmul_peak_flops(), 5.02e12);  // no BF16 unit: the FP32 rate
  const StepModel q = make("Llama-3.2-1B", "xeon-8480", stack("llamacpp-cpu"), 1, WeightPrecision::kInt8);
  EXPECT_DOUBLE_EQ(q.matmul_peak_flops(), 229.4e12);  // AMX int8
  EXPECT_DOUBLE_EQ(q.weight_bytes_per_device(), 1.0 * 1235814400.0);
}

TEST(StepModel, MixtureOfExpertsReadsMoreExpertsAsTheBatchGrows) {
  const StepModel m = make("OLMoE-1B-7B", "a6000", bare());
  const auto& c = m.costs();
  const double head = 2.0 * c.head_params;
  const double w1 = m.evaluate(decode_rows(1, 100)).weight_bytes - head;
  const double w8 = m.evaluate(decode_rows(8, 800)).weight_bytes - head;
  const double w256 = m.evaluate(decode_rows(256, 25600)).weight_bytes - head;
  EXPECT_DOUBLE_EQ(w1, 2.0 * (c.dense_params + 16 * 8 * c.expert_params));
  EXPECT_DOUBLE_EQ(w8, 2.0 * (c.dense_params + 16 * experts_touched(64, 8, 8) * c.expert_params));
  EXPECT_GT(w8, 3 * w1 / 2);
  EXPECT_NEAR(w256, 2.0 * (c.dense_params + 16 * 64 * c.expert_params), 1e3);  // every expert
  // FLOPs stay at the active parameters per token.
  EXPECT_DOUBLE_EQ(m.evaluate(decode_rows(8, 800)).flops,
                   8 * c.matmul_flops_per_token + 800 * c.attn_flops_per_pair + 8 * c.logits_flops_per_token);
}

TEST(StepModel, StepsOfARequestAddUpToItsFlops) {
  const ModelInfo info = model("Llama-3.1-8B");
  const StepModel m = make("Llama-3.1-8B", "h100-sxm", stack("vllm"));
  // I = 300 prompt tokens in chunks of 128, 128, 44; then O - 1 = 24 decode steps.
  double flops = m.evaluate(prefill_chunk(0, 128, false, LogitsMode::kLast)).flops +
                 m.evaluate(prefill_chunk(128, 128, false, LogitsMode::kLast)).flops +
                 m.evaluate(prefill_chunk(256, 44, true, LogitsMode::kLast)).flops;
  for (int k = 1; k <= 24; ++k) flops += m.evaluate(decode_rows(1, 300 + k)).flops;
  EXPECT_NEAR(flops, request_flops(info, 300, 25, LogitsMode::kLast).total(), 1e-6 * flops);
}

TEST(StepModel, EagerBatchOneIsHostBound) {
  const SoftwareStack eager = stack("hf-eager");
  const StepModel m = make("Llama-3.1-8B", "h100-sxm", eager);
  const StepCost c = m.evaluate(decode_rows(1, 200));
  EXPECT_FALSE(c.graphed);
  EXPECT_DOUBLE_EQ(c.host_dispatch_s, (32 * 42 + 30) * 20e-6);
  EXPECT_GT(c.host_dispatch_s, c.device_s);
  EXPECT_DOUBLE_EQ(c.duration_s, c.host_serial_s + c.host_dispatch_s);
  // The device waits on the host: low activity, power well below TDP.
  EXPECT_LT(c.power_w, 0.5 * 700);
}

TEST(StepModel, EnergyIsNeverBelowTheFlopsIdeal) {
  // f(a) >= a makes P * t >= TDP * (FLOPs / peak) for any step: checked on random shapes.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const char* s : {"hf-eager", "hf-compiled", "vllm"}) {
    const StepModel m = make("Llama-3.1-8B", "h100-sxm", stack(s));
    for (int i = 0; i < 200; ++i) {
      const double rows = std::floor(1 + 511 * u(rng));
      StepShape shape = decode_rows(rows, rows * (1 + 4000 * u(rng)));
      if (u(rng) < 0.5)
        shape += prefill_chunk(std::floor(2000 * u(rng)), std::floor(1 + 4000 * u(rng)), true, LogitsMode::kLast);
      const StepCost c = m.evaluate(shape);
      const double ideal = 700.0 * c.flops / 989.4e12;
      EXPECT_GE(c.energy_j, ideal) << s << " rows " << rows;
    }
  }
}

}  // namespace
}  // namespace jouleperf::sim

// FLOPs of prefill and decode against sums written out by hand.
#include "jouleperf/model/flops.hpp"

#include <gtest/gtest.h>

namespace jouleperf {
namespace {

ModelInfo llama8b() { return info_from_arch(*find_builtin_arch("Llama-3.1-8B")); }

TEST(Flops, PrefillOfLlama8BByHand) {
  const ModelInfo m = llama8b();
  const RequestFlops f = request_flops(m, 128, 1, LogitsMode::kLast);
  EXPECT_DOUBLE_EQ(f.prefill.matmul, 2.0 * 6979588096.0 * 128);
  // 128 queries attend to 1, 2, ..., 128 keys: 8256 pairs, each 4 * 32 layers * 32 heads * 128.
  EXPECT_DOUBLE_EQ(f.prefill.attention, 4.0 * 32 * 32 * 128 * 8256);
  EXPECT_DOUBLE_EQ(f.prefill.logits, 2.0 * 128256 * 4096);  // last token only
  EXPECT_EQ(f.decode_forwards, 0u);                         // the one output token comes from prefill
  EXPECT_DOUBLE_EQ(f.decode.total(), 0.0);
  // Kaplan et al.'s rule of thumb: 2 FLOPs per non-embedding parameter per token.
  EXPECT_NEAR(f.total() / (2.0 * 6.98e9 * 128), 1.0, 0.01);
}

TEST(Flops, LogitsForEveryPromptToken) {
  const ModelInfo m = llama8b();
  const RequestFlops last = request_flops(m, 100, 1, LogitsMode::kLast);
  const RequestFlops all = request_flops(m, 100, 1, LogitsMode::kAll);
  EXPECT_DOUBLE_EQ(all.prefill.logits, 100 * last.prefill.logits);
  EXPECT_DOUBLE_EQ(all.prefill.matmul, last.prefill.matmul);
}

TEST(Flops, DecodeAttendsToAGrowingContext) {
  const ModelInfo m = llama8b();
  const RequestFlops f = request_flops(m, 128, 3, LogitsMode::kLast);
  EXPECT_EQ(f.decode_forwards, 2u);
  EXPECT_DOUBLE_EQ(f.decode.matmul, 2.0 * 6979588096.0 * 2);
  // The two forwards sit at positions 128 and 129: 129 + 130 keys.
  EXPECT_DOUBLE_EQ(f.decode.attention, 4.0 * 32 * 32 * 128 * (129 + 130));
  EXPECT_DOUBLE_EQ(f.decode.logits, 2.0 * 2 * 128256 * 4096);
  EXPECT_DOUBLE_EQ(f.total(), f.prefill.total() + f.decode.total());
}

TEST(Flops, MixtureOfExpertsCountsActiveParameters) {
  const ModelInfo m = info_from_arch(*find_builtin_arch("OLMoE-1B-7B"));
  const RequestFlops f = request_flops(m, 10, 1);
  EXPECT_DOUBLE_EQ(f.prefill.matmul, 2.0 * static_cast<double>(m.params_active) * 10);
  EXPECT_LT(f.prefill.matmul, 2.0 * static_cast<double>(m.params_non_embedding) * 10 / 4);
}

TEST(Flops, EmptyRequestIsZero) {
  const RequestFlops f = request_flops(llama8b(), 0, 0);
  EXPECT_DOUBLE_EQ(f.total(), 0.0);
}

TEST(Flops, ParseLogitsMode) {
  EXPECT_EQ(*parse_logits_mode("all"), LogitsMode::kAll);
  EXPECT_EQ(*parse_logits_mode("last"), LogitsMode::kLast);
  EXPECT_EQ(parse_logits_mode("some").error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace jouleperf

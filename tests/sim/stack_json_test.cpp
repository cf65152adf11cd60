// Stack and power-model JSON: a round trip keeps every figure; unknown keys, wrong types
// and invalid figures are refused naming the file and key.
#include "jouleperf/sim/stack_json.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace jouleperf::sim {
namespace {

TEST(StackJson, RoundTripKeepsTheFigures) {
  SoftwareStack s = *find_stack("llamacpp-cpu");
  s.name = "fitted";
  s.compute_efficiency = 1.0;
  s.host_s_per_step = 1.25e-3;
  s.host_s_per_sequence = 7e-5;
  auto back = stack_from_json(stack_to_json(s, "llamacpp-cpu"), "mem");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->name, "fitted");
  EXPECT_DOUBLE_EQ(back->compute_efficiency, 1.0);
  EXPECT_DOUBLE_EQ(back->host_s_per_step, 1.25e-3);
  EXPECT_DOUBLE_EQ(back->host_s_per_sequence, 7e-5);
  EXPECT_EQ(back->device, hardware::DeviceKind::kCpu);  // kept from based_on

  PowerModel m;
  m.active_floor = 0.42;
  auto pm = power_from_json(power_to_json(m), PowerModel{}, "mem");
  ASSERT_TRUE(pm.ok());
  EXPECT_DOUBLE_EQ(pm->active_floor, 0.42);
}

TEST(StackJson, RefusesBadInput) {
  auto unknown = stack_from_json({{"based_on", "vllm"}, {"speed", 2}}, "f.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kParse);
  EXPECT_NE(unknown.error().message.find("speed"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("f.json"), std::string::npos);
  EXPECT_FALSE(stack_from_json({{"host_s_per_step", 1e-3}}, "f").ok());  // no based_on
  EXPECT_FALSE(stack_from_json({{"based_on", "vllm"}, {"host_s_per_step", "1"}}, "f").ok());
  auto invalid = stack_from_json({{"based_on", "vllm"}, {"compute_efficiency", 3.0}}, "f");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(power_from_json({{"exponent", 2.0}}, PowerModel{}, "f").ok());
  EXPECT_FALSE(power_from_json({{"floor", 0.2}}, PowerModel{}, "f").ok());

  jouleperf::testing::TempDir dir;
  EXPECT_FALSE(load_stack_file(dir.write("a.json", "{\"profiles\": []}").string()).ok());
  EXPECT_FALSE(load_stack_file(dir.write("b.json", "not json").string()).ok());
  auto ok =
      load_stack_file(dir.write("c.json", R"({"stack": {"based_on": "vllm"}, "power": {"exponent": 0.9}})").string());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(ok->power.has_value());
}

}  // namespace
}  // namespace jouleperf::sim

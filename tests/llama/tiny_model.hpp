// The synthetic models the llama tests run: written once per build directory (tests
// run as separate processes) and reused; written to a temporary name and renamed, so
// parallel tests never see half a file.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "jouleperf/model/synth.hpp"

namespace jouleperf::testing {

// Path of the "tiny" preset (24 M parameters) as q8_0, seed 1, context 512.
inline std::string tiny_model() {
  const auto dir = std::filesystem::path(JP_BINARY_DIR) / "tests" / "models";
  const auto path = dir / "tiny-q8_0-seed1.gguf";
  if (std::filesystem::exists(path)) return path.string();
  std::filesystem::create_directories(dir);
  auto c = synth_preset("tiny");
  EXPECT_TRUE(c.ok());
  c->type = WeightType::kQ8_0;
  c->context_length = 512;
  const auto tmp = dir / ("tiny." + std::to_string(getpid()) + ".gguf");
  auto info = write_synthetic_gguf(*c, tmp.string());
  EXPECT_TRUE(info.ok()) << info.error().to_string();
  std::filesystem::rename(tmp, path);
  return path.string();
}

}  // namespace jouleperf::testing

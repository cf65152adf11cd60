// What the golden tests of the engine commands (run, replay) mask: what differs from
// run to run on a real engine or a local server.
#pragma once

#include <regex>
#include <string>

#include "support/golden.hpp"

namespace jouleperf::testing {

// What differs from run to run: numbers with a fraction or exponent and numbers of 3 or
// more digits (times, energies, rates at 4 significant digits), the model's path, the
// server's port, the column widths they set, the host (llama.cpp's system line, sensor
// conditions), sample counts and the forwards and peak batch of a continuous run.
inline std::string mask_engine_output(const std::string& text, const std::string& model) {
  std::string t = std::regex_replace(text, std::regex(model), "<model>");
  // A run shorter than the sensor's update interval says so: whether it is depends on the host.
  t = std::regex_replace(t, std::regex("\\(shorter than the sensor's update interval[^\n]*\n"), "");
  t = std::regex_replace(t, std::regex(R"re("below_resolution": (true|false))re"), "\"below_resolution\": <masked>");
  t = mask(t, {R"re(127\.0\.0\.1:[0-9]+)re", R"re("(system|version|engine_version)": "[^"]*")re",
               R"re("sensor_conditions": \{[^}]*\})re", R"re("(samples|forwards|peak_batch)": [0-9]+)re",
               R"re([0-9]+ forwards)re", R"re(\(peak [0-9]+\))re", R"re(-?[0-9]+(\.[0-9]+)?e[-+]?[0-9]+)re",
               R"re(-?[0-9]+\.[0-9]+)re", R"re(\b[0-9]{3,}\b)re"});
  // A fake server's tokens may come at once: a zero time, no decode speed.
  t = std::regex_replace(t, std::regex("([ ,])0(?=[ ,\r\n])"), "$1<masked>");
  t = std::regex_replace(t, std::regex("(^|\n)decode[ ,][^\r\n]*"), "$1decode <masked>");
  t = std::regex_replace(t, std::regex(R"re("decode_tokens_per_s": null)re"), "\"decode_tokens_per_s\": <masked>");
  return std::regex_replace(t, std::regex(" +"), " ");
}

}  // namespace jouleperf::testing

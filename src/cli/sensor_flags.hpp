// The sensor and sampler flags shared by every command that measures
// (sensors, measure, and later run, sweep, replay), each mirrored by a JOULEPERF_* variable.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/sensor/factory.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/sensor/settings.hpp"
#include "jouleperf/sensor/survey.hpp"

namespace jouleperf::cli {

// The flags' fields are the library's settings (sensor/settings.hpp: to_sensor_options,
// to_sampler_config).
using SensorFlags = SensorSettings;

// Adds --sensor, --powercap-root, --nvml-lib, --prometheus, --prometheus-timeout,
// --cpu-idle-w, --cpu-max-w, --hz and --counter-hz to `cmd`, and takes
// CUDA_VISIBLE_DEVICES from the environment (NVML then opens only the GPUs it names).
void add_sensor_flags(CLI::App* cmd, SensorFlags& flags);

// Opens the sensors the flags choose and starts a background Sampler on `clock`
// (jouleperf::start_sampler). When the CPU-time model is all there is (and no --sensor was
// named) it says so on stderr, with why each hardware family was not usable. On failure it
// prints "jouleperf <command>: <error>" on stderr and returns nullptr (the caller exits
// with kExitFailure). summarize_sampler (sensor/survey.hpp) describes what it reads.
std::unique_ptr<Sampler> start_sampler(const SensorFlags& flags, const Clock& clock, std::string_view command);
// As start_sampler, without starting it (jouleperf::open_sampler): the caller calls
// Sampler::start once it is ready to measure.
std::unique_ptr<Sampler> open_sampler(const SensorFlags& flags, const Clock& clock, std::string_view command);

}  // namespace jouleperf::cli

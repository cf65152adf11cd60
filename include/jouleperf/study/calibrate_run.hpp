// `jouleperf calibrate --store --config` as library calls: the measured cells of one
// config of a results store and the base configuration they are fitted from
// (prepare_store_calibration), the fit (run_store_calibration, sim::calibrate), the
// document `calibrate --save` writes (profile, stack and power model that `simulate`
// loads), and the outcome as a Document.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/calibrate.hpp"
#include "jouleperf/study/store.hpp"

namespace jouleperf::study {

struct StoreCalibrationOptions {
  std::string store;
  std::string config;
  std::string hardware;  // "" = the config's sim hardware, else the host CPU profile
  std::vector<std::string> profiles;
  std::string stack;      // "" = the config's sim stack, else llamacpp-cpu
  std::string model;      // "" = the config's model
  std::string precision;  // "" = the config's weight type / the model file's
  std::string name;       // of the written profile; "" = <hardware>-<config>-calibrated
  std::uint32_t hold_out_every = 3;
  std::uint32_t max_evaluations = 4000;
  std::uint32_t random_starts = 6;
  std::optional<double> max_uncertainty_pct;    // leave out cells whose sensor bound is a larger share, %
  std::optional<double> cpu_idle_w, cpu_max_w;  // host profile power, W (default: the CPU-time model's)
  double bandwidth_per_thread_gbps = 10.0;      // host profile's starting bandwidth, GB/s per thread
};

struct StoreCalibrationInputs {
  Config config;
  std::vector<sim::MeasuredBatch> cells;
  std::string sources;       // the cells' energy sources, joined
  std::size_t coarse = 0;    // cells whose sensor bound is above 10 % of their energy
  std::size_t left_out = 0;  // cells above max_uncertainty_pct
  sim::SimConfig base;       // hardware, stack, model and precision fitted from
  std::string description;   // "host-cpu (...) + llamacpp-cpu, model M (q8_0)"
};

// Opens the store read-only and gathers the config's done cells and the base. kInvalidArgument
// for hold_out_every < 2, an unknown config (the known ones named), hardware, stack, model or
// precision; kNotFound for no measured cell; the store's and the CPU model's errors.
Result<StoreCalibrationInputs> prepare_store_calibration(const StoreCalibrationOptions& o);

struct StoreCalibration {
  StoreCalibrationInputs inputs;
  sim::CalibrationResult fit;
  std::string profile_name;
  nlohmann::json document;  // {"profiles", "stack", "power", "calibration"}
};

// The fit (sim::calibrate's errors: every one a failure of the fit, not of the settings).
Result<StoreCalibration> run_store_calibration(const StoreCalibrationOptions& o, StoreCalibrationInputs inputs);

// Header lines (the cells, the base, the left-out and coarse notes), the "cells" table
// (measured against predicted duration and energy, held out), the "mape" table, the
// fitted figures; `saved` ("" = none) adds the "wrote FILE" line. JSON: the document.
table::Document store_calibration_document(const StoreCalibration& c, const StoreCalibrationOptions& o,
                                           const std::string& saved);

}  // namespace jouleperf::study

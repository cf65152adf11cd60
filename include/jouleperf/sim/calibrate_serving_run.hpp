// `jouleperf calibrate --measurements` as one call: the stack and power model fitted to a
// file of steady-state serving measurements (fit_serving), the document `calibrate --save`
// writes (a stack file `simulate --stack-file` and `fidelity --stack-file` load), and the
// outcome as a Document.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/fidelity.hpp"
#include "jouleperf/sim/serving_fit.hpp"

namespace jouleperf::sim {

struct ServingCalibrationOptions {
  std::uint32_t evaluations = 4000;  // objective evaluations per fit (each leave-one-out refit too)
  bool leave_one_out = true;
  std::string name;  // of the fitted stack; "" = <base stack>-calibrated
};

struct ServingCalibration {
  ServingInputs inputs;
  ServingFitResult fit;
  std::string measurements;
  double assume_input_tokens = 0;  // tokens, for rows without a prompt length
  nlohmann::json document;         // {"stack", "power", "calibration"}
};

// Fits `inputs` (load_serving_inputs of `serving`): fit_serving's errors (kInternal for a
// fit that could not run, kInvalidArgument for rows it cannot fit).
Result<ServingCalibration> calibrate_serving(ServingInputs inputs, const ServingOptions& serving,
                                             const ServingCalibrationOptions& o);

// The header line, the train and leave-one-out tables with their error tables, the fitted
// figures; `saved` ("" = none) adds the "wrote FILE" line. JSON: the document.
table::Document serving_calibration_document(const ServingCalibration& c, const std::string& saved);

}  // namespace jouleperf::sim

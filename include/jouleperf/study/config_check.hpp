// A study checked completely, engine settings included, before anything of it is written
// to a results store: a typo in a setting must not leave a configuration in the store that
// then blocks the corrected study.
#pragma once

#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/record/cell.hpp"
#include "jouleperf/study/grid.hpp"

namespace jouleperf::study {

// Checks a config's engine and every setting the way open_engine reads them (unknown keys,
// values out of range, malformed numbers), without opening an engine, reading a model or
// a profile file, or touching the network. kInvalidArgument naming the config and setting.
Status check_engine_config(const Config& config);

// Notes for the user about a config's settings that are accepted but deprecated (e.g.
// "config \"x\": setting flash_attention is deprecated: spell it flash_attn ..."), for
// the caller to show; empty when there is nothing to say. Never fails, never prints.
std::vector<std::string> config_notes(const Config& config);

// For the llamacpp engine: the model path and the draft_model setting made absolute and
// canonical (symlinks resolved as far as the path exists), so the store names the file
// whatever the working directory, and a relative and an absolute spelling of the same
// file are the same config. Other engines' models are names, left as they are.
void make_model_paths_absolute(Config& config);

// check_engine_config and make_model_paths_absolute on every config of `study`; the first
// error. Call after validate_study and before the study's configs reach a store.
Status prepare_study(Study& study);

}  // namespace jouleperf::study

// Golden files for the commands' output (tests/cli/golden/): a test runs a command on
// fixed inputs and compares what it printed with the file, so a change of format is a
// visible diff. JP_UPDATE_GOLDEN=1 writes the files instead (review the diff, commit).
#pragma once

#include <string>
#include <vector>

namespace jouleperf::testing {

struct CliRun {
  std::string out;  // stdout only
  std::string err;  // stderr
  int exit_code = -1;
};

// Runs `program args` with stdout and stderr captured apart (args as a shell would split them).
CliRun run_program(const std::string& program, const std::string& args);

// Replaces what differs from run to run before comparing: every match of each regex
// (ECMAScript) in `masks` becomes "<masked>".
std::string mask(std::string text, const std::vector<std::string>& masks);

// `text` as a regex (ECMAScript) that matches it literally, e.g. a temp path to mask.
std::string literal(const std::string& text);

// Compares `actual` with tests/cli/golden/<name> under `source_dir` (numbers to 1e-9
// relative: a double's last printed digits depend on the machine's libm); on a difference
// returns a message with the first differing line of each (empty when equal). With
// JP_UPDATE_GOLDEN=1 in the environment, writes the file and returns "".
std::string golden_diff(const std::string& source_dir, const std::string& name, const std::string& actual);

}  // namespace jouleperf::testing

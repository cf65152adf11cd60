// Runs a program to its end and captures what it printed: for the scheduler clients
// jouleperf drives (sbatch, scontrol). No shell: argv[0] is looked up in PATH
// (posix_spawnp), and every argument is passed as is.
#pragma once

#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

struct ProcessOutput {
  int exit_code = 0;  // the program's exit status; 128 + N when killed by signal N
  std::string out;    // its standard output
  std::string err;    // its standard error
};

// Runs `argv` (argv[0] the program) with stdin from /dev/null and waits for it. A program
// that runs and fails is not an error: its exit code and output are returned. Fails with
// kNotFound when argv[0] cannot be found or executed ("sbatch: not found in PATH"),
// kInvalidArgument for an empty argv, kIo when a pipe or the spawn fails otherwise.
Result<ProcessOutput> run_process(const std::vector<std::string>& argv);

}  // namespace jouleperf

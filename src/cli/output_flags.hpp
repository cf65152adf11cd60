// The output flags every command shares (-o/--output, --output-file, --json) and the one
// place a command's Document is written; the one fail() that turns an Error into the
// documented exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"

namespace jouleperf::cli {

struct OutputFlags {
  std::string output = "console";  // -o/--output: console|md|csv|json|jsonl
  std::string file;                // --output-file: write there instead of stdout
  bool json = false;               // --json: a synonym of -o json
};

// Where an old meaning of -o/--output is still accepted (a file path or a count before
// the flag named the output format): called with the value when it is not a format name;
// returns true when it took the value (silently: old scripts keep working unchanged).
using LegacyOutput = std::function<bool(const std::string&)>;

// The legacy meaning of `--output N` in the commands whose --output was the number of
// generated tokens (now --output-tokens/-O): takes a whole number into `tokens`.
LegacyOutput legacy_output_tokens(std::uint32_t& tokens);
LegacyOutput legacy_output_tokens(std::uint64_t& tokens);

// Adds -o/--output, --output-file and --json to `cmd`. `with_json_switch` false leaves
// --json to the command (one whose --json took a file before keeps that meaning).
void add_output_flags(CLI::App* cmd, OutputFlags& flags, bool with_json_switch = true);

// The chosen format (--json wins over -o); a value that is no format and that `legacy`
// does not take is kInvalidArgument naming the choices.
Result<table::Format> output_format(const OutputFlags& flags, std::string_view command,
                                    const LegacyOutput& legacy = {});

// Renders `doc` and writes it to stdout or --output-file (atomically). Returns kExitOk,
// or kExitFailure after printing why the file could not be written.
int emit(const OutputFlags& flags, table::Format format, const table::Document& doc, std::string_view command);

// Writes text to stdout or --output-file (appending after the first call for a file);
// for rows streamed as they finish.
class OutputSink {
 public:
  explicit OutputSink(const OutputFlags& flags);
  ~OutputSink();
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;
  // False with a reason when --output-file cannot be opened.
  Status open();
  void write(std::string_view text);

 private:
  std::string file_;
  std::FILE* f_ = nullptr;
};

// "jouleperf <command>: <error>" on stderr; returns kExitUsage for an invalid argument
// (and, where `parse_is_usage`, for malformed input), kExitFailure otherwise.
int fail(std::string_view command, const Error& e, bool parse_is_usage = false);

}  // namespace jouleperf::cli

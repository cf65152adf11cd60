#include "output_flags.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"

namespace jouleperf::cli {

void add_output_flags(CLI::App* cmd, OutputFlags& flags, bool with_json_switch) {
  cmd->add_option("-o,--output", flags.output, "Output format: console|md|csv|json|jsonl")
      ->capture_default_str()
      ->envname("JOULEPERF_OUTPUT");
  cmd->add_option("--output-file", flags.file, "Write the output to FILE instead of stdout");
  if (with_json_switch) cmd->add_flag("--json", flags.json, "Same as -o json")->envname("JOULEPERF_JSON");
}

Result<table::Format> output_format(const OutputFlags& flags, std::string_view command, const LegacyOutput& legacy) {
  (void)command;
  auto f = table::parse_format(flags.output);
  // The old meaning is taken silently: scripts written for it keep working unchanged.
  if (!f && !(legacy && legacy(flags.output))) return f.error();
  if (flags.json) return table::Format::kJson;
  return f ? *f : table::Format::kConsole;
}

namespace {

template <class Count>
LegacyOutput legacy_count(Count& tokens) {
  return [&tokens](const std::string& value) {
    if (value.empty() || value.size() > 9 || value.find_first_not_of("0123456789") != std::string::npos) return false;
    tokens = static_cast<Count>(std::stoul(value));
    return true;
  };
}

}  // namespace

LegacyOutput legacy_output_tokens(std::uint32_t& tokens) { return legacy_count(tokens); }
LegacyOutput legacy_output_tokens(std::uint64_t& tokens) { return legacy_count(tokens); }

int emit(const OutputFlags& flags, table::Format format, const table::Document& doc, std::string_view command) {
  const std::string text = table::render(doc, format);
  if (flags.file.empty() || flags.file == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return kExitOk;
  }
  if (auto st = write_file_atomic(flags.file, text); !st) return fail(command, st.error());
  return kExitOk;
}

OutputSink::OutputSink(const OutputFlags& flags) : file_(flags.file == "-" ? "" : flags.file) {}

OutputSink::~OutputSink() {
  if (f_ != nullptr) std::fclose(f_);
}

Status OutputSink::open() {
  if (file_.empty()) return {};
  f_ = std::fopen(file_.c_str(), "w");
  if (f_ == nullptr) return make_error(Errc::kIo, "cannot write " + file_ + ": " + std::strerror(errno));
  return {};
}

void OutputSink::write(std::string_view text) {
  std::FILE* out = f_ != nullptr ? f_ : stdout;
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

int fail(std::string_view command, const Error& e, bool parse_is_usage) {
  std::cerr << "jouleperf " << command << ": " << e.to_string() << "\n";
  const bool usage = e.code == Errc::kInvalidArgument || (parse_is_usage && e.code == Errc::kParse);
  return usage ? kExitUsage : kExitFailure;
}

}  // namespace jouleperf::cli

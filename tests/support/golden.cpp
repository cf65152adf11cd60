#include "support/golden.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string_view>

#include "support/temp_dir.hpp"

namespace jouleperf::testing {

namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string line_of(const std::string& text, std::size_t n) {
  std::istringstream in(text);
  std::string line;
  for (std::size_t i = 0; i <= n && std::getline(in, line); ++i) {
  }
  return line;
}

// Equal but for the last digits of numbers: the text between numbers is the same and each
// pair of numbers agrees to 1e-9 relative. A double printed at full precision can differ
// in its last digits from machine to machine (glibc picks its exp/log/pow by the CPU: the
// FMA variants round differently), which is not a change of output.
bool same_to_rounding(const std::string& expected, const std::string& actual) {
  static const std::regex number(R"(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  auto e = std::sregex_iterator(expected.begin(), expected.end(), number);
  auto a = std::sregex_iterator(actual.begin(), actual.end(), number);
  const std::sregex_iterator end;
  std::size_t ep = 0, ap = 0;
  for (; e != end && a != end; ++e, ++a) {
    if (expected.compare(ep, static_cast<std::size_t>(e->position()) - ep, actual, ap,
                         static_cast<std::size_t>(a->position()) - ap) != 0)
      return false;
    const double x = std::strtod(e->str().c_str(), nullptr), y = std::strtod(a->str().c_str(), nullptr);
    if (std::abs(x - y) > 1e-9 * std::max(std::abs(x), std::abs(y))) return false;
    ep = static_cast<std::size_t>(e->position() + e->length());
    ap = static_cast<std::size_t>(a->position() + a->length());
  }
  return e == end && a == end && expected.compare(ep, std::string::npos, actual, ap, std::string::npos) == 0;
}

}  // namespace

CliRun run_program(const std::string& program, const std::string& args) {
  TempDir dir;
  const auto err_path = dir.path() / "stderr";
  CliRun r;
  const std::string cmd = program + " " + args + " 2>'" + err_path.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = read_all(err_path);
  return r;
}

std::string mask(std::string text, const std::vector<std::string>& masks) {
  for (const auto& m : masks) text = std::regex_replace(text, std::regex(m), "<masked>");
  return text;
}

std::string literal(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string golden_diff(const std::string& source_dir, const std::string& name, const std::string& actual) {
  const auto path = std::filesystem::path(source_dir) / "tests" / "cli" / "golden" / name;
  const char* update = std::getenv("JP_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return "";
  }
  if (!std::filesystem::exists(path)) return "no golden file " + path.string() + " (run with JP_UPDATE_GOLDEN=1)";
  const std::string expected = read_all(path);
  if (expected == actual || same_to_rounding(expected, actual)) return "";
  std::size_t line = 0;
  for (std::size_t i = 0; i < std::min(expected.size(), actual.size()) && expected[i] == actual[i]; ++i)
    if (expected[i] == '\n') ++line;
  return "output differs from " + path.string() + " at line " + std::to_string(line + 1) +
         ":\n  golden: " + line_of(expected, line) + "\n  actual: " + line_of(actual, line) +
         "\n(JP_UPDATE_GOLDEN=1 rewrites the golden files; review the diff)";
}

}  // namespace jouleperf::testing

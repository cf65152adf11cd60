#include "jouleperf/engine/prompt.hpp"

namespace jouleperf {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::vector<std::int32_t> random_prompt(const std::vector<std::int32_t>& allowed, std::uint64_t length,
                                        std::uint64_t seed, std::uint64_t sequence, std::optional<std::int32_t> first) {
  std::vector<std::int32_t> out;
  out.reserve(length);
  if (length == 0 || allowed.empty()) return out;
  std::uint64_t state = seed;
  state = splitmix64(state) ^ (sequence * 0xd1b54a32d192ed03ULL);
  if (first) out.push_back(*first);
  const std::uint64_t n = allowed.size();
  while (out.size() < length) {
    // The modulo's bias is below n / 2^64: immaterial for vocabularies.
    out.push_back(allowed[static_cast<std::size_t>(splitmix64(state) % n)]);
  }
  return out;
}

std::vector<std::int32_t> fit_prompt(const std::vector<std::vector<std::int32_t>>& prompts,
                                     const std::vector<std::int32_t>& separator, std::uint64_t offset,
                                     std::uint64_t sequence, std::uint64_t length, std::optional<std::int32_t> first) {
  std::vector<std::int32_t> out;
  if (length == 0 || prompts.empty()) return out;
  out.reserve(length);
  if (first) out.push_back(*first);
  const std::uint64_t n = prompts.size();
  // Prompts are never empty (the engine refuses one that tokenizes to nothing), but a
  // bound keeps a bad caller from looping forever.
  std::uint64_t k = (offset % n + sequence % n) % n;
  for (std::uint64_t taken = 0; out.size() < length && taken <= length + n; ++taken, k = (k + 1) % n) {
    if (taken > 0) out.insert(out.end(), separator.begin(), separator.end());
    out.insert(out.end(), prompts[static_cast<std::size_t>(k)].begin(), prompts[static_cast<std::size_t>(k)].end());
  }
  if (out.size() > length) out.resize(length);
  return out;
}

}  // namespace jouleperf

// CUDA_VISIBLE_DEVICES's entries matched against the GPUs NVML sees.
#include "jouleperf/sensor/nvml_visible.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace jouleperf {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "NVML sees 0: GPU-..., 1: GPU-..." for messages.
std::string list_gpus(const std::vector<NvmlGpuId>& gpus) {
  if (gpus.empty()) return "NVML sees no GPU";
  std::string out = "NVML sees ";
  for (const auto& g : gpus) {
    if (&g != &gpus.front()) out += ", ";
    out += fmt::format("{}: {}", g.index, g.uuid.empty() ? std::string("(UUID unavailable)") : g.uuid);
  }
  return out;
}

Error entry_error(Errc code, std::string_view entry, std::string_view why) {
  return make_error(code, fmt::format("CUDA_VISIBLE_DEVICES entry '{}': {}", entry, why));
}

// The NVML index of one UUID entry: the one GPU whose UUID begins with it.
Result<unsigned> match_uuid(std::string_view entry, const std::vector<NvmlGpuId>& gpus) {
  std::vector<unsigned> hits;
  for (const auto& g : gpus)
    if (!g.uuid.empty() && std::string_view(g.uuid).substr(0, entry.size()) == entry) hits.push_back(g.index);
  if (hits.size() == 1) return hits.front();
  if (hits.empty())
    return entry_error(Errc::kNotFound, entry,
                       "no GPU on this node has this UUID (" + list_gpus(gpus) + "; nvidia-smi -L lists them)");
  return entry_error(Errc::kInvalidArgument, entry,
                     fmt::format("{} GPUs' UUIDs begin with it; give enough of the UUID to name one", hits.size()));
}

// One entry: its NVML index, or nullopt for a negative number (the list ends there).
Result<std::optional<unsigned>> match_entry(std::string_view entry, const std::vector<NvmlGpuId>& gpus) {
  if (entry.substr(0, 4) == "MIG-")
    return entry_error(Errc::kUnsupported, entry,
                       "a MIG instance: NVML measures the energy of the whole GPU, not of an instance; restrict "
                       "the shard to whole GPUs (their indices or UUIDs, nvidia-smi -L)");
  if (entry.substr(0, 4) == "GPU-") {
    auto index = match_uuid(entry, gpus);
    if (!index) return index.error();
    return std::optional<unsigned>(*index);
  }
  long long n = 0;
  const auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), n);
  if (entry.empty() || ec != std::errc() || end != entry.data() + entry.size())
    return entry_error(Errc::kInvalidArgument, entry, "neither a GPU index, a GPU UUID (GPU-...) nor a MIG id");
  if (n < 0) return std::optional<unsigned>{};
  const auto it = std::find_if(gpus.begin(), gpus.end(), [&](const NvmlGpuId& g) { return g.index == n; });
  if (it == gpus.end()) return entry_error(Errc::kNotFound, entry, "no GPU has this index (" + list_gpus(gpus) + ")");
  return std::optional<unsigned>(it->index);
}

}  // namespace

Result<std::vector<unsigned>> select_visible_gpus(std::string_view visible, const std::vector<NvmlGpuId>& gpus) {
  std::vector<unsigned> out;
  if (trim(visible).empty()) return out;
  while (true) {
    const std::size_t comma = visible.find(',');
    const std::string_view entry = trim(visible.substr(0, comma));
    auto index = match_entry(entry, gpus);
    if (!index) return index.error();
    if (!*index) break;  // a negative number ends the list, as in CUDA
    if (std::find(out.begin(), out.end(), **index) != out.end())
      return entry_error(Errc::kInvalidArgument, entry,
                         fmt::format("names GPU {} a second time; each GPU may appear once", **index));
    out.push_back(**index);
    if (comma == std::string_view::npos) break;
    visible.remove_prefix(comma + 1);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace jouleperf

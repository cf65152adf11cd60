#include "jouleperf/sensor/rapl_zones.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <filesystem>
#include <optional>
#include <set>

#include "jouleperf/core/text.hpp"

namespace jouleperf {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMsrType = "intel-rapl";
constexpr std::string_view kMmioType = "intel-rapl-mmio";
constexpr std::size_t kMaxDepth = 8;  // real trees have 2 levels; a guard against odd copies

Error no_zones_error(const std::string& root, const std::string& why) {
  return make_error(Errc::kNotFound,
                    why +
                        "; load the RAPL driver (`sudo modprobe intel_rapl_msr`, which pulls in intel_rapl_common; "
                        "Intel Sandy Bridge or later, AMD Zen with Linux 5.8 or later) and check " +
                        root + " again. Virtual machines rarely expose RAPL.");
}

bool is_prefix_of(const std::vector<std::uint32_t>& parent, const std::vector<std::uint32_t>& child) {
  return child.size() == parent.size() + 1 && std::equal(parent.begin(), parent.end(), child.begin());
}

struct Walker {
  std::vector<SensorProblem>& problems;
  std::vector<RaplZone> zones;
  std::set<std::string> seen_ids;
  std::set<std::string> seen_real;
  std::deque<std::size_t> to_descend;  // zones whose directories are not yet listed

  // Lists `dir`; returns false (with `ec` set) when the directory cannot be listed.
  bool list(const fs::path& dir, std::vector<fs::path>& out, std::error_code& ec) {
    out.clear();
    fs::directory_iterator it(dir, ec);
    if (ec) return false;
    for (; it != fs::directory_iterator(); it.increment(ec)) out.push_back(it->path());
    if (ec) return false;
    std::sort(out.begin(), out.end());
    return true;
  }

  // Records the zone at `path` unless it was already seen. `parent` restricts which
  // ids are accepted (children of that zone only) when set.
  void consider(const fs::path& path, const RaplZoneId* parent) {
    const std::string dir_name = path.filename().string();
    auto id = parse_rapl_zone_id(dir_name);
    if (!id) return;
    if (parent != nullptr && (id->interface != parent->interface || !is_prefix_of(parent->index, id->index))) return;
    if (id->index.size() > kMaxDepth) return;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) return;  // follows symlinks; a dangling link is skipped
    if (seen_ids.count(dir_name) != 0) return;
    fs::path real = fs::canonical(path, ec);
    const std::string real_s = ec ? path.lexically_normal().string() : real.string();
    if (seen_real.count(real_s) != 0) return;
    seen_ids.insert(dir_name);
    seen_real.insert(real_s);
    RaplZone z;
    z.id = dir_name;
    z.parsed = std::move(id).value();
    z.path = path.string();
    z.real_path = real_s;
    zones.push_back(std::move(z));
    to_descend.push_back(zones.size() - 1);
  }

  void descend_all() {
    std::vector<fs::path> entries;
    while (!to_descend.empty()) {
      const std::size_t i = to_descend.front();
      to_descend.pop_front();
      const fs::path dir = zones[i].path;
      const RaplZoneId parent = zones[i].parsed;
      std::error_code ec;
      if (!list(dir, entries, ec)) {
        problems.push_back({"rapl", dir.string(), errno_error(ec.value(), "cannot list RAPL zone " + dir.string())});
        continue;
      }
      for (const auto& e : entries) consider(e, &parent);
    }
  }
};

std::optional<std::string> package_key(const std::string& name) {
  constexpr std::string_view kPrefix = "package-";
  if (name.size() <= kPrefix.size() || name.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  return name.substr(kPrefix.size());  // "0", or "0-die-1" on multi-die parts
}

const RaplZone* find_parent(const std::vector<RaplZone>& zones, const RaplZone& z) {
  if (z.parsed.index.size() < 2) return nullptr;
  for (const auto& p : zones) {
    if (p.parsed.interface == z.parsed.interface && is_prefix_of(p.parsed.index, z.parsed.index)) return &p;
  }
  return nullptr;
}

// Keeps [a-z0-9-] so an unexpected kernel name cannot break a domain string.
std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    out.push_back(ok ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '-');
  }
  return out;
}

void assign_domains(std::vector<RaplZone>& zones) {
  std::uint32_t top_level_psys[2] = {0, 0};
  for (auto& z : zones) {
    const RaplZone* parent = find_parent(zones, z);
    std::string key = std::to_string(z.parsed.index.front());
    if (parent != nullptr) {
      if (auto k = package_key(parent->name)) key = *k;
    }
    z.in_total = false;
    if (auto own = package_key(z.name)) {
      z.domain = "cpu-package:" + *own;
      z.in_total = true;
    } else if (z.name == "dram") {
      z.domain = "dram:" + key;
      z.in_total = true;
    } else if (z.name == "core") {
      z.domain = "cpu-core:" + key;
      z.note = "core (PP0) is part of its package; not added to the total";
    } else if (z.name == "uncore") {
      z.domain = "cpu-uncore:" + key;
      z.note = "uncore (PP1, usually the integrated GPU) is part of its package; not added to the total";
    } else if (z.name == "psys") {
      if (parent == nullptr) {
        key = std::to_string(top_level_psys[z.parsed.interface == RaplInterface::kMmio ? 1 : 0]++);
      }
      z.domain = "psys:" + key;
      z.note = "psys (platform) overlaps the package and DRAM domains; not added to the total";
    } else {
      z.domain = "rapl-" + sanitize(z.name) + ":" + key;
      z.note = "unknown RAPL domain '" + z.name + "'; not added to the total";
    }
  }
  // An MMIO zone that duplicates an MSR zone (same domain) is kept for the record but
  // not counted twice.
  for (auto& z : zones) {
    if (z.parsed.interface != RaplInterface::kMmio) continue;
    for (const auto& m : zones) {
      if (m.parsed.interface != RaplInterface::kMsr || m.domain != z.domain) continue;
      const auto colon = z.domain.find(':');
      z.domain = z.domain.substr(0, colon) + "-mmio" + z.domain.substr(colon);
      z.in_total = false;
      z.note = "MMIO view of the same counter as " + m.id + "; not added to the total";
      break;
    }
  }
}

}  // namespace

std::string_view rapl_interface_name(RaplInterface i) { return i == RaplInterface::kMmio ? "mmio" : "msr"; }

Result<RaplZoneId> parse_rapl_zone_id(std::string_view dir_name) {
  RaplZoneId id;
  std::string_view rest;
  if (dir_name.substr(0, kMmioType.size() + 1) == std::string(kMmioType) + ":") {
    id.interface = RaplInterface::kMmio;
    rest = dir_name.substr(kMmioType.size() + 1);
  } else if (dir_name.substr(0, kMsrType.size() + 1) == std::string(kMsrType) + ":") {
    id.interface = RaplInterface::kMsr;
    rest = dir_name.substr(kMsrType.size() + 1);
  } else {
    return make_error(Errc::kParse, "not a RAPL zone directory: '" + std::string(dir_name) + "'");
  }
  while (true) {
    const auto colon = rest.find(':');
    const std::string_view part = rest.substr(0, colon);
    std::uint32_t v = 0;
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || p != part.data() + part.size())
      return make_error(Errc::kParse, "not a RAPL zone directory: '" + std::string(dir_name) + "'");
    id.index.push_back(v);
    if (colon == std::string_view::npos) break;
    rest = rest.substr(colon + 1);
  }
  return id;
}

Result<std::vector<RaplZone>> find_rapl_zones(const std::string& root, std::vector<SensorProblem>& problems) {
  const fs::path root_path(root);
  std::error_code ec;
  const bool exists = fs::exists(root_path, ec);
  if (ec && ec.value() != ENOENT) return errno_error(ec.value(), "cannot look at powercap root " + root);
  if (!exists) return no_zones_error(root, "no powercap directory at " + root);
  if (!fs::is_directory(root_path, ec)) return no_zones_error(root, root + " is not a directory");

  Walker w{problems, {}, {}, {}, {}};
  std::vector<fs::path> entries;
  if (!w.list(root_path, entries, ec)) return errno_error(ec.value(), "cannot list powercap root " + root);
  std::vector<fs::path> control_types;
  for (const auto& e : entries) {
    const std::string n = e.filename().string();
    if (n == kMsrType || n == kMmioType) control_types.push_back(e);
    w.consider(e, nullptr);
  }
  // A /sys/devices/virtual/powercap root holds zones only inside the control types;
  // under /sys/class/powercap this finds the zones already seen through the symlinks.
  for (const auto& ct : control_types) {
    std::vector<fs::path> inner;
    if (!w.list(ct, inner, ec)) {
      problems.push_back({"rapl", ct.string(), errno_error(ec.value(), "cannot list " + ct.string())});
      continue;
    }
    for (const auto& e : inner) {
      auto id = parse_rapl_zone_id(e.filename().string());
      if (id && id->index.size() == 1) w.consider(e, nullptr);
    }
  }
  w.descend_all();
  if (w.zones.empty()) {
    return no_zones_error(root, "no RAPL zone (intel-rapl:N or intel-rapl-mmio:N) under " + root);
  }

  std::sort(w.zones.begin(), w.zones.end(), [](const RaplZone& a, const RaplZone& b) {
    if (a.parsed.interface != b.parsed.interface) return a.parsed.interface < b.parsed.interface;
    return a.parsed.index < b.parsed.index;
  });

  std::vector<RaplZone> named;
  named.reserve(w.zones.size());
  for (auto& z : w.zones) {
    const std::string file = z.path + "/name";
    auto text = read_text_file(file);
    if (!text) {
      problems.push_back({"rapl", z.path, text.error()});
      continue;
    }
    z.name = std::string(trim(*text));
    if (z.name.empty()) {
      problems.push_back({"rapl", z.path, make_error(Errc::kParse, file + ": empty zone name")});
      continue;
    }
    named.push_back(std::move(z));
  }
  assign_domains(named);
  return named;
}

}  // namespace jouleperf

// The built-in hardware profiles and a registry that adds user profiles from JSON files
// and looks profiles up by name. No global state: a registry is an object passed down.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/profile.hpp"

namespace jouleperf::hardware {

// The built-in profiles (datasheet figures, sources in HardwareProfile::sources):
// GPUs a6000, a100-pcie, a100-sxm, rtx-6000-ada, l40s, h100-sxm, h100-pcie, h200, b200;
// CPUs epyc-7763, epyc-9654, xeon-8480.
std::vector<HardwareProfile> builtin_profiles();

class HardwareRegistry {
 public:
  // A registry holding the built-in profiles.
  HardwareRegistry();

  // Adds a profile. A name (or alias) already taken fails with kInvalidArgument unless
  // `replace` is set; an invalid profile fails as validate_profile does.
  Status add(HardwareProfile profile, bool replace = false);

  // Adds every profile of a JSON file (format in docs/simulator.md; a profile may start
  // from a built-in with "based_on"). Profiles of the file replace built-ins of the same
  // name. Fails with kNotFound / kPermissionDenied / kIo reading the file, kParse for bad
  // JSON or a field of the wrong type, kInvalidArgument for an invalid profile; on failure
  // nothing is added.
  Status load_file(const std::string& path);

  // The profile called `name` (case-insensitive; ' ' and '_' match '-'; aliases such as
  // "h100" for "h100-sxm" accepted). kNotFound listing the known names otherwise.
  Result<HardwareProfile> find(std::string_view name) const;

  // All profiles, built-ins first, in insertion order.
  const std::vector<HardwareProfile>& profiles() const { return profiles_; }

 private:
  std::vector<HardwareProfile> profiles_;
};

}  // namespace jouleperf::hardware

// The chart scripts the HTML report inlines: Vega, Vega-Lite and vega-embed, packed from
// the npm registry at build time (scripts/fetch_vega.sh, pinned and checksummed in
// third_party/vega.lock) and compiled into the program. Nothing is fetched at run time.
#pragma once

#include <span>
#include <string_view>

namespace jouleperf::report {

struct ScriptAsset {
  std::string_view name;     // npm package: "vega", "vega-lite", "vega-embed"
  std::string_view version;  // exact version from the lock
  std::string_view text;     // build/<name>.min.js, UTF-8
};

// The three scripts in load order (vega, vega-lite, vega-embed). Never empty.
std::span<const ScriptAsset> chart_scripts();
// Their license (BSD-3-Clause, University of Washington Interactive Data Lab), as shipped.
std::string_view chart_scripts_license();

}  // namespace jouleperf::report

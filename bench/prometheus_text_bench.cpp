// Cost of parsing one exporter scrape: the Prometheus sensor parses a whole DCGM
// exposition every read (up to 10 per second per node).
#include <benchmark/benchmark.h>

#include <string>

#include "jouleperf/sensor/prometheus_text.hpp"

namespace {

// A DCGM exporter scrape shaped like dcgm-exporter 3.x with its default counters
// (about 20 fields) on `gpus` GPUs: HELP/TYPE per family, 7 labels per series.
std::string dcgm_scrape(int gpus) {
  static const char* kFields[] = {"DCGM_FI_DEV_SM_CLOCK",
                                  "DCGM_FI_DEV_MEM_CLOCK",
                                  "DCGM_FI_DEV_MEMORY_TEMP",
                                  "DCGM_FI_DEV_GPU_TEMP",
                                  "DCGM_FI_DEV_POWER_USAGE",
                                  "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                                  "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
                                  "DCGM_FI_DEV_GPU_UTIL",
                                  "DCGM_FI_DEV_MEM_COPY_UTIL",
                                  "DCGM_FI_DEV_ENC_UTIL",
                                  "DCGM_FI_DEV_DEC_UTIL",
                                  "DCGM_FI_DEV_XID_ERRORS",
                                  "DCGM_FI_DEV_FB_FREE",
                                  "DCGM_FI_DEV_FB_USED",
                                  "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
                                  "DCGM_FI_DEV_VGPU_LICENSE_STATUS",
                                  "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
                                  "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
                                  "DCGM_FI_DEV_ROW_REMAP_FAILURE",
                                  "DCGM_FI_PROF_GR_ENGINE_ACTIVE"};
  std::string s;
  for (const char* f : kFields) {
    s += std::string("# HELP ") + f + " Some help text (in units).\n# TYPE " + f + " gauge\n";
    for (int g = 0; g < gpus; ++g) {
      s += std::string(f) + "{gpu=\"" + std::to_string(g) + "\",UUID=\"GPU-a6158b59-2c1e-1e63-0068-9178c4298ab" +
           std::to_string(g) + "\",pci_bus_id=\"00000000:0" + std::to_string(g) + ":00.0\",device=\"nvidia" +
           std::to_string(g) +
           "\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-node-1\","
           "DCGM_FI_DRIVER_VERSION=\"550.54.15\"} " +
           std::to_string(123456.75 * (g + 1)) + "\n";
    }
  }
  return s;
}

struct Count final : jouleperf::PromVisitor {
  std::size_t n = 0;
  double sum = 0;
  void on_sample(const jouleperf::PromSampleView& s) override {
    ++n;
    sum += s.value;
  }
};

void BM_ParseDcgmScrape(benchmark::State& state) {
  const std::string text = dcgm_scrape(static_cast<int>(state.range(0)));
  std::size_t samples = 0;
  for (auto _ : state) {
    Count c;
    auto st = jouleperf::parse_prometheus_text(text, c);
    if (!st.ok()) state.SkipWithError(st.error().message.c_str());
    samples = c.n;
    benchmark::DoNotOptimize(c.sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_ParseDcgmScrape)->Arg(1)->Arg(8);

void BM_ParseDcgmScrapeOwned(benchmark::State& state) {
  const std::string text = dcgm_scrape(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto r = jouleperf::parse_prometheus_samples(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseDcgmScrapeOwned)->Arg(8);

}  // namespace

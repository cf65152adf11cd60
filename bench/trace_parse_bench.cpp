// Trace parsing throughput. The Azure conversation trace is read from
// $JOULEPERF_BENCH_TRACE, else ../shared/data/AzureLLMInferenceTrace_conv.csv relative to
// the working directory (the repository root under `make bench`); synthetic traces of
// each format are generated in memory so every loader is measured anywhere.
// scripts/trace_load_compare.py runs BM_LoadAzureConvFile next to Python's csv module.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/stats.hpp"

namespace {

using namespace jouleperf::workload;

std::string conv_trace_path() {
  if (const char* p = std::getenv("JOULEPERF_BENCH_TRACE")) return p;
  return "../shared/data/AzureLLMInferenceTrace_conv.csv";
}

// Synthetic rows shaped like each format (the lengths follow no real distribution).
std::string synthetic(TraceFormat format, std::size_t rows) {
  std::mt19937_64 rng(1);
  std::string s;
  char line[256];
  switch (format) {
    case TraceFormat::kAzure: s = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"; break;
    case TraceFormat::kBurstGpt: s = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"; break;
    default: break;
  }
  for (std::size_t i = 0; i < rows; ++i) {
    const unsigned in = 1 + static_cast<unsigned>(rng() % 8000), out = 1 + static_cast<unsigned>(rng() % 900);
    const double t = static_cast<double>(i) * 0.18;
    int n = 0;
    switch (format) {
      case TraceFormat::kAzure: {
        const int sec = static_cast<int>(t), frac = static_cast<int>((t - sec) * 1e7);
        n = std::snprintf(line, sizeof line, "2023-11-16 %02d:%02d:%02d.%07d,%u,%u\r\n", 10 + sec / 3600,
                          (sec / 60) % 60, sec % 60, frac, in, out);
        break;
      }
      case TraceFormat::kBurstGpt:
        n = std::snprintf(line, sizeof line, "%.1f,%s,%u,%u,%u,%s\n", t, i % 3 ? "ChatGPT" : "GPT-4", in, out, in + out,
                          i % 2 ? "Conversation log" : "API log");
        break;
      default:
        n = std::snprintf(line, sizeof line,
                          "{\"timestamp\": %u, \"input_length\": %u, \"output_length\": %u, \"hash_ids\": [%zu, %zu, "
                          "%zu]}\n",
                          static_cast<unsigned>(t * 1000), in, out, i, i + 1, i + 2);
        break;
    }
    s.append(line, static_cast<std::size_t>(n));
  }
  return s;
}

void count_requests(benchmark::State& state, std::uint64_t requests, std::uint64_t bytes) {
  state.counters["requests"] = static_cast<double>(requests);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * requests));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// The real trace from disk (page cache warm after the first iteration), as `trace` loads it.
void BM_LoadAzureConvFile(benchmark::State& state) {
  const std::string path = conv_trace_path();
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) {
    state.SkipWithError(("no trace at " + path + " (set JOULEPERF_BENCH_TRACE)").c_str());
    return;
  }
  std::uint64_t n = 0, tokens = 0;
  for (auto _ : state) {
    n = tokens = 0;
    auto sum = load_trace(path, {}, [&](const Request& r) {
      ++n;
      tokens += r.input_tokens + r.output_tokens;
    });
    if (!sum.ok()) {
      state.SkipWithError(sum.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(tokens);
  }
  count_requests(state, n, bytes);
}
BENCHMARK(BM_LoadAzureConvFile)->Unit(benchmark::kMillisecond);

// Loading plus the full statistics (sorting for percentiles, arrival series).
void BM_TraceStatsAzureConvFile(benchmark::State& state) {
  const std::string path = conv_trace_path();
  if (!std::filesystem::exists(path)) {
    state.SkipWithError(("no trace at " + path).c_str());
    return;
  }
  for (auto _ : state) {
    auto s = compute_trace_stats(path, {});
    if (!s.ok()) {
      state.SkipWithError(s.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(s->input->p99);
  }
}
BENCHMARK(BM_TraceStatsAzureConvFile)->Unit(benchmark::kMillisecond);

void BM_LoadFromMemory(benchmark::State& state, TraceFormat format) {
  const std::string data = synthetic(format, static_cast<std::size_t>(state.range(0)));
  std::uint64_t n = 0;
  for (auto _ : state) {
    n = 0;
    auto sum = load_trace_from_memory(data, "bench", {}, [&](const Request&) { ++n; });
    if (!sum.ok()) {
      state.SkipWithError(sum.error().to_string().c_str());
      return;
    }
  }
  count_requests(state, n, data.size());
}
BENCHMARK_CAPTURE(BM_LoadFromMemory, azure, TraceFormat::kAzure)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LoadFromMemory, burstgpt, TraceFormat::kBurstGpt)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LoadFromMemory, mooncake, TraceFormat::kMooncake)->Arg(100000)->Unit(benchmark::kMillisecond);

// A gzip-compressed synthetic Azure trace read through zlib.
void BM_LoadAzureGzipFile(benchmark::State& state) {
  const std::string data = synthetic(TraceFormat::kAzure, static_cast<std::size_t>(state.range(0)));
  const auto path = std::filesystem::temp_directory_path() / "jouleperf-bench-trace.csv.gz";
  gzFile f = gzopen(path.c_str(), "wb6");
  if (f == nullptr || gzwrite(f, data.data(), static_cast<unsigned>(data.size())) != static_cast<int>(data.size()) ||
      gzclose(f) != Z_OK) {
    state.SkipWithError("cannot write the gzip file");
    return;
  }
  std::uint64_t n = 0;
  for (auto _ : state) {
    n = 0;
    auto sum = load_trace(path.string(), {}, [&](const Request&) { ++n; });
    if (!sum.ok()) {
      state.SkipWithError(sum.error().to_string().c_str());
      break;
    }
  }
  count_requests(state, n, data.size());
  std::filesystem::remove(path);
}
BENCHMARK(BM_LoadAzureGzipFile)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

// The built-in hardware profiles. Each figure is set together with its source. Vendor
// datasheets print tensor-core rates "with sparsity" (2:4 structured); jouleperf keeps
// the dense rate, half of that. Idle power is not on any datasheet: those figures are
// labelled estimates (docs/simulator.md explains them) and are the first thing a user
// with the hardware should replace with a measurement.
#include <utility>

#include "jouleperf/hardware/registry.hpp"

namespace jouleperf::hardware {
namespace {

constexpr double kT = 1e12;  // tera
constexpr double kG = 1e9;   // giga (bytes use powers of 1000, as datasheets do)
constexpr double kGiB = 1073741824.0;

// Sets a figure and records its source beside it.
class Builder {
 public:
  Builder(std::string name, std::string display, std::string vendor, DeviceKind kind) {
    p_.name = std::move(name);
    p_.display_name = std::move(display);
    p_.vendor = std::move(vendor);
    p_.kind = kind;
  }
  Builder& alias(std::string a) {
    p_.aliases.push_back(std::move(a));
    return *this;
  }
  Builder& fp32(double v, std::string src) { return set(p_.peak_flops.fp32, v, "peak_flops.fp32", src); }
  Builder& tf32(double v, std::string src) { return set(p_.peak_flops.tf32, v, "peak_flops.tf32", src); }
  Builder& bf16(double v, std::string src) { return set(p_.peak_flops.bf16, v, "peak_flops.bf16", src); }
  Builder& fp8(double v, std::string src) { return set(p_.peak_flops.fp8, v, "peak_flops.fp8", src); }
  Builder& int8(double v, std::string src) { return set(p_.peak_flops.int8, v, "peak_flops.int8", src); }
  Builder& bandwidth(double v, std::string src) { return set(p_.memory_bandwidth_bps, v, "memory_bandwidth_bps", src); }
  Builder& memory(double v, std::string src) { return set(p_.memory_bytes, v, "memory_bytes", src); }
  Builder& tdp(double v, std::string src) { return set(p_.tdp_w, v, "tdp_w", src); }
  Builder& idle(double v, std::string src) { return set(p_.idle_w, v, "idle_w", src); }
  Builder& max_clock(double mhz, std::string src) { return set(p_.max_clock_mhz, mhz, "max_clock_mhz", src); }
  Builder& link(std::string name, double bps, double latency_s, std::uint32_t max_tp, std::string src) {
    p_.tp_link = Interconnect{std::move(name), bps, latency_s};
    p_.max_tp = max_tp;
    p_.sources["tp_link"] = std::move(src);
    return *this;
  }
  HardwareProfile done() { return std::move(p_); }

 private:
  Builder& set(double& field, double v, const char* key, std::string& src) {
    field = v;
    p_.sources[key] = std::move(src);
    return *this;
  }
  HardwareProfile p_;
};

// Interconnect latencies are not on datasheets; the figure is one ring step of a small
// all-reduce, the order of NCCL's measured small-message latencies (a few microseconds
// per step over NVLink, more through the PCIe root complex).
const char* const kNvlinkLatency =
    "; latency: estimate, one all-reduce ring step over NVLink/NVSwitch ~2 us (NCCL small-message latency)";
const char* const kPcieLatency =
    "; latency: estimate, one all-reduce ring step through the PCIe root complex ~6 us; NVLink bridges "
    "(2-GPU pairs) are not modelled";
const char* const kIdleHbm =
    "estimate, not a datasheet figure: bare idle plus the +26-50 W step a CUDA context forces on HBM GPUs "
    "(Vadari, 'The Model Parking Tax', arXiv 2605.23918); replace with a measurement";
const char* const kIdleGddr =
    "estimate, not a datasheet figure: bare idle plus the +66 W step a CUDA context forces on GDDR6 GPUs "
    "(Vadari, 'The Model Parking Tax', arXiv 2605.23918); replace with a measurement";
const char* const kIdleCpu =
    "estimate, not a vendor figure: package power of an idle server with C-states enabled; replace with "
    "`jouleperf measure --idle`";

std::vector<HardwareProfile> make() {
  std::vector<HardwareProfile> v;

  // --- NVIDIA Ampere ---
  {
    const std::string ds = "NVIDIA RTX A6000 datasheet (2021)";
    const std::string wp = "NVIDIA Ampere GA102 architecture whitepaper v2.0, Appendix A (RTX A6000), dense";
    v.push_back(Builder("a6000", "NVIDIA RTX A6000 48GB", "NVIDIA", DeviceKind::kGpu)
                    .alias("rtx-a6000")
                    .fp32(38.7 * kT, ds + ": 38.7 TFLOPS FP32")
                    .tf32(77.4 * kT, wp + ": 77.4 TF32 tensor TFLOPS (154.8 sparse)")
                    .bf16(154.8 * kT, wp + ": 154.8 FP16/BF16 tensor TFLOPS, FP32 accumulate (309.7 sparse)")
                    .fp8(0.0, "Ampere has no FP8 tensor cores")
                    .int8(309.7 * kT, wp + ": 309.7 INT8 tensor TOPS (619.4 sparse)")
                    .bandwidth(768 * kG, ds + ": 768 GB/s GDDR6")
                    .memory(48 * kGiB, ds + ": 48 GB GDDR6 with ECC")
                    .tdp(300, ds + ": max power consumption 300 W")
                    .idle(70, kIdleGddr)
                    .link("PCIe 4.0 x16", 32 * kG, 6e-6, 8,
                          ds + ": PCIe 4.0 x16 (64 GB/s bidirectional, 32 GB/s per direction)" + kPcieLatency)
                    .done());
  }
  {
    const std::string ds =
        "NVIDIA A100 Tensor Core GPU datasheet (2021), A100 80GB PCIe column; tensor rates halved from the "
        "sparsity figures";
    v.push_back(
        Builder("a100-pcie", "NVIDIA A100 80GB PCIe", "NVIDIA", DeviceKind::kGpu)
            .alias("a100-80gb-pcie")
            .fp32(19.5 * kT, ds + ": 19.5 TFLOPS FP32")
            .tf32(156 * kT, ds + ": 156 TF32 TFLOPS (312 sparse)")
            .bf16(312 * kT, ds + ": 312 BF16/FP16 TFLOPS (624 sparse)")
            .fp8(0.0, "Ampere has no FP8 tensor cores")
            .int8(624 * kT, ds + ": 624 INT8 TOPS (1,248 sparse)")
            .bandwidth(1935 * kG, ds + ": 1,935 GB/s HBM2e")
            .memory(80 * kGiB, ds + ": 80 GB HBM2e")
            .tdp(300, ds + ": max TDP 300 W")
            .idle(55, kIdleHbm)
            .link("PCIe 4.0 x16", 32 * kG, 6e-6, 8, ds + ": PCIe Gen4 64 GB/s (32 GB/s per direction)" + kPcieLatency)
            .done());
  }
  {
    const std::string ds =
        "NVIDIA A100 Tensor Core GPU datasheet (2021), A100 80GB SXM column; tensor rates halved from the "
        "sparsity figures";
    v.push_back(
        Builder("a100-sxm", "NVIDIA A100 80GB SXM4", "NVIDIA", DeviceKind::kGpu)
            .alias("a100")
            .alias("a100-80gb-sxm")
            .fp32(19.5 * kT, ds + ": 19.5 TFLOPS FP32")
            .tf32(156 * kT, ds + ": 156 TF32 TFLOPS (312 sparse)")
            .bf16(312 * kT, ds + ": 312 BF16/FP16 TFLOPS (624 sparse)")
            .fp8(0.0, "Ampere has no FP8 tensor cores")
            .int8(624 * kT, ds + ": 624 INT8 TOPS (1,248 sparse)")
            .bandwidth(2039 * kG, ds + ": 2,039 GB/s HBM2e")
            .memory(80 * kGiB, ds + ": 80 GB HBM2e")
            .max_clock(
                1410,
                "NVIDIA A100 datasheet / whitepaper: boost clock 1,410 MHz (the highest supported graphics clock)")
            .tdp(400, ds + ": max TDP 400 W")
            .idle(65, kIdleHbm)
            .link("NVLink 3 (NVSwitch)", 300 * kG, 2e-6, 8,
                  ds + ": NVLink 600 GB/s (300 GB/s per direction)" + kNvlinkLatency)
            .done());
  }

  // --- NVIDIA Ada Lovelace ---
  {
    const std::string ds = "NVIDIA RTX 6000 Ada Generation datasheet";
    const std::string wp = "NVIDIA Ada Lovelace architecture whitepaper v2.1, Appendix (RTX 6000 Ada), dense";
    v.push_back(Builder("rtx-6000-ada", "NVIDIA RTX 6000 Ada Generation 48GB", "NVIDIA", DeviceKind::kGpu)
                    .alias("6000-ada")
                    .fp32(91.1 * kT, ds + ": 91.1 TFLOPS FP32")
                    .tf32(182.1 * kT, wp + ": 182.1 TF32 tensor TFLOPS (364.2 sparse)")
                    .bf16(364.2 * kT, wp + ": 364.2 FP16/BF16 tensor TFLOPS, FP32 accumulate (728.5 sparse)")
                    .fp8(728.5 * kT, wp + ": 728.5 FP8 tensor TFLOPS (1,457 sparse, the datasheet's headline)")
                    .int8(728.5 * kT, wp + ": 728.5 INT8 tensor TOPS (1,457 sparse)")
                    .bandwidth(960 * kG, ds + ": 960 GB/s GDDR6")
                    .memory(48 * kGiB, ds + ": 48 GB GDDR6 with ECC")
                    .tdp(300, ds + ": max power consumption 300 W")
                    .idle(70, kIdleGddr)
                    .link("PCIe 4.0 x16", 32 * kG, 6e-6, 8, ds + ": PCIe 4.0 x16, no NVLink" + kPcieLatency)
                    .done());
  }
  {
    const std::string ds = "NVIDIA L40S datasheet; tensor rates halved from the sparsity figures";
    v.push_back(Builder("l40s", "NVIDIA L40S 48GB", "NVIDIA", DeviceKind::kGpu)
                    .fp32(91.6 * kT, ds + ": 91.6 TFLOPS FP32")
                    .tf32(183 * kT, ds + ": 183 TF32 TFLOPS (366 sparse)")
                    .bf16(362.05 * kT, ds + ": 362.05 BF16/FP16 TFLOPS (733 sparse)")
                    .fp8(733 * kT, ds + ": 733 FP8 TFLOPS (1,466 sparse)")
                    .int8(733 * kT, ds + ": 733 INT8 TOPS (1,466 sparse)")
                    .bandwidth(864 * kG, ds + ": 864 GB/s GDDR6")
                    .memory(48 * kGiB, ds + ": 48 GB GDDR6 with ECC")
                    .tdp(350, ds + ": max power consumption 350 W")
                    .idle(100, kIdleGddr)
                    .link("PCIe 4.0 x16", 32 * kG, 6e-6, 8,
                          ds + ": PCIe Gen4 x16 64 GB/s bidirectional, no NVLink" + kPcieLatency)
                    .done());
  }

  // --- NVIDIA Hopper ---
  {
    const std::string ds =
        "NVIDIA H100 Tensor Core GPU datasheet, H100 SXM column; tensor rates halved from the sparsity figures";
    v.push_back(Builder("h100-sxm", "NVIDIA H100 SXM5 80GB", "NVIDIA", DeviceKind::kGpu)
                    .alias("h100")
                    .fp32(67 * kT, ds + ": 67 TFLOPS FP32")
                    .tf32(494.7 * kT, ds + ": 989 TF32 TFLOPS sparse -> 494.7 dense")
                    .bf16(989.4 * kT, ds + ": 1,979 BF16/FP16 TFLOPS sparse -> 989.4 dense")
                    .fp8(1978.9 * kT, ds + ": 3,958 FP8 TFLOPS sparse -> 1,978.9 dense")
                    .int8(1978.9 * kT, ds + ": 3,958 INT8 TOPS sparse -> 1,978.9 dense")
                    .bandwidth(3350 * kG, ds + ": 3.35 TB/s HBM3")
                    .memory(80 * kGiB, ds + ": 80 GB HBM3")
                    .max_clock(1980,
                               "max graphics clock 1,980 MHz: nvidia-smi -q -d CLOCK (Max Clocks) on H100 SXM5, as "
                               "third-party spec listings repeat")
                    .tdp(700, ds + ": max TDP up to 700 W (configurable)")
                    .idle(110, kIdleHbm)
                    .link("NVLink 4 (NVSwitch)", 450 * kG, 2e-6, 8,
                          ds + ": NVLink 900 GB/s (450 GB/s per direction)" + kNvlinkLatency)
                    .done());
  }
  {
    const std::string ds =
        "NVIDIA H100 Tensor Core GPU datasheet, H100 PCIe column; tensor rates halved from the sparsity figures";
    v.push_back(
        Builder("h100-pcie", "NVIDIA H100 PCIe 80GB", "NVIDIA", DeviceKind::kGpu)
            .fp32(51 * kT, ds + ": 51 TFLOPS FP32")
            .tf32(378 * kT, ds + ": 756 TF32 TFLOPS sparse -> 378 dense")
            .bf16(756.5 * kT, ds + ": 1,513 BF16/FP16 TFLOPS sparse -> 756.5 dense")
            .fp8(1513 * kT, ds + ": 3,026 FP8 TFLOPS sparse -> 1,513 dense")
            .int8(1513 * kT, ds + ": 3,026 INT8 TOPS sparse -> 1,513 dense")
            .bandwidth(2000 * kG, ds + ": 2 TB/s HBM2e")
            .memory(80 * kGiB, ds + ": 80 GB HBM2e")
            .tdp(350, ds + ": max TDP 300-350 W (350 used)")
            .idle(75, kIdleHbm)
            .link("PCIe 5.0 x16", 64 * kG, 6e-6, 8, ds + ": PCIe Gen5 128 GB/s (64 GB/s per direction)" + kPcieLatency)
            .done());
  }
  {
    const std::string ds =
        "NVIDIA H200 Tensor Core GPU datasheet, H200 SXM column; tensor rates halved from the sparsity figures";
    v.push_back(
        Builder("h200", "NVIDIA H200 SXM 141GB", "NVIDIA", DeviceKind::kGpu)
            .alias("h200-sxm")
            .fp32(67 * kT, ds + ": 67 TFLOPS FP32")
            .tf32(494.7 * kT, ds + ": 989 TF32 TFLOPS sparse -> 494.7 dense")
            .bf16(989.4 * kT, ds + ": 1,979 BF16/FP16 TFLOPS sparse -> 989.4 dense")
            .fp8(1978.9 * kT, ds + ": 3,958 FP8 TFLOPS sparse -> 1,978.9 dense")
            .int8(1978.9 * kT, ds + ": 3,958 INT8 TOPS sparse -> 1,978.9 dense")
            .bandwidth(4800 * kG, ds + ": 4.8 TB/s HBM3e")
            .memory(141 * kGiB, ds + ": 141 GB HBM3e")
            .max_clock(
                1980, "max graphics clock 1,980 MHz: the H100 SXM5 figure (same GH100 die and clock table; assumption)")
            .tdp(700, ds + ": max TDP up to 700 W (configurable)")
            .idle(115, kIdleHbm)
            .link("NVLink 4 (NVSwitch)", 450 * kG, 2e-6, 8,
                  ds + ": NVLink 900 GB/s (450 GB/s per direction)" + kNvlinkLatency)
            .done());
  }

  // --- NVIDIA Blackwell ---
  {
    const std::string ds =
        "NVIDIA HGX B200 datasheet, per GPU of the 8-GPU board at 1,000 W (dense = half the sparse figures; "
        "tabulated per GPU by G. Lockwood, glennklockwood.com/garden/processors/B200)";
    v.push_back(Builder("b200", "NVIDIA B200 (HGX) 180GB", "NVIDIA", DeviceKind::kGpu)
                    .fp32(80 * kT, ds + ": 80 TFLOPS FP32")
                    .tf32(1100 * kT, ds + ": 1.1 PFLOPS TF32 dense (2.2 sparse)")
                    .bf16(2250 * kT, ds + ": 2.25 PFLOPS BF16/FP16 dense (4.5 sparse)")
                    .fp8(4500 * kT, ds + ": 4.5 PFLOPS FP8 dense (9 sparse)")
                    .int8(4500 * kT, ds + ": 4.5 POPS INT8 dense (9 sparse)")
                    .bandwidth(8000 * kG, ds + ": 8 TB/s HBM3e")
                    .memory(180 * kGiB, ds + ": 1,440 GB HBM3e per 8-GPU board = 180 GB per GPU")
                    .tdp(1000, ds + ": 1,000 W per GPU (HGX B200)")
                    .idle(150, kIdleHbm)
                    .link("NVLink 5 (NVSwitch)", 900 * kG, 2e-6, 8,
                          ds + ": NVLink 5 1.8 TB/s per GPU (900 GB/s per direction)" + kNvlinkLatency)
                    .done());
  }

  // --- Server CPUs (llama.cpp-style inference on the cores). Peak rates are derived
  // from the core count, the base clock and the vector/matrix units' per-cycle work. ---
  {
    const std::string ds =
        "AMD EPYC 7763 product page (amd.com): 64 cores, 2.45 GHz base, 280 W default TDP, "
        "8 channels DDR4-3200";
    v.push_back(Builder("epyc-7763", "AMD EPYC 7763 (64-core Zen 3)", "AMD", DeviceKind::kCpu)
                    .fp32(5.02 * kT, "derived from " + ds +
                                         ": Zen 3 has 2 x 256-bit FMA pipes = 32 FP32 FLOP/cycle/core; 64 cores x "
                                         "2.45 GHz x 32 = 5.02 TFLOP/s at base clock")
                    .tf32(0.0, "no TF32 unit")
                    .bf16(0.0, "Zen 3 has no native BF16 arithmetic (no AVX-512 BF16): runs at the FP32 rate")
                    .fp8(0.0, "no FP8 unit")
                    .int8(0.0, "Zen 3 has no VNNI/AMX int8 dot-product unit: not modelled as a separate peak")
                    .bandwidth(204.8 * kG, ds + ": 8 x DDR4-3200 x 8 bytes = 204.8 GB/s")
                    .memory(512 * kGiB, "configured DRAM, assumption: 8 x 64 GiB DIMMs (one per channel)")
                    .tdp(280, ds + ": default TDP 280 W")
                    .idle(95, kIdleCpu)
                    .link("none", 0.0, 0.0, 1, "one socket; tensor parallelism across sockets is not modelled")
                    .done());
  }
  {
    const std::string ds =
        "AMD EPYC 9654 product page (amd.com): 96 cores, 2.4 GHz base, 360 W default TDP, "
        "12 channels DDR5-4800";
    v.push_back(Builder("epyc-9654", "AMD EPYC 9654 (96-core Zen 4)", "AMD", DeviceKind::kCpu)
                    .fp32(7.37 * kT, "derived from " + ds +
                                         ": Zen 4 runs AVX-512 on 2 x 256-bit FMA pipes = 32 FP32 FLOP/cycle/core; "
                                         "96 x 2.4 GHz x 32 = 7.37 TFLOP/s at base clock")
                    .tf32(0.0, "no TF32 unit")
                    .bf16(14.75 * kT,
                          "derived: AVX512_BF16 VDPBF16PS does 2 BF16 products per FP32 lane, twice "
                          "the FP32 rate: 14.75 TFLOP/s")
                    .fp8(0.0, "no FP8 unit")
                    .int8(29.5 * kT,
                          "derived: AVX512_VNNI VPDPBUSD, 4 int8 products per 32-bit lane on 2 x "
                          "256-bit pipes = 128 OP/cycle/core; 96 x 2.4 GHz x 128 = 29.5 TOPS")
                    .bandwidth(460.8 * kG, ds + ": 12 x DDR5-4800 x 8 bytes = 460.8 GB/s")
                    .memory(768 * kGiB, "configured DRAM, assumption: 12 x 64 GiB DIMMs (one per channel)")
                    .tdp(360, ds + ": default TDP 360 W")
                    .idle(110, kIdleCpu)
                    .link("none", 0.0, 0.0, 1, "one socket; tensor parallelism across sockets is not modelled")
                    .done());
  }
  {
    const std::string ds =
        "Intel Xeon Platinum 8480+ (ark.intel.com): 56 cores, 2.0 GHz base, 350 W TDP, "
        "8 channels DDR5-4800, AMX";
    v.push_back(Builder("xeon-8480", "Intel Xeon Platinum 8480+ (56-core Sapphire Rapids)", "Intel", DeviceKind::kCpu)
                    .alias("xeon-platinum-8480+")
                    .alias("xeon-8480+")
                    .fp32(7.17 * kT, "derived from " + ds +
                                         ": 2 AVX-512 FMA units = 64 FP32 FLOP/cycle/core; 56 x 2.0 GHz x 64 = "
                                         "7.17 TFLOP/s at base clock")
                    .tf32(0.0, "no TF32 unit")
                    .bf16(114.7 * kT,
                          "derived: Intel AMX (TMUL) does 1,024 BF16 FLOP/cycle/core (Intel AMX "
                          "overview); 56 x 2.0 GHz x 1,024 = 114.7 TFLOP/s")
                    .fp8(0.0, "no FP8 unit")
                    .int8(229.4 * kT,
                          "derived: Intel AMX does 2,048 INT8 OP/cycle/core; 56 x 2.0 GHz x 2,048 = "
                          "229.4 TOPS")
                    .bandwidth(307.2 * kG, ds + ": 8 x DDR5-4800 x 8 bytes = 307.2 GB/s")
                    .memory(512 * kGiB, "configured DRAM, assumption: 8 x 64 GiB DIMMs (one per channel)")
                    .tdp(350, ds + ": TDP 350 W")
                    .idle(105, kIdleCpu)
                    .link("none", 0.0, 0.0, 1, "one socket; tensor parallelism across sockets is not modelled")
                    .done());
  }
  return v;
}

}  // namespace

std::vector<HardwareProfile> builtin_profiles() { return make(); }

}  // namespace jouleperf::hardware

// Expositions shaped like what the real exporters serve (label sets, HELP/TYPE lines,
// neighbouring metrics), with the energy values a test chooses.
//  - DCGM exporter 3.x with the default counters CSV: per-GPU series labelled gpu, UUID,
//    pci_bus_id, device, modelName, Hostname; energy in mJ (counter), power in W (gauge).
//  - node exporter's rapl collector: node_rapl_<zone>_joules_total{index,path}, values
//    energy_uj / 1e6, one series per /sys/class/powercap zone (core, uncore, psys and the
//    intel-rapl-mmio duplicate of package-0 included, as on real machines).
//  - Kepler <= 0.7: kepler_node_<component>_joules_total{instance,mode,package?,source}.
//  - Kepler >= 0.10: kepler_node_cpu_joules_total{zone,path,node_name}.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace jouleperf::testing {

inline std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

struct DcgmGpu {
  std::uint64_t energy_mj = 0;
  double power_w = 0.0;
  std::string pod;  // non-empty: Kubernetes pod mapping labels, as with DCGM_EXPORTER_KUBERNETES
};

inline std::string dcgm_exposition(const std::vector<DcgmGpu>& gpus, bool with_energy = true, bool with_power = true) {
  static const char* kUuids[] = {"GPU-a6158b59-2c1e-1e63-0068-9178c4298abd", "GPU-8d5053b3-9280-7d1a-751b-4fd2fdd547c5",
                                 "GPU-a9079f15-493e-6c1c-c78c-73ec2b840cba",
                                 "GPU-bd94f0f5-8c2f-bc95-74ad-5f99fdc33d01"};
  const auto labels = [&](std::size_t i) {
    std::string l =
        "gpu=\"" + std::to_string(i) + "\",UUID=\"" + kUuids[i % 4] + "\",pci_bus_id=\"00000000:0" +
        std::to_string(i + 7) + ":00.0\",device=\"nvidia" + std::to_string(i) +
        "\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-node-1\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"";
    if (!gpus[i].pod.empty()) l += ",container=\"vllm\",namespace=\"llm\",pod=\"" + gpus[i].pod + "\"";
    return l;
  };
  std::string s;
  s += "# HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).\n# TYPE DCGM_FI_DEV_SM_CLOCK gauge\n";
  for (std::size_t i = 0; i < gpus.size(); ++i) s += "DCGM_FI_DEV_SM_CLOCK{" + labels(i) + "} 1980\n";
  s += "# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n";
  for (std::size_t i = 0; i < gpus.size(); ++i) s += "DCGM_FI_DEV_GPU_TEMP{" + labels(i) + "} 41\n";
  if (with_power) {
    s += "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).\n# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n";
    for (std::size_t i = 0; i < gpus.size(); ++i)
      s += "DCGM_FI_DEV_POWER_USAGE{" + labels(i) + "} " + fmt_double(gpus[i].power_w) + "\n";
  }
  if (with_energy) {
    s += "# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).\n"
         "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n";
    for (std::size_t i = 0; i < gpus.size(); ++i)
      s += "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{" + labels(i) + "} " + std::to_string(gpus[i].energy_mj) + "\n";
  }
  s += "# HELP DCGM_FI_DEV_PCIE_REPLAY_COUNTER Total number of PCIe retries.\n"
       "# TYPE DCGM_FI_DEV_PCIE_REPLAY_COUNTER counter\n";
  for (std::size_t i = 0; i < gpus.size(); ++i) s += "DCGM_FI_DEV_PCIE_REPLAY_COUNTER{" + labels(i) + "} 0\n";
  return s;
}

struct RaplZones {
  double package0_j = 0, package1_j = 0, dram0_j = 0, core0_j = 0, psys_j = 0;
};

// node exporter with the rapl collector (default: one metric name per zone).
inline std::string node_exposition(const RaplZones& z, bool zone_label = false) {
  std::string s =
      "# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.\n"
      "# TYPE go_gc_duration_seconds summary\n"
      "go_gc_duration_seconds{quantile=\"0\"} 2.5341e-05\n"
      "go_gc_duration_seconds{quantile=\"1\"} NaN\n"
      "go_gc_duration_seconds_sum 0.011412373\n"
      "go_gc_duration_seconds_count 301\n"
      "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
      "# TYPE node_cpu_seconds_total counter\n"
      "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 381935.62\n"
      "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 12033.07\n";
  struct Z {
    const char* zone;
    int index;
    const char* path;
    double j;
  };
  const std::vector<Z> zones = {
      {"core", 0, "/sys/class/powercap/intel-rapl:0:0", z.core0_j},
      {"dram", 0, "/sys/class/powercap/intel-rapl:0:1", z.dram0_j},
      {"package", 0, "/sys/class/powercap/intel-rapl:0", z.package0_j},
      {"package", 1, "/sys/class/powercap/intel-rapl:1", z.package1_j},
      {"package", 0, "/sys/class/powercap/intel-rapl-mmio:0", z.package0_j + 17.0},
      {"psys", 0, "/sys/class/powercap/intel-rapl:2", z.psys_j},
  };
  if (zone_label) {
    s += "# HELP node_rapl_joules_total Current RAPL value in joules\n# TYPE node_rapl_joules_total counter\n";
    for (const auto& x : zones)
      s += "node_rapl_joules_total{index=\"" + std::to_string(x.index) + "\",path=\"" + x.path + "\",rapl_zone=\"" +
           x.zone + "\"} " + fmt_double(x.j) + "\n";
  } else {
    for (const auto& x : zones) {
      const std::string name = std::string("node_rapl_") + x.zone + "_joules_total";
      s += "# HELP " + name + " Current RAPL " + x.zone + " value in joules\n# TYPE " + name + " counter\n";
      s += name + "{index=\"" + std::to_string(x.index) + "\",path=\"" + x.path + "\"} " + fmt_double(x.j) + "\n";
    }
  }
  s += "# HELP node_scrape_collector_success node_exporter: Whether a collector succeeded.\n"
       "# TYPE node_scrape_collector_success gauge\n"
       "node_scrape_collector_success{collector=\"rapl\"} 1\n";
  return s;
}

// Kepler <= 0.7 (kepler_node_<component>_joules_total, mode dynamic/idle).
inline std::string kepler_old_exposition(double platform_dyn, double platform_idle, double package_dyn,
                                         double package_idle, bool with_platform = true) {
  std::string s =
      "# HELP kepler_exporter_build_info A metric with a constant '1' value labeled by version\n"
      "# TYPE kepler_exporter_build_info gauge\n"
      "kepler_exporter_build_info{arch=\"amd64\",branch=\"\",goversion=\"go1.21.9\",os=\"linux\",revision=\"\","
      "version=\"v0.7.11\"} 1\n"
      "# HELP kepler_node_info Labeled node information\n# TYPE kepler_node_info counter\n"
      "kepler_node_info{components_power_source=\"rapl-sysfs\",cpu_architecture=\"Sapphire Rapids\","
      "platform_power_source=\"acpi\",source=\"os\"} 1\n"
      "# HELP kepler_node_core_joules_total Current energy consumption in core\n"
      "# TYPE kepler_node_core_joules_total counter\n"
      "kepler_node_core_joules_total{instance=\"n1\",mode=\"dynamic\",package=\"0\",source=\"rapl-sysfs\"} 999\n";
  s += "# HELP kepler_node_package_joules_total Current energy consumption in package\n"
       "# TYPE kepler_node_package_joules_total counter\n";
  s += "kepler_node_package_joules_total{instance=\"n1\",mode=\"dynamic\",package=\"0\",source=\"rapl-sysfs\"} " +
       fmt_double(package_dyn) + "\n";
  s += "kepler_node_package_joules_total{instance=\"n1\",mode=\"idle\",package=\"0\",source=\"rapl-sysfs\"} " +
       fmt_double(package_idle) + "\n";
  if (with_platform) {
    s += "# HELP kepler_node_platform_joules_total Current energy consumption in platform\n"
         "# TYPE kepler_node_platform_joules_total counter\n";
    s += "kepler_node_platform_joules_total{instance=\"n1\",mode=\"dynamic\",source=\"acpi\"} " +
         fmt_double(platform_dyn) + "\n";
    s += "kepler_node_platform_joules_total{instance=\"n1\",mode=\"idle\",source=\"acpi\"} " +
         fmt_double(platform_idle) + "\n";
  }
  return s;
}

// Kepler >= 0.10 (kepler_node_cpu_joules_total{zone,path}); GPUs when gpu_j >= 0.
inline std::string kepler_new_exposition(double package_j, double dram_j, double core_j, double gpu_j = -1) {
  std::string s =
      "# HELP kepler_build_info A metric with a constant '1' value labeled with version information\n"
      "# TYPE kepler_build_info gauge\n"
      "kepler_build_info{arch=\"amd64\",branch=\"main\",goversion=\"go1.24.4\",revision=\"7b6b3d2\","
      "version=\"v0.10.2\"} 1\n"
      "# HELP kepler_node_cpu_joules_total Energy consumption of cpu at node level in joules\n"
      "# TYPE kepler_node_cpu_joules_total counter\n";
  s += "kepler_node_cpu_joules_total{node_name=\"gpu-node-2\",path=\"/sys/class/powercap/"
       "intel-rapl:0\",zone=\"package\"} " +
       fmt_double(package_j) + "\n";
  s += "kepler_node_cpu_joules_total{node_name=\"gpu-node-2\",path=\"/sys/class/powercap/"
       "intel-rapl:0:0\",zone=\"core\"} " +
       fmt_double(core_j) + "\n";
  s += "kepler_node_cpu_joules_total{node_name=\"gpu-node-2\",path=\"/sys/class/powercap/"
       "intel-rapl:0:1\",zone=\"dram\"} " +
       fmt_double(dram_j) + "\n";
  s += "# HELP kepler_node_cpu_watts Power consumption of cpu at node level in watts\n"
       "# TYPE kepler_node_cpu_watts gauge\n"
       "kepler_node_cpu_watts{node_name=\"gpu-node-2\",path=\"/sys/class/powercap/intel-rapl:0\",zone=\"package\"} "
       "88.5\n";
  if (gpu_j >= 0) {
    s += "# HELP kepler_node_gpu_joules_total Energy consumption of gpu at node level in joules\n"
         "# TYPE kepler_node_gpu_joules_total counter\n";
    s += "kepler_node_gpu_joules_total{gpu=\"0\",gpu_name=\"NVIDIA A100\",gpu_uuid=\"GPU-1\",node_name=\"gpu-node-2\","
         "vendor=\"nvidia\"} " +
         fmt_double(gpu_j) + "\n";
  }
  return s;
}

}  // namespace jouleperf::testing

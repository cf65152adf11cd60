/* A fake libnvidia-ml for the NVML sensor tests: the same C symbols and calling
 * conventions as the real library (nvml.h), with GPUs scripted by a text file.
 *
 * nvmlInit_v2 reads the file named by FAKE_NVML_SCRIPT whenever it initializes from
 * zero (NVML counts nested nvmlInit/nvmlShutdown pairs; so does the fake). No variable
 * or an empty file: no GPUs. One directive per line, '#' starts a comment:
 *
 *   init_rc N        nvmlInit_v2 returns N (nothing else is read)
 *   count_rc N       nvmlDeviceGetCount_v2 returns N
 *   driver VERSION   nvmlSystemGetDriverVersion's text (default "550.54.15")
 *   gpu KEY=VALUE... name=REST OF LINE      one GPU, in index order
 *
 * GPU keys (an absent reading returns NOT_SUPPORTED):
 *   energy_mj=START,STEP    counter: the first call returns START, each later one STEP more (mJ)
 *   energy_rc=N             nvmlDeviceGetTotalEnergyConsumption returns N instead
 *   power_mw=P0,P1,...      power of successive calls (mW); the last value repeats
 *   power_rc=N              nvmlDeviceGetPowerUsage returns N instead
 *   limit_mw=N temp_c=N sm_mhz=N      enforced power limit, temperature, SM clock
 *   max_limit_mw=N          highest settable power limit (nvmlDeviceGetPowerManagementLimitConstraints)
 *   handle_rc=N             nvmlDeviceGetHandleByIndex_v2 returns N for this GPU
 *   uuid=GPU-...            nvmlDeviceGetUUID's text (default GPU-00000000-0000-0000-0000-00000000000N,
 *                           N the GPU's index, zero-padded to 12 digits)
 *   uuid_rc=N               nvmlDeviceGetUUID returns N instead
 *   fail_after=K fail_rc=N  after K successful energy/power readings, every call on
 *                           this GPU returns N (e.g. 15, GPU_IS_LOST)
 *   name=...                the product name: the rest of the line
 *
 * Settings and a power/thermal model (issue 19: power caps, locked clocks, thermal protocol):
 *   min_limit_mw=N          lowest settable power limit (default max_limit_mw / 2)
 *   default_limit_mw=N      nvmlDeviceGetPowerManagementDefaultLimit (default max_limit_mw)
 *   clocks_mhz=A,B,...      supported graphics clocks, highest first (one memory clock, mem_mhz=N,
 *                           default 2619); the highest is the GPU's maximum clock
 *   set_rc=N                every setter returns N (4: NO_PERMISSION, as for a user not root)
 *   state=PATH              the settings the driver keeps across processes: the power limit and
 *                           the locked clocks live in PATH ("limit_mw N" / "locked_mhz N", 0 =
 *                           not locked), read when NVML initializes and rewritten on every set
 *   demand_mw=IDLE,PEAK     the GPU does the calling process's work: its demand is IDLE plus
 *                           (PEAK - IDLE) x the process's CPU utilization since the last call
 *                           (CPU time over wall time, at most 1), its dynamic part scaled by the
 *                           locked clock over the maximum clock; its power is min(limit, demand);
 *                           the energy counter integrates that power and power_mw reports it
 *   ambient_c=X c_per_w=X tau_s=X   temperature follows power: steady at ambient + c_per_w x
 *                           power, approached with time constant tau_s (temp_c: the start value)
 *   slowdown_c=N            temperature at which the GPU slows down (throttle reason
 *                           SW_THERMAL_SLOWDOWN; nvmlDeviceGetTemperatureThreshold SLOWDOWN)
 * Throttle reasons (nvmlDeviceGetCurrentClocksThrottleReasons) with the model: GPU_IDLE below 5 %
 * utilization, APPLICATIONS_CLOCKS_SETTING while clocks are locked, SW_POWER_CAP while demand
 * exceeds the limit, SW_THERMAL_SLOWDOWN at or above slowdown_c. The SM clock is the locked clock,
 * else the maximum clock, scaled down by limit / demand while capped.
 *
 * Compiled with FAKE_NVML_OMIT_ENERGY_SYMBOL it lacks nvmlDeviceGetTotalEnergyConsumption
 * (a library too old for the counter); with FAKE_NVML_OMIT_OPTIONAL_SYMBOLS it lacks
 * nvmlDeviceGetEnforcedPowerLimit, nvmlDeviceGetPowerManagementLimitConstraints,
 * nvmlDeviceGetTemperature, nvmlDeviceGetClockInfo, nvmlDeviceGetUUID and
 * nvmlSystemGetDriverVersion.
 *
 * Test-only controls (not NVML): fake_nvml_lose_gpu() makes a GPU fail from now on;
 * fake_nvml_counts() reports nvmlInit_v2 / nvmlShutdown calls and the init depth. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_MAX_GPUS 8
#define FAKE_MAX_POWER 64
#define FAKE_NAME_LEN 96
#define FAKE_UUID_LEN 96
#define FAKE_DRIVER_LEN 80

enum {
  kSuccess = 0,
  kUninitialized = 1,
  kInvalidArgument = 2,
  kNotSupported = 3,
  kNotFound = 6,
  kInsufficientSize = 7,
  kUnknown = 999
};

#define FAKE_MAX_CLOCKS 32
/* nvmlClocksThrottleReason* bits (nvml.h). */
#define kReasonGpuIdle 0x1ULL
#define kReasonApplicationsClocks 0x2ULL
#define kReasonSwPowerCap 0x4ULL
#define kReasonSwThermal 0x20ULL

struct nvmlDevice_st {
  int index;
};
typedef struct nvmlDevice_st* nvmlDevice_t;

typedef struct {
  struct nvmlDevice_st dev;
  char name[FAKE_NAME_LEN];
  char uuid[FAKE_UUID_LEN];
  int uuid_rc;
  int handle_rc;
  int has_energy;
  unsigned long long energy_mj;
  unsigned long long energy_step_mj;
  int energy_rc;
  unsigned int power_mw[FAKE_MAX_POWER];
  int n_power;
  long power_calls;
  int power_rc;
  int has_limit, has_temp, has_sm, has_max_limit;
  unsigned int limit_mw, temp_c, sm_mhz, max_limit_mw;
  long fail_after; /* -1: never */
  int fail_rc;
  long readings;
  int lost_rc; /* 0: healthy */
  /* Settings and the power/thermal model. */
  int has_min_limit, has_default_limit;
  unsigned int min_limit_mw, default_limit_mw;
  unsigned int clocks_mhz[FAKE_MAX_CLOCKS];
  int n_clocks;
  unsigned int mem_mhz;
  int set_rc;
  unsigned int locked_mhz; /* 0: not locked */
  char state[512];         /* "" : settings not persisted */
  int model;               /* demand_mw given */
  double idle_mw, peak_mw;
  double ambient_c, c_per_w, tau_s, temp_now_c;
  int has_slowdown;
  unsigned int slowdown_c;
  double last_wall_s, last_cpu_s, util, model_power_mw;
  int clocked; /* last_* hold a first observation */
} FakeGpu;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static FakeGpu g_gpus[FAKE_MAX_GPUS];
static int g_ngpus;
static int g_count_rc;
static char g_driver[FAKE_DRIVER_LEN];
static int g_depth;
static int g_init_calls;
static int g_shutdown_calls;

/* Prototypes of the exported functions (the real ones are in nvml.h). */
int nvmlInit_v2(void);
int nvmlShutdown(void);
const char* nvmlErrorString(int result);
int nvmlDeviceGetCount_v2(unsigned int* count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device);
int nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length);
#ifndef FAKE_NVML_OMIT_ENERGY_SYMBOL
int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy);
#endif
int nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power);
#ifndef FAKE_NVML_OMIT_OPTIONAL_SYMBOLS
int nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int* limit);
int nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned int* min_limit, unsigned int* max_limit);
int nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor_type, unsigned int* temp);
int nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int* clock);
int nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length);
int nvmlSystemGetDriverVersion(char* version, unsigned int length);
int nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int* limit);
int nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int* limit);
int nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit);
int nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned int min_mhz, unsigned int max_mhz);
int nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device);
int nvmlDeviceGetSupportedMemoryClocks(nvmlDevice_t device, unsigned int* count, unsigned int* clocks);
int nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_t device, unsigned int mem_mhz, unsigned int* count,
                                         unsigned int* clocks);
int nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, int type, unsigned int* clock);
int nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long* reasons);
int nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device, int type, unsigned int* temp);
#endif
void fake_nvml_lose_gpu(unsigned int index, int rc);
void fake_nvml_counts(int* init_calls, int* shutdown_calls, int* depth);

static int parse_int(const char* s, int* out) {
  char* end = NULL;
  if (s == NULL) return 0;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') return 0;
  *out = (int)v;
  return 1;
}

static int parse_ull(const char* s, unsigned long long* out, char** end) {
  errno = 0;
  *out = strtoull(s, end, 10);
  return errno == 0 && *end != s;
}

static int parse_double(const char* s, double* out) {
  char* end = NULL;
  errno = 0;
  *out = strtod(s, &end);
  return errno == 0 && end != s && *end == '\0';
}

/* Parses "A,B,..." into at most `cap` values; returns how many, or -1 when malformed. */
static int parse_list(char* val, unsigned int* out, int cap) {
  int n = 0;
  char* p = val;
  char* end = NULL;
  unsigned long long u = 0;
  while (n < cap) {
    if (!parse_ull(p, &u, &end)) return -1;
    out[n++] = (unsigned int)u;
    if (*end != ',') break;
    p = end + 1;
  }
  return *end == '\0' ? n : -1;
}

/* Parses one "gpu ..." line (after the word "gpu"). Returns 0 on a malformed line. */
static int parse_gpu(char* rest, FakeGpu* g) {
  char* save = NULL;
  char* name = strstr(rest, "name=");
  if (name != NULL) {
    *name = '\0';
    name += 5;
    name[strcspn(name, "\r\n")] = '\0';
    snprintf(g->name, sizeof g->name, "%s", name);
  }
  for (char* tok = strtok_r(rest, " \t\r\n", &save); tok != NULL; tok = strtok_r(NULL, " \t\r\n", &save)) {
    char* eq = strchr(tok, '=');
    if (eq == NULL) return 0;
    *eq = '\0';
    const char* key = tok;
    char* val = eq + 1;
    char* end = NULL;
    unsigned long long u = 0;
    int ok = 1;
    if (strcmp(key, "energy_mj") == 0) {
      ok = parse_ull(val, &g->energy_mj, &end) && *end == ',' && parse_ull(end + 1, &g->energy_step_mj, &end) &&
           *end == '\0';
      g->has_energy = 1;
    } else if (strcmp(key, "power_mw") == 0) {
      g->n_power = 0;
      char* p = val;
      while (ok && g->n_power < FAKE_MAX_POWER) {
        ok = parse_ull(p, &u, &end);
        g->power_mw[g->n_power++] = (unsigned int)u;
        if (*end != ',') break;
        p = end + 1;
      }
      ok = ok && *end == '\0';
    } else if (strcmp(key, "energy_rc") == 0) {
      ok = parse_int(val, &g->energy_rc);
    } else if (strcmp(key, "power_rc") == 0) {
      ok = parse_int(val, &g->power_rc);
    } else if (strcmp(key, "handle_rc") == 0) {
      ok = parse_int(val, &g->handle_rc);
    } else if (strcmp(key, "uuid") == 0) {
      ok = *val != '\0' && strlen(val) < sizeof g->uuid;
      if (ok) snprintf(g->uuid, sizeof g->uuid, "%s", val);
    } else if (strcmp(key, "uuid_rc") == 0) {
      ok = parse_int(val, &g->uuid_rc);
    } else if (strcmp(key, "fail_rc") == 0) {
      ok = parse_int(val, &g->fail_rc);
    } else if (strcmp(key, "fail_after") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->fail_after = (long)u;
    } else if (strcmp(key, "limit_mw") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->limit_mw = (unsigned int)u;
      g->has_limit = 1;
    } else if (strcmp(key, "max_limit_mw") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->max_limit_mw = (unsigned int)u;
      g->has_max_limit = 1;
    } else if (strcmp(key, "temp_c") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->temp_c = (unsigned int)u;
      g->has_temp = 1;
    } else if (strcmp(key, "sm_mhz") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->sm_mhz = (unsigned int)u;
      g->has_sm = 1;
    } else if (strcmp(key, "min_limit_mw") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->min_limit_mw = (unsigned int)u;
      g->has_min_limit = 1;
    } else if (strcmp(key, "default_limit_mw") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->default_limit_mw = (unsigned int)u;
      g->has_default_limit = 1;
    } else if (strcmp(key, "clocks_mhz") == 0) {
      g->n_clocks = parse_list(val, g->clocks_mhz, FAKE_MAX_CLOCKS);
      ok = g->n_clocks > 0;
    } else if (strcmp(key, "mem_mhz") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->mem_mhz = (unsigned int)u;
    } else if (strcmp(key, "set_rc") == 0) {
      ok = parse_int(val, &g->set_rc);
    } else if (strcmp(key, "state") == 0) {
      ok = *val != '\0' && strlen(val) < sizeof g->state;
      if (ok) snprintf(g->state, sizeof g->state, "%s", val);
    } else if (strcmp(key, "demand_mw") == 0) {
      unsigned int two[2] = {0, 0};
      ok = parse_list(val, two, 2) == 2 && two[0] <= two[1];
      g->idle_mw = two[0];
      g->peak_mw = two[1];
      g->model = 1;
    } else if (strcmp(key, "ambient_c") == 0) {
      ok = parse_double(val, &g->ambient_c);
    } else if (strcmp(key, "c_per_w") == 0) {
      ok = parse_double(val, &g->c_per_w);
    } else if (strcmp(key, "tau_s") == 0) {
      ok = parse_double(val, &g->tau_s) && g->tau_s > 0;
    } else if (strcmp(key, "slowdown_c") == 0) {
      ok = parse_ull(val, &u, &end) && *end == '\0';
      g->slowdown_c = (unsigned int)u;
      g->has_slowdown = 1;
    } else {
      ok = 0;
    }
    if (!ok) return 0;
  }
  return 1;
}

/* Reads the persisted settings of `g` (its state file), when there is one. */
static void load_state(FakeGpu* g) {
  if (g->state[0] == '\0') return;
  FILE* f = fopen(g->state, "r");
  if (f == NULL) return; /* not written yet: the script's values hold */
  char key[32];
  unsigned int v = 0;
  while (fscanf(f, "%31s %u", key, &v) == 2) {
    if (strcmp(key, "limit_mw") == 0) {
      g->limit_mw = v;
      g->has_limit = 1;
    } else if (strcmp(key, "locked_mhz") == 0) {
      g->locked_mhz = v;
    }
  }
  fclose(f);
}

#ifndef FAKE_NVML_OMIT_OPTIONAL_SYMBOLS
/* Writes the settings of `g` to its state file (write, then rename: never half a file). */
static void save_state(const FakeGpu* g) {
  if (g->state[0] == '\0') return;
  char tmp[sizeof g->state + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", g->state);
  FILE* f = fopen(tmp, "w");
  if (f == NULL) return;
  fprintf(f, "limit_mw %u\nlocked_mhz %u\n", g->limit_mw, g->locked_mhz);
  fclose(f);
  rename(tmp, g->state);
}
#endif

/* Defaults that depend on other keys, then the persisted settings. */
static void finish_gpu(FakeGpu* g) {
  if (!g->has_min_limit && g->has_max_limit) g->min_limit_mw = g->max_limit_mw / 2;
  if (!g->has_default_limit && g->has_max_limit) g->default_limit_mw = g->max_limit_mw;
  if (g->model) {
    g->has_energy = 1;
    g->n_power = 0;
    g->temp_now_c = g->has_temp ? (double)g->temp_c : g->ambient_c;
    g->has_temp = 1;
    if (!g->has_limit) {
      g->limit_mw = g->has_max_limit ? g->max_limit_mw : (unsigned int)g->peak_mw;
      g->has_limit = 1;
    }
    if (g->n_clocks > 0) g->has_sm = 1;
  }
  load_state(g);
}

/* Loads FAKE_NVML_SCRIPT into the globals. Returns the code nvmlInit_v2 should return. */
static int load_script(void) {
  memset(g_gpus, 0, sizeof g_gpus);
  g_ngpus = 0;
  g_count_rc = kSuccess;
  snprintf(g_driver, sizeof g_driver, "%s", "550.54.15");
  const char* path = getenv("FAKE_NVML_SCRIPT");
  if (path == NULL || *path == '\0') return kSuccess;
  FILE* f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "fake_nvml: cannot open %s\n", path);
    return kUnknown;
  }
  char line[1024];
  int rc = kSuccess;
  int lineno = 0;
  while (rc == kSuccess && fgets(line, sizeof line, f) != NULL) {
    ++lineno;
    char* hash = strchr(line, '#');
    if (hash != NULL) *hash = '\0';
    char* p = line + strspn(line, " \t\r\n");
    if (*p == '\0') continue;
    int value = 0;
    char* word = NULL;
    if (strncmp(p, "init_rc ", 8) == 0 && parse_int(strtok(p + 8, " \t\r\n"), &value)) {
      rc = value;
    } else if (strncmp(p, "count_rc ", 9) == 0 && parse_int(strtok(p + 9, " \t\r\n"), &value)) {
      g_count_rc = value;
    } else if (strncmp(p, "driver ", 7) == 0 && (word = strtok(p + 7, " \t\r\n")) != NULL &&
               strlen(word) < sizeof g_driver) {
      snprintf(g_driver, sizeof g_driver, "%s", word);
    } else if (strncmp(p, "gpu", 3) == 0 && (p[3] == ' ' || p[3] == '\t' || p[3] == '\n' || p[3] == '\0') &&
               g_ngpus < FAKE_MAX_GPUS) {
      FakeGpu* g = &g_gpus[g_ngpus];
      g->dev.index = g_ngpus;
      snprintf(g->name, sizeof g->name, "Fake GPU %d", g_ngpus);
      snprintf(g->uuid, sizeof g->uuid, "GPU-00000000-0000-0000-0000-%012d", g_ngpus);
      g->energy_rc = kNotSupported;
      g->power_rc = kNotSupported;
      g->fail_after = -1;
      g->fail_rc = 15;
      g->mem_mhz = 2619;
      g->ambient_c = 30.0;
      g->tau_s = 1.0;
      if (!parse_gpu(p + 3, g)) {
        fprintf(stderr, "fake_nvml: %s:%d: bad gpu line\n", path, lineno);
        rc = kUnknown;
      }
      finish_gpu(g);
      ++g_ngpus;
    } else {
      fprintf(stderr, "fake_nvml: %s:%d: unknown directive\n", path, lineno);
      rc = kUnknown;
    }
  }
  fclose(f);
  return rc;
}

/* The GPU behind a handle, or NULL. Caller holds g_mu. */
static FakeGpu* gpu_of(nvmlDevice_t device) {
  for (int i = 0; i < g_ngpus; ++i)
    if (device == &g_gpus[i].dev) return &g_gpus[i];
  return NULL;
}

/* Common entry checks for device calls: 0 and *out set, or the code to return. */
static int enter(nvmlDevice_t device, const void* out, FakeGpu** g) {
  if (g_depth == 0) return kUninitialized;
  *g = gpu_of(device);
  if (*g == NULL || out == NULL) return kInvalidArgument;
  if ((*g)->lost_rc != 0) return (*g)->lost_rc;
  return kSuccess;
}

/* A reading is about to succeed: count it, or lose the GPU when its time has come. */
static int reading(FakeGpu* g) {
  if (g->fail_after >= 0 && g->readings >= g->fail_after) {
    g->lost_rc = g->fail_rc;
    return g->lost_rc;
  }
  ++g->readings;
  return kSuccess;
}

/* The power/thermal model: ------------------------------------------------------------ */

static double now_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned int max_clock(const FakeGpu* g) { return g->n_clocks > 0 ? g->clocks_mhz[0] : g->sm_mhz; }

/* Demand at the current utilization and clock, mW. */
static double demand_mw(const FakeGpu* g) {
  double scale = 1.0;
  if (g->locked_mhz > 0 && max_clock(g) > 0) scale = (double)g->locked_mhz / (double)max_clock(g);
  return g->idle_mw + (g->peak_mw - g->idle_mw) * g->util * scale;
}

/* Brings the model to now: utilization over the interval since the last call, the power
 * it draws under the limit, the energy that adds, the temperature it moves toward. */
static void advance(FakeGpu* g) {
  if (!g->model) return;
  const double wall = now_s(CLOCK_MONOTONIC), cpu = now_s(CLOCK_PROCESS_CPUTIME_ID);
  if (!g->clocked) {
    g->clocked = 1;
    g->last_wall_s = wall;
    g->last_cpu_s = cpu;
    g->util = 0.0;
    g->model_power_mw = fmin((double)g->limit_mw, demand_mw(g));
    return;
  }
  const double dt = wall - g->last_wall_s;
  if (dt < 0.02) return; /* too short to tell a utilization: the last figures hold */
  double util = (cpu - g->last_cpu_s) / dt;
  g->util = util < 0.0 ? 0.0 : util > 1.0 ? 1.0 : util;
  g->model_power_mw = fmin((double)g->limit_mw, demand_mw(g));
  g->energy_mj += (unsigned long long)llround(g->model_power_mw * dt); /* mW x s = mJ */
  const double steady = g->ambient_c + g->c_per_w * g->model_power_mw / 1000.0;
  g->temp_now_c = steady + (g->temp_now_c - steady) * exp(-dt / g->tau_s);
  g->last_wall_s = wall;
  g->last_cpu_s = cpu;
}

#ifndef FAKE_NVML_OMIT_OPTIONAL_SYMBOLS
/* The SM clock now, MHz: the locked clock or the maximum, lowered while the cap binds. */
static unsigned int model_clock(const FakeGpu* g) {
  double clk = g->locked_mhz > 0 ? g->locked_mhz : max_clock(g);
  const double demand = demand_mw(g);
  if (demand > g->limit_mw && demand > g->idle_mw) clk *= ((double)g->limit_mw - g->idle_mw) / (demand - g->idle_mw);
  const double lowest = g->n_clocks > 0 ? g->clocks_mhz[g->n_clocks - 1] : 0.0;
  return (unsigned int)llround(clk < lowest ? lowest : clk);
}
#endif

int nvmlInit_v2(void) {
  pthread_mutex_lock(&g_mu);
  int rc = kSuccess;
  if (g_depth == 0) rc = load_script();
  if (rc == kSuccess) {
    ++g_depth;
    ++g_init_calls;
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlShutdown(void) {
  pthread_mutex_lock(&g_mu);
  int rc = kUninitialized;
  if (g_depth > 0) {
    --g_depth;
    ++g_shutdown_calls;
    rc = kSuccess;
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

const char* nvmlErrorString(int result) {
  switch (result) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 10: return "Timeout";
    case 13: return "Function Not Found";
    case 15: return "GPU is lost";
    case 16: return "GPU requires reset";
    case 18: return "RM has detected an NVML/RM version mismatch.";
    default: return "Unknown Error";
  }
}

int nvmlDeviceGetCount_v2(unsigned int* count) {
  pthread_mutex_lock(&g_mu);
  int rc = g_depth == 0 ? kUninitialized : count == NULL ? kInvalidArgument : g_count_rc;
  if (rc == kSuccess) *count = (unsigned int)g_ngpus;
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  pthread_mutex_lock(&g_mu);
  int rc = kSuccess;
  if (g_depth == 0) {
    rc = kUninitialized;
  } else if (device == NULL || index >= (unsigned int)g_ngpus) {
    rc = kInvalidArgument;
  } else if (g_gpus[index].handle_rc != 0) {
    rc = g_gpus[index].handle_rc;
  } else {
    *device = &g_gpus[index].dev;
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, name, &g);
  if (rc == kSuccess) {
    if (strlen(g->name) + 1 > length) {
      rc = kInsufficientSize;
    } else {
      memcpy(name, g->name, strlen(g->name) + 1);
    }
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

#ifndef FAKE_NVML_OMIT_ENERGY_SYMBOL
int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, energy, &g);
  if (rc == kSuccess) rc = g->has_energy ? reading(g) : g->energy_rc;
  if (rc == kSuccess) {
    advance(g);
    *energy = g->energy_mj;
    g->energy_mj += g->energy_step_mj;
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}
#endif

int nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, power, &g);
  if (rc == kSuccess) rc = g->n_power > 0 || g->model ? reading(g) : g->power_rc;
  if (rc == kSuccess && g->model) {
    advance(g);
    *power = (unsigned int)llround(g->model_power_mw);
  } else if (rc == kSuccess) {
    const long i = g->power_calls < g->n_power ? g->power_calls : g->n_power - 1;
    *power = g->power_mw[i];
    ++g->power_calls;
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

#ifndef FAKE_NVML_OMIT_OPTIONAL_SYMBOLS
/* A fixed fact: its value when scripted, else NOT_SUPPORTED. */
static int fact(nvmlDevice_t device, unsigned int* out, int which) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, out, &g);
  if (rc == kSuccess) {
    advance(g);
    if (g->model) {
      g->temp_c = (unsigned int)llround(g->temp_now_c);
      g->sm_mhz = model_clock(g);
    }
    const int has = which == 0 ? g->has_limit : which == 1 ? g->has_temp : which == 2 ? g->has_sm : g->has_max_limit;
    const unsigned int v = which == 0 ? g->limit_mw : which == 1 ? g->temp_c : which == 2 ? g->sm_mhz : g->max_limit_mw;
    if (has) {
      *out = v;
    } else {
      rc = kNotSupported;
    }
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int* limit) { return fact(device, limit, 0); }

int nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned int* min_limit,
                                                 unsigned int* max_limit) {
  if (min_limit == NULL) return kInvalidArgument;
  const int rc = fact(device, max_limit, 3);
  if (rc == kSuccess) {
    pthread_mutex_lock(&g_mu);
    *min_limit = gpu_of(device)->min_limit_mw;
    pthread_mutex_unlock(&g_mu);
  }
  return rc;
}

int nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor_type, unsigned int* temp) {
  if (sensor_type != 0) return kInvalidArgument; /* only NVML_TEMPERATURE_GPU exists */
  return fact(device, temp, 1);
}

int nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int* clock) {
  if (type != 0 && type != 1) return kNotSupported; /* graphics and SM: one clock here */
  return fact(device, clock, 2);
}

/* Copies `text` into the caller's buffer of `length` bytes, as NVML does. */
static int copy_text(const char* text, char* out, unsigned int length) {
  if (strlen(text) + 1 > length) return kInsufficientSize;
  memcpy(out, text, strlen(text) + 1);
  return kSuccess;
}

int nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, uuid, &g);
  if (rc == kSuccess) rc = g->uuid_rc != 0 ? g->uuid_rc : copy_text(g->uuid, uuid, length);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  pthread_mutex_lock(&g_mu);
  int rc = g_depth == 0 ? kUninitialized : version == NULL ? kInvalidArgument : copy_text(g_driver, version, length);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int* limit) { return fact(device, limit, 0); }

int nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int* limit) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, limit, &g);
  if (rc == kSuccess) rc = g->has_max_limit ? kSuccess : kNotSupported;
  if (rc == kSuccess) *limit = g->default_limit_mw;
  pthread_mutex_unlock(&g_mu);
  return rc;
}

/* Entry checks of a setter: the GPU, then set_rc (NO_PERMISSION for a user not root). */
static int enter_setter(nvmlDevice_t device, FakeGpu** g) {
  static const int dummy = 0;
  int rc = enter(device, &dummy, g);
  if (rc == kSuccess && (*g)->set_rc != 0) rc = (*g)->set_rc;
  if (rc == kSuccess) advance(*g); /* the old settings held until now */
  return rc;
}

int nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter_setter(device, &g);
  if (rc == kSuccess && !g->has_max_limit) rc = kNotSupported;
  if (rc == kSuccess && (limit < g->min_limit_mw || limit > g->max_limit_mw)) rc = kInvalidArgument;
  if (rc == kSuccess) {
    g->limit_mw = limit;
    g->has_limit = 1;
    save_state(g);
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned int min_mhz, unsigned int max_mhz) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter_setter(device, &g);
  if (rc == kSuccess && g->n_clocks == 0) rc = kNotSupported;
  if (rc == kSuccess && (min_mhz > max_mhz || max_mhz > g->clocks_mhz[0])) rc = kInvalidArgument;
  if (rc == kSuccess) {
    g->locked_mhz = max_mhz; /* the fake holds one clock: the top of the range */
    save_state(g);
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter_setter(device, &g);
  if (rc == kSuccess && g->n_clocks == 0) rc = kNotSupported;
  if (rc == kSuccess) {
    g->locked_mhz = 0;
    save_state(g);
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

/* NVML's list protocol: *count is the room in `out` on entry and the number of values on
 * return; INSUFFICIENT_SIZE (with the number needed) when they do not fit. */
static int copy_list(const unsigned int* values, int n, unsigned int* count, unsigned int* out) {
  if (count == NULL) return kInvalidArgument;
  const unsigned int room = *count;
  *count = (unsigned int)n;
  if (room < (unsigned int)n || (n > 0 && out == NULL)) return kInsufficientSize;
  memcpy(out, values, sizeof *values * (size_t)n);
  return kSuccess;
}

int nvmlDeviceGetSupportedMemoryClocks(nvmlDevice_t device, unsigned int* count, unsigned int* clocks) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, count, &g);
  if (rc == kSuccess && g->n_clocks == 0) rc = kNotSupported;
  if (rc == kSuccess) rc = copy_list(&g->mem_mhz, 1, count, clocks);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_t device, unsigned int mem_mhz, unsigned int* count,
                                         unsigned int* clocks) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, count, &g);
  if (rc == kSuccess && g->n_clocks == 0) rc = kNotSupported;
  if (rc == kSuccess && mem_mhz != g->mem_mhz) rc = kNotFound;
  if (rc == kSuccess) rc = copy_list(g->clocks_mhz, g->n_clocks, count, clocks);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, int type, unsigned int* clock) {
  if (type != 0 && type != 1) return kNotSupported;
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, clock, &g);
  if (rc == kSuccess && max_clock(g) == 0) rc = kNotSupported;
  if (rc == kSuccess) *clock = max_clock(g);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long* reasons) {
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, reasons, &g);
  if (rc == kSuccess && !g->model) rc = kNotSupported;
  if (rc == kSuccess) {
    advance(g);
    unsigned long long r = 0;
    if (g->util < 0.05) r |= kReasonGpuIdle;
    if (g->locked_mhz > 0) r |= kReasonApplicationsClocks;
    if (demand_mw(g) > g->limit_mw) r |= kReasonSwPowerCap;
    if (g->has_slowdown && g->temp_now_c >= g->slowdown_c) r |= kReasonSwThermal;
    *reasons = r;
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device, int type, unsigned int* temp) {
  if (type != 1) return kNotSupported; /* NVML_TEMPERATURE_THRESHOLD_SLOWDOWN only */
  pthread_mutex_lock(&g_mu);
  FakeGpu* g = NULL;
  int rc = enter(device, temp, &g);
  if (rc == kSuccess) rc = g->has_slowdown ? kSuccess : kNotSupported;
  if (rc == kSuccess) *temp = g->slowdown_c;
  pthread_mutex_unlock(&g_mu);
  return rc;
}
#endif

void fake_nvml_lose_gpu(unsigned int index, int rc) {
  pthread_mutex_lock(&g_mu);
  if (index < (unsigned int)g_ngpus) g_gpus[index].lost_rc = rc;
  pthread_mutex_unlock(&g_mu);
}

void fake_nvml_counts(int* init_calls, int* shutdown_calls, int* depth) {
  pthread_mutex_lock(&g_mu);
  *init_calls = g_init_calls;
  *shutdown_calls = g_shutdown_calls;
  *depth = g_depth;
  pthread_mutex_unlock(&g_mu);
}

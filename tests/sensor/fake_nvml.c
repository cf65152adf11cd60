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
 * Compiled with FAKE_NVML_OMIT_ENERGY_SYMBOL it lacks nvmlDeviceGetTotalEnergyConsumption
 * (a library too old for the counter); with FAKE_NVML_OMIT_OPTIONAL_SYMBOLS it lacks
 * nvmlDeviceGetEnforcedPowerLimit, nvmlDeviceGetPowerManagementLimitConstraints,
 * nvmlDeviceGetTemperature, nvmlDeviceGetClockInfo, nvmlDeviceGetUUID and
 * nvmlSystemGetDriverVersion.
 *
 * Test-only controls (not NVML): fake_nvml_lose_gpu() makes a GPU fail from now on;
 * fake_nvml_counts() reports nvmlInit_v2 / nvmlShutdown calls and the init depth. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  kInsufficientSize = 7,
  kUnknown = 999
};

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
    } else {
      ok = 0;
    }
    if (!ok) return 0;
  }
  return 1;
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
      if (!parse_gpu(p + 3, g)) {
        fprintf(stderr, "fake_nvml: %s:%d: bad gpu line\n", path, lineno);
        rc = kUnknown;
      }
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
  if (rc == kSuccess) rc = g->n_power > 0 ? reading(g) : g->power_rc;
  if (rc == kSuccess) {
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
  if (rc == kSuccess) *min_limit = *max_limit / 2;
  return rc;
}

int nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor_type, unsigned int* temp) {
  if (sensor_type != 0) return kInvalidArgument; /* only NVML_TEMPERATURE_GPU exists */
  return fact(device, temp, 1);
}

int nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int* clock) {
  if (type != 1) return kNotSupported; /* only NVML_CLOCK_SM is scripted */
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

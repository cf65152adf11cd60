// The results store on SQLite: configs, cells and artifacts as JSON beside indexed key
// columns. Every write is one transaction committed with journal_mode=WAL and
// synchronous=FULL before the call returns.
#include "jouleperf/study/store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

#include "jouleperf/core/redact_json.hpp"
#include "jouleperf/core/safe_text.hpp"
#include "jouleperf/core/text.hpp"
#include "jouleperf/study/shard_check.hpp"

namespace jouleperf::study {

namespace {

constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 10000;
// application_id marks the file as a jouleperf store ("JPst").
constexpr int kApplicationId = 0x4a507374;

double now_unix_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A prepared statement, finalized at scope end.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK && stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }
  void bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, std::uint64_t v) { sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v)); }
  void bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void bind_i64(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v)); }
  void bind_null(int i) { sqlite3_bind_null(stmt_, i); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

Errc code_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH: return Errc::kPermissionDenied;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return Errc::kParse;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Errc::kTimeout;
    default: return Errc::kIo;
  }
}

Error db_error(sqlite3* db, const std::string& path, const std::string& what) {
  const int rc = db ? sqlite3_extended_errcode(db) : SQLITE_CANTOPEN;
  const char* msg = db ? sqlite3_errmsg(db) : "out of memory";
  return make_error(code_of(rc), fmt::format("results store {}: {}: {}", path, what, msg));
}

Status exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const int rc = sqlite3_extended_errcode(db);
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return make_error(code_of(rc), fmt::format("results store {}: {}", path, msg));
  }
  return {};
}

Result<int> pragma_int(sqlite3* db, const std::string& path, const char* sql) {
  Stmt s(db, sql);
  if (!s.ok()) return db_error(db, path, sql);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return sqlite3_column_int(s.get(), 0);
  if (rc == SQLITE_DONE) return 0;
  return db_error(db, path, sql);
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS configs(
  name TEXT PRIMARY KEY NOT NULL,
  key TEXT NOT NULL,
  json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells(
  config TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  batch INTEGER NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY(config, input_tokens, output_tokens, batch));
CREATE TABLE IF NOT EXISTS artifacts(
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  json TEXT NOT NULL,
  stored_unix_s REAL NOT NULL,
  PRIMARY KEY(kind, name));
CREATE TABLE IF NOT EXISTS runs(
  run_id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  engine TEXT NOT NULL,
  target TEXT NOT NULL,
  model TEXT NOT NULL,
  started_unix_s REAL NOT NULL,
  json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests(
  run_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  phase TEXT NOT NULL,
  scheduled_s REAL NOT NULL,
  send_s REAL NOT NULL,
  lateness_s REAL NOT NULL,
  end_s REAL NOT NULL,
  input_tokens_asked INTEGER NOT NULL,
  output_tokens_asked INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  usage_prompt_tokens INTEGER,
  usage_completion_tokens INTEGER,
  ttft_s REAL,
  token_times_s TEXT NOT NULL,
  ok INTEGER NOT NULL,
  error TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  finish_reason TEXT NOT NULL,
  mismatch TEXT NOT NULL,
  energy_j REAL,
  prefill_j REAL,
  decode_j REAL,
  idle_j REAL,
  above_idle_j REAL,
  attribution TEXT,
  PRIMARY KEY(run_id, idx));
CREATE TABLE IF NOT EXISTS cell_progress(
  config TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  batch INTEGER NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY(config, input_tokens, output_tokens, batch));
)sql";

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when it fails.
template <typename F>
Status in_transaction(sqlite3* db, const std::string& path, F&& body) {
  if (auto st = exec(db, path, "BEGIN IMMEDIATE"); !st) return st;
  Status st = body();
  if (!st) {
    (void)exec(db, path, "ROLLBACK");
    return st;
  }
  if (auto c = exec(db, path, "COMMIT"); !c) {
    (void)exec(db, path, "ROLLBACK");
    return c;
  }
  return {};
}

Result<nlohmann::json> parse_json(const std::string& text, const std::string& path, const std::string& what) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    return make_error(Errc::kParse, fmt::format("results store {}: {} is not valid JSON", path, what));
  return j;
}

// Every string of a stored document with URL credentials redacted: nothing secret is stored.
nlohmann::json redacted(const nlohmann::json& j) { return redact_urls_in_json(j); }

// What lies at a store path before SQLite touches it.
enum class FileKind { kAbsent, kEmpty, kSqlite, kOther };

Result<FileKind> file_kind(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return FileKind::kAbsent;
    return errno_error(errno, fmt::format("results store {}: cannot open", path));
  }
  if (S_ISDIR(st.st_mode))
    return make_error(Errc::kInvalidArgument, fmt::format("results store {}: is a directory, not a file", path));
  if (st.st_size == 0) return FileKind::kEmpty;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, fmt::format("results store {}: cannot open", path));
  char head[16] = {};
  const ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  static constexpr char kMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
  if (n == static_cast<ssize_t>(sizeof head) && std::memcmp(head, kMagic, sizeof head) == 0) return FileKind::kSqlite;
  return FileKind::kOther;
}

// The path as an SQLite URI "file:/abs/path?..." (RFC 3986 percent-encoding).
std::string sqlite_uri(const std::string& path, const char* query) {
  std::error_code ec;
  std::string abs = std::filesystem::absolute(path, ec).string();
  if (ec) abs = path;
  std::string out = "file:";
  for (const char ch : abs) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned>(c));
    }
  }
  return out + "?" + query;
}

// The exclusive writer lock "<path>.lock" (flock, released when the fd closes, even when the
// process is killed). The holder's pid is written into the file for the error message.
Result<int> take_writer_lock(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    Error e = errno_error(err, fmt::format("results store {}: cannot open", path));
    if (e.code == Errc::kNotFound) e.code = Errc::kIo;  // the directory is missing
    return e;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return errno_error(err, fmt::format("results store {}: cannot lock {}", path, lock_path));
    const std::string pid = n > 0 ? std::string(trim(std::string_view(buf, static_cast<std::size_t>(n)))) : "";
    return make_error(Errc::kTimeout,
                      fmt::format("results store {}: another jouleperf process{} is writing to it (lock {}); "
                                  "wait for it to finish, or use another store and merge them (jouleperf merge)",
                                  path, pid.empty() ? "" : " (pid " + printable_excerpt(pid, 20) + ")", lock_path));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return fd;
}

// The per-request energy columns (added after the requests table): present in the table?
Result<bool> has_request_energy(sqlite3* db, const std::string& path) {
  auto n = pragma_int(db, path, "SELECT count(*) FROM pragma_table_info('requests') WHERE name = 'attribution'");
  if (!n) return n.error();
  return *n == 1;
}

// Adds them to a requests table written before them (an older store opened for writing).
Status add_request_energy_columns(sqlite3* db, const std::string& path) {
  auto has = has_request_energy(db, path);
  if (!has) return has.error();
  if (*has) return {};
  for (const char* column :
       {"energy_j REAL", "prefill_j REAL", "decode_j REAL", "idle_j REAL", "above_idle_j REAL", "attribution TEXT"})
    if (auto st = exec(db, path, fmt::format("ALTER TABLE requests ADD COLUMN {}", column).c_str()); !st) return st;
  return {};
}

}  // namespace

struct Store::Impl {
  std::string path;
  sqlite3* db = nullptr;
  bool read_only = false;
  bool has_run_tables = true;      // false: a read-only store written before the runs tables
  bool has_progress_table = true;  // false: a read-only store written before cell_progress
  bool has_request_energy = true;  // false: a read-only store written before requests had energy columns
  int lock_fd = -1;
  ~Impl() {
    if (db) sqlite3_close_v2(db);
    if (lock_fd >= 0) ::close(lock_fd);
  }
};

namespace {

// Opens the SQLite connection; for a reader `query` is "mode=ro" or "immutable=1".
Status open_connection(sqlite3** db, const std::string& path, bool read_only, const char* query) {
  const int flags = read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX
                              : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  const std::string name = read_only ? sqlite_uri(path, query) : path;
  const int rc = sqlite3_open_v2(name.c_str(), db, flags, nullptr);
  if (rc != SQLITE_OK) {
    if (!*db) return make_error(Errc::kIo, fmt::format("results store {}: cannot open: out of memory", path));
    const int err = sqlite3_extended_errcode(*db);
    const Errc code = (err & 0xff) == SQLITE_CANTOPEN ? Errc::kIo : code_of(err);
    Error e = make_error(code, fmt::format("results store {}: cannot open: {}", path, sqlite3_errmsg(*db)));
    sqlite3_close_v2(*db);
    *db = nullptr;
    return e;
  }
  sqlite3_busy_timeout(*db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(*db, 1);
  return {};
}

// Reads the header pragmas: is this a jouleperf store, which version, does it hold tables.
struct Header {
  int application_id = 0;
  int version = 0;
  int tables = 0;
  int run_tables = 0;
  bool progress_table = false;  // cell_progress (rep-major sweeps) exists
};

Result<Header> read_header(sqlite3* db, const std::string& path) {
  Header h;
  auto app = pragma_int(db, path, "PRAGMA application_id");
  if (!app) {
    if (app.error().code == Errc::kParse)
      return make_error(Errc::kParse,
                        fmt::format("results store {}: not a jouleperf results store (not an SQLite file)", path));
    return app.error();
  }
  h.application_id = *app;
  auto version = pragma_int(db, path, "PRAGMA user_version");
  if (!version) return version.error();
  h.version = *version;
  auto tables = pragma_int(db, path, "SELECT count(*) FROM sqlite_master");
  if (!tables) return tables.error();
  h.tables = *tables;
  auto run_tables =
      pragma_int(db, path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'requests')");
  if (!run_tables) return run_tables.error();
  h.run_tables = *run_tables;
  auto progress =
      pragma_int(db, path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'cell_progress'");
  if (!progress) return progress.error();
  h.progress_table = *progress == 1;
  return h;
}

}  // namespace

Result<Store> Store::open(const std::string& path, StoreMode mode) {
  const bool read_only = mode == StoreMode::kReadOnly;
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->read_only = read_only;

  // Nothing that is not a jouleperf store is ever modified: the file is looked at before
  // SQLite opens it (SQLite would write a schema into an empty file).
  auto kind = file_kind(path);
  if (!kind) return kind.error();
  if (read_only && *kind == FileKind::kAbsent)
    return make_error(Errc::kNotFound, fmt::format("results store {}: no such file", path));
  if (read_only && *kind == FileKind::kEmpty)
    return make_error(Errc::kParse,
                      fmt::format("results store {}: an empty file, not a jouleperf results store", path));
  if (*kind == FileKind::kOther)
    return make_error(Errc::kParse,
                      fmt::format("results store {}: not a jouleperf results store (not an SQLite file)", path));

  if (!read_only) {
    auto lock = take_writer_lock(path);
    if (!lock) return lock.error();
    impl->lock_fd = *lock;
  }

  if (auto st = open_connection(&impl->db, path, read_only, "mode=ro"); !st) return st.error();
  auto header = read_header(impl->db, path);
  if (!header && read_only && header.error().code != Errc::kParse) {
    // A store in WAL mode cannot be read through mode=ro where its directory is read-only
    // (SQLite must create the -shm file). Nobody can write there either, so the file is
    // read as immutable, unless a write-ahead log left by a killed writer holds data
    // that only a writable directory can replay.
    std::error_code ec;
    const auto wal_bytes = std::filesystem::file_size(path + "-wal", ec);
    if (!ec && wal_bytes > 0)
      return make_error(header.error().code,
                        fmt::format("{} (its write-ahead log {}-wal holds data that needs write access to the "
                                    "directory to read; open the store once where it is writable)",
                                    header.error().message, path));
    sqlite3_close_v2(impl->db);
    impl->db = nullptr;
    if (auto st = open_connection(&impl->db, path, read_only, "immutable=1"); !st) return st.error();
    header = read_header(impl->db, path);
  }
  if (!header) return header.error();
  sqlite3* db = impl->db;
  const bool empty = header->tables == 0 && header->application_id == 0 && header->version == 0;
  if ((!empty || read_only) && header->application_id != kApplicationId)
    return make_error(Errc::kParse, fmt::format("results store {}: not a jouleperf results store ({})", path,
                                                empty ? "an empty SQLite database" : "another SQLite database"));
  if (header->version > kSchemaVersion)
    return make_error(
        Errc::kParse,
        fmt::format("results store {}: schema version {} is newer than this jouleperf reads ({}); upgrade jouleperf",
                    path, header->version, kSchemaVersion));
  if (read_only) {
    impl->has_run_tables = header->run_tables == 2;
    impl->has_progress_table = header->progress_table;
    if (impl->has_run_tables) {
      auto energy = has_request_energy(db, path);
      if (!energy) return energy.error();
      impl->has_request_energy = *energy;
    }
    return Store(std::move(impl));
  }

  if (auto st = exec(db, path, "PRAGMA journal_mode=WAL"); !st) return st.error();
  if (auto st = exec(db, path, "PRAGMA synchronous=FULL"); !st) return st.error();
  // The runs/requests/cell_progress tables were added without a version change: a version-1
  // store written before them gets them here (CREATE TABLE IF NOT EXISTS leaves the rest as is).
  if (empty || header->version < kSchemaVersion || header->run_tables < 2 || !header->progress_table) {
    Status st = in_transaction(db, path, [&]() -> Status {
      if (auto s = exec(db, path, kSchema); !s) return s;
      if (auto s = exec(db, path, fmt::format("PRAGMA application_id={}", kApplicationId).c_str()); !s) return s;
      return exec(db, path, fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str());
    });
    if (!st) return st.error();
  }
  auto energy = has_request_energy(db, path);
  if (!energy) return energy.error();
  if (!*energy)  // a store written before the columns: added once, in a transaction
    if (auto st = in_transaction(db, path, [&] { return add_request_energy_columns(db, path); }); !st)
      return st.error();
  return Store(std::move(impl));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::path() const { return impl_->path; }

bool Store::read_only() const { return impl_->read_only; }

namespace {

Error read_only_error(const std::string& path) {
  return make_error(Errc::kPermissionDenied, fmt::format("results store {}: opened read-only", path));
}

// Whether two model paths name the same existing file. A relative path is tried from the
// working directory, then from the store's directory.
bool same_model_file(const std::string& a, const std::string& b, const std::string& store_path) {
  if (a.empty() || b.empty()) return false;
  namespace fs = std::filesystem;
  const fs::path store_dir = fs::path(store_path).parent_path();
  auto candidates = [&](const std::string& p) {
    std::vector<fs::path> out{fs::path(p)};
    if (fs::path(p).is_relative() && !store_dir.empty()) out.push_back(store_dir / p);
    return out;
  };
  for (const auto& x : candidates(a))
    for (const auto& y : candidates(b)) {
      std::error_code ec;
      if (fs::equivalent(x, y, ec) && !ec) return true;
    }
  return false;
}

// The stored config `stored_json` is `c` but for the spelling of the model path.
bool same_but_model_path(const std::string& stored_json, const Config& c, const std::string& store_path) {
  auto j = nlohmann::json::parse(stored_json, nullptr, false);
  if (j.is_discarded()) return false;
  auto stored = config_from_json(j);
  if (!stored || stored->model == c.model || !same_model_file(stored->model, c.model, store_path)) return false;
  Config moved = *stored;
  moved.model = c.model;
  return moved.key() == c.key();
}

}  // namespace

Status Store::put_config(const Config& config) {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  if (impl_->read_only) return read_only_error(path);
  Config c = config;
  c.canonicalize();
  const std::string key = c.key();
  const std::string json = redacted(to_json(c)).dump();
  return in_transaction(db, path, [&]() -> Status {
    Stmt q(db, "SELECT key, json FROM configs WHERE name = ?1");
    if (!q.ok()) return db_error(db, path, "reading configs");
    q.bind(1, c.name);
    const int rc = q.step();
    if (rc == SQLITE_ROW) {
      const std::string old_key = q.text(0);
      if (old_key == key) return {};
      if (!same_but_model_path(q.text(1), c, path))
        return make_error(
            Errc::kInvalidArgument,
            fmt::format("results store {}: config \"{}\" is stored with other settings ({}) than this study's ({}); "
                        "use a new store or rename the config",
                        path, c.name, old_key, key));
      // The same model file spelled another way (a relative path in an older store): the
      // config and its cells take this spelling, so the cells count as measured.
      Stmt up(db, "UPDATE configs SET key = ?2, json = ?3 WHERE name = ?1");
      if (!up.ok()) return db_error(db, path, "updating config");
      up.bind(1, c.name);
      up.bind(2, key);
      up.bind(3, json);
      if (up.step() != SQLITE_DONE) return db_error(db, path, fmt::format("updating config \"{}\"", c.name));
      Stmt cells(db,
                 "UPDATE cells SET json = json_set(json, '$.config_key', ?2) "
                 "WHERE config = ?1 AND json_extract(json, '$.config_key') = ?3");
      if (!cells.ok()) return db_error(db, path, "updating cells");
      cells.bind(1, c.name);
      cells.bind(2, key);
      cells.bind(3, old_key);
      if (cells.step() != SQLITE_DONE)
        return db_error(db, path, fmt::format("updating the cells of config \"{}\"", c.name));
      return {};
    }
    if (rc != SQLITE_DONE) return db_error(db, path, "reading configs");
    Stmt ins(db, "INSERT INTO configs(name, key, json) VALUES(?1, ?2, ?3)");
    if (!ins.ok()) return db_error(db, path, "storing config");
    ins.bind(1, c.name);
    ins.bind(2, key);
    ins.bind(3, json);
    if (ins.step() != SQLITE_DONE) return db_error(db, path, fmt::format("storing config \"{}\"", c.name));
    return {};
  });
}

Result<std::vector<Config>> Store::configs() const {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  Stmt q(db, "SELECT name, json FROM configs ORDER BY name");
  if (!q.ok()) return db_error(db, path, "reading configs");
  std::vector<Config> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto j = parse_json(q.text(1), path, fmt::format("config \"{}\"", q.text(0)));
    if (!j) return j.error();
    auto c = config_from_json(*j);
    if (!c)
      return make_error(Errc::kParse,
                        fmt::format("results store {}: config \"{}\": {}", path, q.text(0), c.error().message));
    out.push_back(std::move(*c));
  }
  if (rc != SQLITE_DONE) return db_error(db, path, "reading configs");
  return out;
}

Status Store::put_cell(const CellResult& cell) {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  if (impl_->read_only) return read_only_error(path);
  const std::string json = redacted(to_json(cell)).dump();
  return in_transaction(db, path, [&]() -> Status {
    Stmt ins(
        db,
        "INSERT OR REPLACE INTO cells(config, input_tokens, output_tokens, batch, json) VALUES(?1, ?2, ?3, ?4, ?5)");
    if (!ins.ok()) return db_error(db, path, "storing cell");
    ins.bind(1, cell.key.config);
    ins.bind(2, cell.key.input_tokens);
    ins.bind(3, cell.key.output_tokens);
    ins.bind(4, cell.key.batch);
    ins.bind(5, json);
    if (ins.step() != SQLITE_DONE) return db_error(db, path, fmt::format("storing cell {}", to_string(cell.key)));
    Stmt del(db,
             "DELETE FROM cell_progress WHERE config = ?1 AND input_tokens = ?2 AND output_tokens = ?3 AND batch = ?4");
    if (!del.ok()) return db_error(db, path, "storing cell");
    del.bind(1, cell.key.config);
    del.bind(2, cell.key.input_tokens);
    del.bind(3, cell.key.output_tokens);
    del.bind(4, cell.key.batch);
    if (del.step() != SQLITE_DONE) return db_error(db, path, fmt::format("storing cell {}", to_string(cell.key)));
    return {};
  });
}

Status Store::put_progress(const CellResult& partial) {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  const std::string json = to_json(partial).dump();
  return in_transaction(db, path, [&]() -> Status {
    Stmt ins(db,
             "INSERT OR REPLACE INTO cell_progress(config, input_tokens, output_tokens, batch, json) "
             "VALUES(?1, ?2, ?3, ?4, ?5)");
    if (!ins.ok()) return db_error(db, path, "storing a cell's progress");
    ins.bind(1, partial.key.config);
    ins.bind(2, partial.key.input_tokens);
    ins.bind(3, partial.key.output_tokens);
    ins.bind(4, partial.key.batch);
    ins.bind(5, json);
    if (ins.step() != SQLITE_DONE)
      return db_error(db, path, fmt::format("storing the progress of {}", to_string(partial.key)));
    return {};
  });
}

namespace {

Result<CellResult> cell_from_row(const Stmt& q, int col, const std::string& path) {
  const std::string what = fmt::format("cell {} I={} O={} B={}", q.text(0), sqlite3_column_int64(q.get(), 1),
                                       sqlite3_column_int64(q.get(), 2), sqlite3_column_int64(q.get(), 3));
  auto j = parse_json(q.text(col), path, what);
  if (!j) return j.error();
  auto c = cell_from_json(*j);
  if (!c) return make_error(Errc::kParse, fmt::format("results store {}: {}: {}", path, what, c.error().message));
  return c;
}

}  // namespace

namespace {

// The row of `table` (cells or cell_progress: the same columns) with this key, if any.
Result<std::optional<CellResult>> cell_row(sqlite3* db, const std::string& path, const char* table,
                                           const CellKey& key) {
  const std::string what = fmt::format("reading {}", table);
  Stmt q(db, fmt::format("SELECT config, input_tokens, output_tokens, batch, json FROM {} "
                         "WHERE config = ?1 AND input_tokens = ?2 AND output_tokens = ?3 AND batch = ?4",
                         table)
                 .c_str());
  if (!q.ok()) return db_error(db, path, what);
  q.bind(1, key.config);
  q.bind(2, key.input_tokens);
  q.bind(3, key.output_tokens);
  q.bind(4, key.batch);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<CellResult>{};
  if (rc != SQLITE_ROW) return db_error(db, path, what);
  auto c = cell_from_row(q, 4, path);
  if (!c) return c.error();
  return std::optional<CellResult>(std::move(*c));
}

}  // namespace

Result<std::optional<CellResult>> Store::cell(const CellKey& key) const {
  return cell_row(impl_->db, impl_->path, "cells", key);
}

Result<std::optional<CellResult>> Store::progress(const CellKey& key) const {
  if (!impl_->has_progress_table) return std::optional<CellResult>{};
  return cell_row(impl_->db, impl_->path, "cell_progress", key);
}

Result<std::vector<CellResult>> Store::cells() const {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  Stmt q(db,
         "SELECT config, input_tokens, output_tokens, batch, json FROM cells "
         "ORDER BY config, input_tokens, output_tokens, batch");
  if (!q.ok()) return db_error(db, path, "reading cells");
  std::vector<CellResult> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto c = cell_from_row(q, 4, path);
    if (!c) return c.error();
    out.push_back(std::move(*c));
  }
  if (rc != SQLITE_DONE) return db_error(db, path, "reading cells");
  return out;
}

Status Store::put_artifact(const Artifact& artifact) {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  if (impl_->read_only) return read_only_error(path);
  if (artifact.kind.empty() || artifact.name.empty())
    return make_error(Errc::kInvalidArgument,
                      fmt::format("results store {}: an artifact needs a kind and a name", path));
  const double stored = artifact.stored_unix_s > 0.0 ? artifact.stored_unix_s : now_unix_s();
  const std::string json = redacted(artifact.body).dump();
  return in_transaction(db, path, [&]() -> Status {
    Stmt ins(db, "INSERT OR REPLACE INTO artifacts(kind, name, json, stored_unix_s) VALUES(?1, ?2, ?3, ?4)");
    if (!ins.ok()) return db_error(db, path, "storing artifact");
    ins.bind(1, artifact.kind);
    ins.bind(2, artifact.name);
    ins.bind(3, json);
    ins.bind(4, stored);
    if (ins.step() != SQLITE_DONE)
      return db_error(db, path, fmt::format("storing artifact {}/{}", artifact.kind, artifact.name));
    return {};
  });
}

Status Store::remove_artifact(const std::string& kind, const std::string& name) {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  if (impl_->read_only) return read_only_error(path);
  if (kind.empty() || name.empty())
    return make_error(Errc::kInvalidArgument,
                      fmt::format("results store {}: removing an artifact needs a kind and a name", path));
  return in_transaction(db, path, [&]() -> Status {
    Stmt del(db, "DELETE FROM artifacts WHERE kind = ?1 AND name = ?2");
    if (!del.ok()) return db_error(db, path, "removing artifact");
    del.bind(1, kind);
    del.bind(2, name);
    if (del.step() != SQLITE_DONE) return db_error(db, path, fmt::format("removing artifact {}/{}", kind, name));
    return {};
  });
}

Result<std::vector<Artifact>> Store::artifacts(const std::string& kind) const {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  Stmt q(db, "SELECT kind, name, json, stored_unix_s FROM artifacts WHERE ?1 = '' OR kind = ?1 ORDER BY kind, name");
  if (!q.ok()) return db_error(db, path, "reading artifacts");
  q.bind(1, kind);
  std::vector<Artifact> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto j = parse_json(q.text(2), path, fmt::format("artifact {}/{}", q.text(0), q.text(1)));
    if (!j) return j.error();
    out.push_back(Artifact{q.text(0), q.text(1), std::move(*j), q.real(3)});
  }
  if (rc != SQLITE_DONE) return db_error(db, path, "reading artifacts");
  return out;
}

namespace {

nlohmann::json run_json(const RunRecord& r) {
  return {{"run_id", r.run_id}, {"kind", r.kind},   {"engine", r.engine},
          {"target", r.target}, {"model", r.model}, {"started_unix_s", r.started_unix_s},
          {"info", r.info}};
}

}  // namespace

Status Store::put_run(const RunRecord& run, const std::vector<RequestRecord>& requests) {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  if (impl_->read_only) return read_only_error(path);
  if (run.run_id.empty() || run.kind.empty())
    return make_error(Errc::kInvalidArgument, fmt::format("results store {}: a run needs a run_id and a kind", path));
  const std::string info = redacted(run.info).dump();
  return in_transaction(db, path, [&]() -> Status {
    Stmt del(db, "DELETE FROM requests WHERE run_id = ?1");
    if (!del.ok()) return db_error(db, path, "replacing run");
    del.bind(1, run.run_id);
    if (del.step() != SQLITE_DONE) return db_error(db, path, fmt::format("replacing run {}", run.run_id));
    Stmt ins(db,
             "INSERT OR REPLACE INTO runs(run_id, kind, engine, target, model, started_unix_s, json) "
             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!ins.ok()) return db_error(db, path, "storing run");
    ins.bind(1, run.run_id);
    ins.bind(2, run.kind);
    ins.bind(3, run.engine);
    ins.bind(4, redact_urls_in(run.target));
    ins.bind(5, redact_urls_in(run.model));
    ins.bind(6, run.started_unix_s);
    ins.bind(7, info);
    if (ins.step() != SQLITE_DONE) return db_error(db, path, fmt::format("storing run {}", run.run_id));
    Stmt rq(db,
            "INSERT INTO requests(run_id, idx, phase, scheduled_s, send_s, lateness_s, end_s, input_tokens_asked, "
            "output_tokens_asked, output_tokens, usage_prompt_tokens, usage_completion_tokens, ttft_s, token_times_s, "
            "ok, error, http_status, finish_reason, mismatch, energy_j, prefill_j, decode_j, idle_j, above_idle_j, "
            "attribution) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
            "?22, ?23, ?24, ?25)");
    if (!rq.ok()) return db_error(db, path, "storing requests");
    for (const auto& q : requests) {
      sqlite3_reset(rq.get());
      sqlite3_clear_bindings(rq.get());
      rq.bind(1, run.run_id);
      rq.bind(2, q.index);
      rq.bind(3, q.phase);
      rq.bind(4, q.scheduled_s);
      rq.bind(5, q.send_s);
      rq.bind(6, q.lateness_s);
      rq.bind(7, q.end_s);
      rq.bind(8, q.input_tokens_asked);
      rq.bind(9, q.output_tokens_asked);
      rq.bind(10, q.output_tokens);
      if (q.usage_prompt_tokens)
        rq.bind(11, *q.usage_prompt_tokens);
      else
        rq.bind_null(11);
      if (q.usage_completion_tokens)
        rq.bind(12, *q.usage_completion_tokens);
      else
        rq.bind_null(12);
      if (q.ttft_s)
        rq.bind(13, *q.ttft_s);
      else
        rq.bind_null(13);
      rq.bind(14, nlohmann::json(q.token_s).dump());
      rq.bind_i64(15, q.ok ? 1 : 0);
      rq.bind(16, redact_urls_in(q.error));
      rq.bind_i64(17, static_cast<std::int64_t>(q.http_status));
      rq.bind(18, q.finish_reason);
      rq.bind(19, q.mismatch);
      int column = 20;
      for (const auto* v : {&q.energy_j, &q.prefill_j, &q.decode_j, &q.idle_j, &q.above_idle_j}) {
        if (*v)
          rq.bind(column, **v);
        else
          rq.bind_null(column);
        ++column;
      }
      if (q.attribution.empty())
        rq.bind_null(25);
      else
        rq.bind(25, q.attribution);
      if (rq.step() != SQLITE_DONE)
        return db_error(db, path, fmt::format("storing request {} of run {}", q.index, run.run_id));
    }
    return {};
  });
}

Result<std::vector<RunRecord>> Store::runs() const {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  if (!impl_->has_run_tables) return std::vector<RunRecord>{};
  Stmt q(db,
         "SELECT run_id, kind, engine, target, model, started_unix_s, json FROM runs ORDER BY started_unix_s, run_id");
  if (!q.ok()) return db_error(db, path, "reading runs");
  std::vector<RunRecord> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto j = parse_json(q.text(6), path, fmt::format("run {}", q.text(0)));
    if (!j) return j.error();
    out.push_back(RunRecord{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.real(5), std::move(*j)});
  }
  if (rc != SQLITE_DONE) return db_error(db, path, "reading runs");
  return out;
}

Result<std::vector<RequestRecord>> Store::requests(const std::string& run_id) const {
  sqlite3* db = impl_->db;
  const std::string& path = impl_->path;
  if (!impl_->has_run_tables) return std::vector<RequestRecord>{};
  const std::string energy_columns = impl_->has_request_energy
                                         ? ", energy_j, prefill_j, decode_j, idle_j, above_idle_j, attribution"
                                         : ", NULL, NULL, NULL, NULL, NULL, NULL";
  Stmt q(db,
         ("SELECT idx, phase, scheduled_s, send_s, lateness_s, end_s, input_tokens_asked, output_tokens_asked, "
          "output_tokens, usage_prompt_tokens, usage_completion_tokens, ttft_s, token_times_s, ok, error, http_status, "
          "finish_reason, mismatch" +
          energy_columns + " FROM requests WHERE run_id = ?1 ORDER BY idx")
             .c_str());
  if (!q.ok()) return db_error(db, path, "reading requests");
  q.bind(1, run_id);
  std::vector<RequestRecord> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    RequestRecord r;
    r.index = static_cast<std::uint64_t>(q.i64(0));
    r.phase = q.text(1);
    r.scheduled_s = q.real(2);
    r.send_s = q.real(3);
    r.lateness_s = q.real(4);
    r.end_s = q.real(5);
    r.input_tokens_asked = static_cast<std::uint64_t>(q.i64(6));
    r.output_tokens_asked = static_cast<std::uint64_t>(q.i64(7));
    r.output_tokens = static_cast<std::uint64_t>(q.i64(8));
    if (!q.is_null(9)) r.usage_prompt_tokens = static_cast<std::uint64_t>(q.i64(9));
    if (!q.is_null(10)) r.usage_completion_tokens = static_cast<std::uint64_t>(q.i64(10));
    if (!q.is_null(11)) r.ttft_s = q.real(11);
    const std::string what = fmt::format("request {} of run {}", r.index, run_id);
    auto times = parse_json(q.text(12), path, what + " token times");
    if (!times) return times.error();
    if (!times->is_array())
      return make_error(Errc::kParse, fmt::format("results store {}: {}: token times are not an array", path, what));
    for (const auto& t : *times) {
      if (!t.is_number())
        return make_error(Errc::kParse, fmt::format("results store {}: {}: a token time is not a number", path, what));
      r.token_s.push_back(t.get<double>());
    }
    r.ok = q.i64(13) != 0;
    r.error = q.text(14);
    r.http_status = static_cast<long>(q.i64(15));
    r.finish_reason = q.text(16);
    r.mismatch = q.text(17);
    int column = 18;
    for (auto* v : {&r.energy_j, &r.prefill_j, &r.decode_j, &r.idle_j, &r.above_idle_j}) {
      if (!q.is_null(column)) *v = q.real(column);
      ++column;
    }
    if (!q.is_null(23)) r.attribution = q.text(23);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return db_error(db, path, "reading requests");
  return out;
}

namespace {

// A cell's identity for merging: its JSON without the time it was stored.
std::string cell_fingerprint(const CellResult& c) {
  auto j = to_json(c);
  j.erase("finished_unix_s");
  return j.dump();
}

}  // namespace

namespace {

// The study the inputs are shards of, checked before anything is written: one study, one
// split, every cell present (unless allowed). The inputs to read: all, or with
// allow_incomplete those that exist.
Result<std::vector<std::string>> check_shards(const std::vector<std::string>& inputs, const std::string& output,
                                              const MergeOptions& options) {
  std::vector<std::string> paths = inputs;
  std::error_code ec;
  if (std::filesystem::is_regular_file(output, ec)) paths.push_back(output);
  auto check = check_study_stores(paths);
  if (!check) return make_error(check.error().code, "merge: " + check.error().message);
  auto absent = [&](const std::string& path) {
    return make_error(Errc::kNotFound, fmt::format("merge: input store {} does not exist", path));
  };
  if (!check->has_value()) {
    for (const auto& path : inputs)
      if (!std::filesystem::is_regular_file(path, ec)) return absent(path);
    return inputs;
  }
  const StudyCheck& c = **check;
  if (!c.complete() && !options.allow_incomplete) {
    std::string text = fmt::format("merge: study \"{}\" ({}, {} shards, {} cells) is incomplete; nothing merged",
                                   c.study_name, c.study_hash, c.shards, c.grid_cells);
    for (const auto& line : describe_missing(c)) text += "\n  " + line;
    text += "\n  (or merge what is there with --allow-incomplete)";
    return make_error(Errc::kNotFound, text);
  }
  std::vector<std::string> present;
  for (const auto& path : inputs) {
    if (std::filesystem::is_regular_file(path, ec))
      present.push_back(path);
    else if (!options.allow_incomplete)
      return absent(path);
  }
  return present;
}

}  // namespace

Status merge_stores(const std::vector<std::string>& given, const std::string& output, const MergeOptions& options) {
  if (given.empty()) return make_error(Errc::kInvalidArgument, "merge: no input stores");
  auto checked = check_shards(given, output, options);
  if (!checked) return checked.error();
  const std::vector<std::string>& inputs = *checked;
  std::map<std::string, std::pair<Config, std::string>> configs;  // name -> (config, from)
  std::map<CellKey, std::pair<CellResult, std::string>> cells;
  std::map<std::pair<std::string, std::string>, std::pair<Artifact, std::string>> artifacts;
  struct StoredRun {
    RunRecord run;
    std::vector<RequestRecord> requests;
    std::string from;
  };
  std::map<std::string, StoredRun> runs;

  auto add_all = [&](const Store& in, const std::string& from) -> Status {
    auto cs = in.configs();
    if (!cs) return cs.error();
    for (auto& c : *cs) {
      auto it = configs.find(c.name);
      if (it == configs.end()) {
        configs.emplace(c.name, std::make_pair(c, from));
      } else if (it->second.first.key() != c.key()) {
        return make_error(Errc::kInvalidArgument, fmt::format("merge: config \"{}\" differs between {} and {}", c.name,
                                                              it->second.second, from));
      }
    }
    auto cl = in.cells();
    if (!cl) return cl.error();
    for (auto& c : *cl) {
      auto it = cells.find(c.key);
      if (it == cells.end()) {
        CellKey k = c.key;
        cells.emplace(std::move(k), std::make_pair(std::move(c), from));
      } else if (cell_fingerprint(it->second.first) != cell_fingerprint(c)) {
        return make_error(Errc::kInvalidArgument, fmt::format("merge: cell {} has different results in {} and {}",
                                                              to_string(c.key), it->second.second, from));
      }
    }
    auto as = in.artifacts();
    if (!as) return as.error();
    for (auto& a : *as) {
      auto k = std::make_pair(a.kind, a.name);
      auto it = artifacts.find(k);
      if (it == artifacts.end()) {
        artifacts.emplace(k, std::make_pair(std::move(a), from));
      } else if (a.kind == "shard") {  // a shard run again: its newer record
        auto old_record = shard_record_from_json(it->second.first.body);
        auto new_record = shard_record_from_json(a.body);
        if (!old_record) return old_record.error();
        if (!new_record) return new_record.error();
        if (&newer_record(*old_record, *new_record) == &*new_record) it->second = std::make_pair(std::move(a), from);
      } else if (it->second.first.body != a.body) {
        return make_error(Errc::kInvalidArgument, fmt::format("merge: artifact {}/{} differs between {} and {}", a.kind,
                                                              a.name, it->second.second, from));
      }
    }
    auto rs = in.runs();
    if (!rs) return rs.error();
    for (auto& r : *rs) {
      auto reqs = in.requests(r.run_id);
      if (!reqs) return reqs.error();
      auto it = runs.find(r.run_id);
      if (it == runs.end()) {
        std::string id = r.run_id;
        runs.emplace(std::move(id), StoredRun{std::move(r), std::move(*reqs), from});
      } else if (run_json(it->second.run) != run_json(r) || it->second.requests != *reqs) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("merge: run {} differs between {} and {}", r.run_id, it->second.from, from));
      }
    }
    return {};
  };

  for (const auto& path : inputs) {
    auto in = Store::open(path, StoreMode::kReadOnly);
    if (!in) return in.error();
    if (auto st = add_all(*in, path); !st) return st;
  }
  // The output may already hold results: they take part in the checks like any input,
  // before anything is written.
  auto out = Store::open(output);
  if (!out) return out.error();
  if (auto st = add_all(*out, output); !st) return st;
  for (const auto& [name, c] : configs) {
    if (c.second == output) continue;
    if (auto st = out->put_config(c.first); !st) return st;
  }
  for (const auto& [key, c] : cells) {
    if (c.second == output) continue;
    if (auto st = out->put_cell(c.first); !st) return st;
  }
  for (const auto& [key, a] : artifacts) {
    if (a.second == output) continue;
    if (auto st = out->put_artifact(a.first); !st) return st;
  }
  for (const auto& [id, r] : runs) {
    if (r.from == output) continue;
    if (auto st = out->put_run(r.run, r.requests); !st) return st;
  }
  return {};
}

}  // namespace jouleperf::study

// Issue 12, "Atomic files, safe text": output files are replaced whole or not at all, URL
// credentials never reach a file or a terminal, CSV cells are not spreadsheet formulas,
// and error messages quote hostile input escaped and cut.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/core/redact_json.hpp"
#include "jouleperf/core/safe_text.hpp"
#include "jouleperf/core/text.hpp"
#include "jouleperf/report/escape.hpp"
#include "jouleperf/report/table.hpp"
#include "jouleperf/study/store.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct CliRun {
  int rc = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line, stdout and stderr captured.
CliRun sh(const std::string& cmd) {
  CliRun r;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen((cmd + " 2>&1").c_str(), "r"), pclose);
  if (!p) return r;
  std::array<char, 65536> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p.release());
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string cli() { return std::string(JP_CLI_PATH); }

// Files in `dir` whose name holds ".tmp-" (atomic writes' temporaries).
int temporaries_in(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) ++n;
  return n;
}

// A store holding one config whose URL carries credentials, and one cell.
std::string store_with_secret(const testing::TempDir& dir, const std::string& config_name = "remote") {
  const std::string path = (dir.path() / "s.db").string();
  auto store = study::Store::open(path);
  EXPECT_TRUE(store.ok()) << store.error().to_string();
  study::Config c;
  c.name = config_name;
  c.engine = "openai";
  c.model = "served";
  c.settings = {{"url", "http://alice:SECRETKEY@127.0.0.1:9/v1"}};
  EXPECT_TRUE(store->put_config(c).ok());
  study::CellResult cell;
  cell.key = {c.name, 128, 32, 4};
  cell.config_key = c.key();
  cell.energy_source = "cpu-time-model";
  cell.estimated = true;
  cell.conditions = {{"engine", "openai at http://alice:SECRETKEY@127.0.0.1:9/v1"}};
  study::Repetition rep;
  rep.energy_j = 10.0;
  rep.duration_s = 2.0;
  cell.reps = {rep};
  EXPECT_TRUE(store->put_cell(cell).ok());
  study::RunRecord run;
  run.run_id = "r1";
  run.kind = "replay";
  run.engine = "openai";
  run.target = "https://bob:TOKEN2@example.com/v1";
  run.info = {{"url", "https://bob:TOKEN2@example.com/v1"}};
  study::RequestRecord q;
  q.error = "connect to https://bob:TOKEN2@example.com/v1 refused";
  EXPECT_TRUE(store->put_run(run, {q}).ok());
  return path;
}

// ---- atomic output files ----

// In a child process limited to 4 KiB files (RLIMIT_FSIZE: writes past it fail with
// EFBIG, as on a full disk), write_file_atomic of 1 MiB over an existing file.
TEST(HostileFiles, AtomicWriteKeepsTheOldFileWhenTheDiskIsFull) {
  testing::TempDir dir;
  const fs::path target = dir.write("report.html", "the old report\n");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit lim{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &lim);
    const auto st = write_file_atomic(target.string(), std::string(1 << 20, 'x'));
    // 0: failed as it should, with the target named; 1: failed without naming it; 2: "succeeded".
    _exit(st.ok() ? 2 : (st.error().message.find(target.string()) != std::string::npos ? 0 : 1));
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(slurp(target), "the old report\n");
  EXPECT_EQ(temporaries_in(dir.path()), 0);
}

TEST(HostileFiles, AtomicWriteReplacesWholeAndKeepsTheMode) {
  testing::TempDir dir;
  const fs::path target = dir.write("out.json", "old");
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  ASSERT_TRUE(write_file_atomic(target.string(), "{\"new\": true}\n"));
  EXPECT_EQ(slurp(target), "{\"new\": true}\n");
  EXPECT_EQ(fs::status(target).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(temporaries_in(dir.path()), 0);
  // An uncommitted AtomicFile leaves the target as it was and no temporary.
  {
    auto f = AtomicFile::create(target.string());
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write("half"));
  }
  EXPECT_EQ(slurp(target), "{\"new\": true}\n");
  EXPECT_EQ(temporaries_in(dir.path()), 0);
  // A missing directory and a directory as the target are clear errors.
  auto missing = write_file_atomic((dir.path() / "no" / "x.json").string(), "x");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no/x.json"), std::string::npos) << missing.error().message;
  EXPECT_FALSE(write_file_atomic(dir.path().string(), "x"));
}

// `report -o FILE` over an existing report, under a 4 KiB file-size limit (the shell's
// ulimit -f counts 512-byte blocks here; SIGXFSZ ignored): the command fails, and the
// old report is byte-identical.
TEST(HostileFiles, ReportOverAnExistingReportOnAFullDiskKeepsIt) {
  testing::TempDir dir;
  const std::string store = store_with_secret(dir);
  const fs::path out = dir.write("report.html", "<p>the old report</p>\n");
  const CliRun r = sh("trap '' XFSZ; ulimit -f 8; exec " + cli() + " report --store " + store + " -o " + out.string());
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("report.html"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(out), "<p>the old report</p>\n");
  EXPECT_EQ(temporaries_in(dir.path()), 0);
  // Without the limit the same command replaces it.
  const CliRun ok = sh(cli() + " report --store " + store + " -o " + out.string());
  ASSERT_EQ(ok.rc, 0) << ok.out;
  EXPECT_NE(slurp(out).find("<html"), std::string::npos);
}

// ---- URL credentials ----

TEST(HostileFiles, RedactUrl) {
  EXPECT_EQ(redact_url("http://user:KEY@host:8000/v1?x=1"), "http://***@host:8000/v1?x=1");
  EXPECT_EQ(redact_url("https://token@host"), "https://***@host");
  EXPECT_EQ(redact_url("http://host:8000/a@b"), "http://host:8000/a@b");  // '@' in the path is not userinfo
  EXPECT_EQ(redact_url("not a url"), "not a url");
  EXPECT_EQ(redact_urls_in("GET http://a:b@h/x failed; retry https://c@d/ now"),
            "GET http://***@h/x failed; retry https://***@d/ now");
  EXPECT_EQ(redact_urls_in("{\"url\":\"http://u:p@h\"}"), "{\"url\":\"http://***@h\"}");
  const auto j = redact_urls_in_json({{"a", {"http://u:p@h", 3}}, {"b", "plain"}});
  EXPECT_EQ(j.dump(), R"({"a":["http://***@h",3],"b":"plain"})");
  Error e = make_error(Errc::kNetwork, "connect to http://u:SECRET@h: refused");
  EXPECT_EQ(e.to_string().find("SECRET"), std::string::npos) << e.to_string();
}

TEST(HostileFiles, CredentialsAreNeverStoredNorReported) {
  testing::TempDir dir;
  const std::string store = store_with_secret(dir);
  // Not in the SQLite file at all (the store is closed: the WAL is checkpointed).
  const std::string bytes = slurp(store) + slurp(store + "-wal");
  EXPECT_EQ(bytes.find("SECRETKEY"), std::string::npos);
  EXPECT_EQ(bytes.find("TOKEN2"), std::string::npos);
  EXPECT_NE(bytes.find("***@127.0.0.1:9"), std::string::npos);
  // Read back: redacted, and the key still matches the same config (a resumed sweep).
  {
    auto s = study::Store::open(store);
    ASSERT_TRUE(s);
    study::Config c;
    c.name = "remote";
    c.engine = "openai";
    c.model = "served";
    c.settings = {{"url", "http://alice:SECRETKEY@127.0.0.1:9/v1"}};
    EXPECT_TRUE(s->put_config(c)) << "the same config with the same credentials must resume";
    auto runs = s->runs();
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 1u);
    EXPECT_EQ((*runs)[0].target, "https://***@example.com/v1");
  }
  for (const char* format : {"html", "json", "csv", "md", "console"}) {
    const CliRun r = sh(cli() + " report --store " + store + " --format " + format + " -o -");
    ASSERT_EQ(r.rc, 0) << format << ": " << r.out;
    EXPECT_EQ(r.out.find("SECRETKEY"), std::string::npos) << format;
    EXPECT_EQ(r.out.find("TOKEN2"), std::string::npos) << format;
  }
}

// ---- CSV formulas ----

TEST(HostileFiles, CsvCellsAreNotSpreadsheetFormulas) {
  EXPECT_EQ(report::csv_formula_safe("=HYPERLINK(\"http://evil\",\"x\")"), "'=HYPERLINK(\"http://evil\",\"x\")");
  EXPECT_EQ(report::csv_formula_safe("+cmd"), "'+cmd");
  EXPECT_EQ(report::csv_formula_safe("-2+3"), "'-2+3");
  EXPECT_EQ(report::csv_formula_safe("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(report::csv_formula_safe("\tx"), "'\tx");
  EXPECT_EQ(report::csv_formula_safe("\rx"), "'\rx");
  EXPECT_EQ(report::csv_formula_safe("-1.5"), "-1.5");  // numbers stay numbers
  EXPECT_EQ(report::csv_formula_safe("+3e-2"), "+3e-2");
  EXPECT_EQ(report::csv_formula_safe("baseline"), "baseline");

  report::Table t;
  t.name = "t";
  t.columns = {{"name", ""}, {"delta", ""}};
  t.rows = {{std::string("=1+1"), -1.5}, {std::string("-1.5"), 2.0}};
  const std::string csv = report::to_csv(t);
  EXPECT_NE(csv.find("'=1+1,-1.5\r\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("-1.5,2\r\n"), std::string::npos) << csv;

  // Through the CLI: a config named as a formula.
  testing::TempDir dir;
  const std::string store = store_with_secret(dir, "=HYPERLINK(\"http://evil/\",\"click\")");
  const CliRun r = sh(cli() + " report --store " + store + " --format csv");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("\"'=HYPERLINK("), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\n=HYPERLINK"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(",=HYPERLINK"), std::string::npos) << r.out;
}

// ---- error messages that quote input ----

TEST(HostileFiles, PrintableExcerptEscapesAndCuts) {
  EXPECT_EQ(printable_excerpt("a\x1b[2Jb\n\t\\"), "a\\x1b[2Jb\\n\\t\\\\");
  EXPECT_EQ(printable_excerpt("caf\xC3\xA9"), "caf\xC3\xA9");  // UTF-8 kept
  EXPECT_EQ(printable_excerpt("\xC2\x9B"
                              "31m"),
            "\\xc2\\x9b31m");  // C1 CSI escaped
  EXPECT_EQ(printable_excerpt(std::string("\xff\x00", 2), 10), "\\xff\\x00");
  const std::string big(50u << 20, '7');
  const std::string e = printable_excerpt(big);
  EXPECT_LE(e.size(), 240u);
  EXPECT_NE(e.find("(52428800 bytes)"), std::string::npos) << e;
  // Never cut inside a UTF-8 character.
  const std::string cut = printable_excerpt(std::string(199, 'a') + "\xC3\xA9" + "zz");
  EXPECT_EQ(cut.substr(0, 199), std::string(199, 'a'));
  EXPECT_EQ(cut.substr(199, 3), "\xE2\x80\xA6");
}

TEST(HostileFiles, ParseErrorsQuoteInputEscapedAndCut) {
  auto e = parse_double("12\x1b]0;owned\x07");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message.find('\x1b'), std::string::npos);
  EXPECT_NE(e.error().message.find("\\x1b]0;owned\\x07"), std::string::npos) << e.error().message;
  const std::string line(50u << 20, '9');
  auto big = parse_u64(line + "x");
  ASSERT_FALSE(big);
  EXPECT_LE(big.error().message.size(), 300u);
  EXPECT_NE(big.error().message.find("bytes)"), std::string::npos);
  auto i = parse_i64("\x1b[31m5");
  ASSERT_FALSE(i);
  EXPECT_EQ(i.error().message.find('\x1b'), std::string::npos);
}

// A study file whose value carries terminal escape bytes: the error shows them escaped.
TEST(HostileFiles, StudyFileErrorsDoNotEchoEscapeBytes) {
  testing::TempDir dir;
  const fs::path study =
      dir.write("s.yaml",
                "configs:\n  - name: a\n    engine: sim\n    model: Llama-3.2-1B\n"
                "inputs: [32]\noutputs: [8]\nbatches: [1]\nrepetitions: \"3\x1b]2;owned\x07\x1b[2J\"\n");
  const CliRun r = sh(cli() + " sweep " + study.string() + " --store " + (dir.path() / "s.db").string());
  EXPECT_NE(r.rc, 0);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\x1b"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir.path() / "s.db"));  // a refused study writes no store
}

// A trace with a 50 MB field: the error quotes a short excerpt.
TEST(HostileFiles, HugeTraceFieldIsCutInTheError) {
  testing::TempDir dir;
  std::string text = "in,out\n32,8\n";
  text += std::string(8u << 20, '9') + "x,8\n";
  const fs::path trace = dir.write("t.csv", text);
  const CliRun r = sh(cli() + " trace stats " + trace.string() + " --input-col in --output-col out");
  EXPECT_NE(r.rc, 0);
  EXPECT_LT(r.out.size(), 4096u) << r.out.substr(0, 300);
}

}  // namespace
}  // namespace jouleperf

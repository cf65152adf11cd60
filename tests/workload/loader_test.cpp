#include "jouleperf/workload/loader.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "jouleperf/workload/line_reader.hpp"
#include "support/temp_dir.hpp"
#include "workload/trace_test_util.hpp"

namespace jouleperf::workload {
namespace {

using testing::fixture;
using testing::load_file;
using testing::load_text;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_gzip(const std::filesystem::path& path, const std::string& data) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, data.data(), static_cast<unsigned>(data.size())), static_cast<int>(data.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

TEST(Loader, Azure2023WithCrlf) {
  ASSERT_NE(slurp(fixture("azure_2023.csv")).find("\r\n"), std::string::npos) << "fixture must keep CRLF";
  auto r = load_file(fixture("azure_2023.csv"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->summary.format, TraceFormat::kAzure);
  EXPECT_TRUE(r->summary.has_arrivals);
  ASSERT_EQ(r->rows.size(), 5u);
  EXPECT_EQ(r->summary.rows, 5u);
  EXPECT_EQ(r->rows[0].line, 2u);
  EXPECT_EQ(r->rows[0].input, 374u);
  EXPECT_EQ(r->rows[0].output, 44u);
  EXPECT_DOUBLE_EQ(*r->rows[0].arrival_s, 0.0);
  // 18:15:50.9951690 - 18:15:46.6805900 = 4.3145790 s, to the 100 ns tick.
  EXPECT_NEAR(*r->rows[1].arrival_s, 4.3145790, 1e-9);
  EXPECT_NEAR(*r->rows[4].arrival_s, 120.0, 1e-9);
  EXPECT_EQ(r->rows[4].output, 600u);
  EXPECT_TRUE(r->rows[0].tags.empty());
}

TEST(Loader, Azure2024OffsetsAreConvertedToUtc) {
  auto r = load_file(fixture("azure_2024.csv"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->summary.format, TraceFormat::kAzure);
  ASSERT_EQ(r->rows.size(), 4u);
  EXPECT_DOUBLE_EQ(*r->rows[0].arrival_s, 0.0);
  EXPECT_NEAR(*r->rows[1].arrival_s, 0.990070, 1e-9);  // no fraction
  EXPECT_NEAR(*r->rows[2].arrival_s, 2.490070, 1e-9);  // 02:00:02.5+02:00
  EXPECT_NEAR(*r->rows[3].arrival_s, 3.240070, 1e-9);  // previous day 19:00:03.25-05:00
  EXPECT_EQ(r->rows[2].input, 4000u);
  EXPECT_EQ(r->rows[2].output, 300u);
}

TEST(Loader, BurstGptFailedRowsExcludedAndCounted) {
  auto r = load_file(fixture("burstgpt.csv"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->summary.format, TraceFormat::kBurstGpt);
  EXPECT_EQ(r->summary.rows, 6u);
  EXPECT_EQ(r->summary.failed_excluded, 2u);
  ASSERT_EQ(r->rows.size(), 4u);
  EXPECT_EQ(r->rows[0].tags.at("Model"), "ChatGPT");
  EXPECT_EQ(r->rows[0].tags.at("Log Type"), "Conversation log");
  EXPECT_EQ(r->rows[0].tags.count("Total tokens"), 0u);
  EXPECT_DOUBLE_EQ(*r->rows[2].arrival_s, 113.0);  // 118 - 5
  EXPECT_EQ(r->rows[3].line, 7u);
  EXPECT_EQ(r->rows[3].input, 900u);

  LoadOptions keep;
  keep.include_failed = true;
  auto all = load_file(fixture("burstgpt.csv"), keep);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows.size(), 6u);
  EXPECT_EQ(all->summary.failed_excluded, 0u);
  EXPECT_EQ(all->rows[3].output, 0u);
}

TEST(Loader, BurstGptSessionColumnsInAnotherOrder) {
  auto r = load_file(fixture("burstgpt_sessions.csv"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->summary.format, TraceFormat::kBurstGpt);
  EXPECT_EQ(r->summary.failed_excluded, 1u);
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0].input, 906u);
  EXPECT_EQ(r->rows[0].output, 446u);
  EXPECT_EQ(r->rows[0].tags.at("Session ID"), "1722ac82-0a46-4bf0-aa08-89794e7a2b3f");
  EXPECT_EQ(r->rows[0].tags.at("Elapsed time"), "43");
  EXPECT_EQ(r->rows[0].tags.at("Model"), "GPT-4");
  EXPECT_DOUBLE_EQ(*r->rows[1].arrival_s, 51.0);
  EXPECT_DOUBLE_EQ(*r->rows[2].arrival_s, 82.25);
  EXPECT_EQ(r->rows[2].tags.at("Log Type"), "API log");
}

TEST(Loader, WhereFiltersOnTagsWithLooseKeys) {
  LoadOptions o;
  o.where.push_back(*parse_tag_filter("model=GPT-4"));
  auto r = load_file(fixture("burstgpt.csv"), o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->rows.size(), 2u);  // the failed GPT-4 row is excluded as failed
  EXPECT_EQ(r->summary.failed_excluded, 1u);
  EXPECT_EQ(r->summary.filtered_out, 3u);
  o.where.push_back(*parse_tag_filter("log_type=API log"));
  r = load_file(fixture("burstgpt.csv"), o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].input, 900u);

  LoadOptions typo;
  typo.where.push_back(*parse_tag_filter("modle=GPT-4"));
  auto bad = load_file(fixture("burstgpt.csv"), typo);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("modle"), std::string::npos);
  EXPECT_FALSE(parse_tag_filter("model").ok());
}

TEST(Loader, FromToWindowOnArrivals) {
  LoadOptions o;
  o.from_s = 40.0;
  o.to_s = 126.0;
  auto r = load_file(fixture("burstgpt.csv"), o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 2u);  // arrivals 40 and 113; 125 is failed, 135 is after
  EXPECT_EQ(r->rows[0].input, 1087u);
  // A trace without times cannot be windowed.
  LoadOptions g;
  g.input_col = "a";
  g.output_col = "b";
  g.to_s = 1.0;
  auto nt = load_text("a,b\n1,2\n", g);
  ASSERT_FALSE(nt.ok());
  EXPECT_EQ(nt.error().code, Errc::kInvalidArgument);
}

TEST(Loader, Mooncake) {
  auto r = load_file(fixture("mooncake.jsonl"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->summary.format, TraceFormat::kMooncake);
  ASSERT_EQ(r->rows.size(), 5u);
  EXPECT_EQ(r->rows[0].line, 1u);
  EXPECT_DOUBLE_EQ(*r->rows[2].arrival_s, 3.052);
  EXPECT_DOUBLE_EQ(*r->rows[4].arrival_s, 10.535);
  EXPECT_EQ(r->rows[3].input, 2287u);
  EXPECT_EQ(r->rows[3].output, 316u);
}

TEST(Loader, MooncakeBadRows) {
  const std::string head = "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2, \"hash_ids\": []}\n";
  auto neg = load_text(head + "{\"timestamp\": 1, \"input_length\": -5, \"output_length\": 2}\n");
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.error().code, Errc::kParse);
  EXPECT_NE(neg.error().message.find("mem.csv:2:"), std::string::npos) << neg.error().message;
  EXPECT_NE(neg.error().message.find("negative input_length"), std::string::npos);
  auto str = load_text(head + "{\"timestamp\": 1, \"input_length\": \"x\", \"output_length\": 2}\n");
  ASSERT_FALSE(str.ok());
  EXPECT_NE(str.error().message.find("input_length is not a number"), std::string::npos) << str.error().message;
  auto frac = load_text(head + "{\"timestamp\": 1, \"input_length\": 2.5, \"output_length\": 2}\n");
  ASSERT_FALSE(frac.ok());
  auto missing = load_text(head + "{\"timestamp\": 1, \"output_length\": 2}\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing input_length"), std::string::npos);
  auto hashes = load_text(head + "{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 2, \"hash_ids\": 3}\n");
  ASSERT_FALSE(hashes.ok());
  auto notime = load_text(head + "{\"input_length\": 1, \"output_length\": 2}\n");
  ASSERT_FALSE(notime.ok());
  EXPECT_NE(notime.error().message.find("no time"), std::string::npos) << notime.error().message;
  auto trunc = load_text(head + "{\"timestamp\": 1, \"input_length\": 1, \"outp");
  ASSERT_FALSE(trunc.ok());
  EXPECT_NE(trunc.error().message.find("truncated"), std::string::npos) << trunc.error().message;
}

TEST(Loader, GenericCsvWithQuotesAndNumericTime) {
  LoadOptions o;
  o.input_col = "prompt_len";
  o.output_col = "completion_len";
  o.time_col = "arrival_ms";
  o.time_unit = TimeUnit::kMilliseconds;
  auto r = load_file(fixture("generic.csv"), o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->summary.format, TraceFormat::kCsv);
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_DOUBLE_EQ(*r->rows[1].arrival_s, 1.5);
  EXPECT_EQ(r->rows[0].tags.at("tenant"), "team, a");
  EXPECT_EQ(r->rows[2].tags.at("tenant"), "team \"c\"");
  EXPECT_EQ(r->rows[2].tags.at("id"), "r3");
  o.where.push_back(*parse_tag_filter("tenant=team-b"));
  auto f = load_file(fixture("generic.csv"), o);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->rows.size(), 1u);
  EXPECT_EQ(f->rows[0].input, 200u);
}

TEST(Loader, GenericCsvWithoutTimeHasNoArrivals) {
  LoadOptions o;
  o.input_col = "prompt_len";
  o.output_col = "completion_len";
  auto r = load_file(fixture("generic.csv"), o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->summary.has_arrivals);
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_FALSE(r->rows[0].arrival_s.has_value());
  o.input_col = "nope";
  auto bad = load_file(fixture("generic.csv"), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'nope'"), std::string::npos);
}

TEST(Loader, GenericJsonlWithDates) {
  LoadOptions o;
  o.input_col = "prompt_tokens";
  o.output_col = "completion_tokens";
  o.time_col = "t";
  auto r = load_file(fixture("generic.jsonl"), o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->summary.format, TraceFormat::kJsonl);
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_DOUBLE_EQ(*r->rows[1].arrival_s, 2.5);
  EXPECT_EQ(r->rows[2].tags.at("user"), "u1");
  o.where.push_back(*parse_tag_filter("user=u1"));
  auto f = load_file(fixture("generic.jsonl"), o);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->rows.size(), 2u);
  o.where[0] = *parse_tag_filter("team=x");
  auto unknown = load_file(fixture("generic.jsonl"), o);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kInvalidArgument);
  // Without the column flags the file is not a known format.
  auto undetected = load_file(fixture("generic.jsonl"));
  ASSERT_FALSE(undetected.ok());
  EXPECT_NE(undetected.error().message.find("--input-col"), std::string::npos);
}

// A trace without a data row is "no requests", naming the file: never a 0 Wh workload.
TEST(HostileLoader, HeaderOnlyFileHasNoRequests) {
  auto r = load_file(fixture("header_only.csv"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kParse);
  EXPECT_NE(r.error().message.find("header_only.csv: no requests"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("only a header"), std::string::npos) << r.error().message;
  auto empty = load_text("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::kParse);
  // JSON lines have no header: an empty file is no requests, too.
  LoadOptions jsonl;
  jsonl.format = TraceFormat::kMooncake;
  auto none = load_text("\n\n", jsonl);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("mem.csv: no requests"), std::string::npos) << none.error().message;
}

// Requests with 0 input or 0 output tokens are left out and counted; BurstGPT's own
// failure mark (Response tokens = 0) stays a failure, not a zero-token request.
TEST(HostileLoader, ZeroTokenRequestsAreExcludedAndCounted) {
  auto r = load_text(
      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
      "2023-11-16 18:15:46.6805900,374,44\n"
      "2023-11-16 18:15:47.0000000,0,44\n"
      "2023-11-16 18:15:48.0000000,374,0\n"
      "2023-11-16 18:15:49.0000000,0,0\n"
      "2023-11-16 18:15:50.0000000,10,20\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->summary.rows, 5u);
  EXPECT_EQ(r->summary.requests, 2u);
  EXPECT_EQ(r->summary.zero_token_excluded, 3u);
  EXPECT_EQ(r->summary.failed_excluded, 0u);
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[1].input, 10u);

  const std::string burst =
      "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
      "1,ChatGPT,10,20,30,Conversation log\n"
      "2,ChatGPT,10,0,10,Conversation log\n"
      "3,ChatGPT,0,5,5,Conversation log\n";
  auto b = load_text(burst);
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(b->summary.requests, 1u);
  EXPECT_EQ(b->summary.failed_excluded, 1u);
  EXPECT_EQ(b->summary.zero_token_excluded, 1u);
  LoadOptions keep;
  keep.include_failed = true;
  auto kept = load_text(burst, keep);
  ASSERT_TRUE(kept.ok()) << kept.error().to_string();
  EXPECT_EQ(kept->summary.requests, 2u);  // the failed row, kept whole
  EXPECT_EQ(kept->summary.zero_token_excluded, 1u);
}

TEST(Loader, TruncatedLastLineIsAnErrorOrSkipped) {
  auto r = load_file(fixture("truncated.csv"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kParse);
  EXPECT_NE(r.error().message.find("truncated.csv:4:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("truncated file"), std::string::npos) << r.error().message;
  LoadOptions skip;
  skip.skip_bad = true;
  auto s = load_file(fixture("truncated.csv"), skip);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->rows.size(), 2u);
  EXPECT_EQ(s->summary.skipped_bad, 1u);
  EXPECT_TRUE(s->summary.last_line_unterminated);
  // A complete last line without a newline is fine.
  auto ok = load_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->rows.size(), 1u);
}

TEST(Loader, MalformedRowsNameFileLineAndReason) {
  auto r = load_file(fixture("bad_rows.csv"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kParse);
  EXPECT_NE(r.error().message.find("bad_rows.csv:3: negative ContextTokens '-5'"), std::string::npos)
      << r.error().message;
  LoadOptions skip;
  skip.skip_bad = true;
  auto s = load_file(fixture("bad_rows.csv"), skip);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->rows.size(), 2u);
  EXPECT_EQ(s->rows[1].input, 12u);
  EXPECT_EQ(s->summary.skipped_bad, 3u);
  ASSERT_EQ(s->summary.bad_examples.size(), 3u);
  EXPECT_EQ(s->summary.bad_examples[1].line, 4u);
  EXPECT_NE(s->summary.bad_examples[1].reason.find("not a number"), std::string::npos);
  EXPECT_NE(s->summary.bad_examples[2].reason.find("empty GeneratedTokens"), std::string::npos);
}

TEST(Loader, RowShapeAndTimestampErrors) {
  const std::string h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  auto extra = load_text(h + "2023-11-16 18:15:46.68,374,44,9\n");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.error().message.find("expected 3 fields, found 4"), std::string::npos);
  auto month = load_text(h + "2023-13-16 18:15:46.68,374,44\n");
  ASSERT_FALSE(month.ok());
  EXPECT_NE(month.error().message.find("month"), std::string::npos);
  auto frac = load_text(h + "2023-11-16 18:15:46.68,374.5,44\n");
  ASSERT_FALSE(frac.ok());
  EXPECT_NE(frac.error().message.find("whole number"), std::string::npos);
  auto ok = load_text(h + "2023-11-16 18:15:46.68,374.0,44\n");
  ASSERT_TRUE(ok.ok());
  auto unknown = load_text("a,b,c\n1,2,3\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unrecognized header"), std::string::npos);
}

TEST(Loader, ForcedFormatOverridesDetection) {
  LoadOptions o;
  o.format = TraceFormat::kBurstGpt;
  auto r = load_file(fixture("azure_2023.csv"), o);
  ASSERT_FALSE(r.ok());  // an Azure file read as BurstGPT has no "Request tokens"
  EXPECT_NE(r.error().message.find("Request tokens"), std::string::npos);
  o.format = TraceFormat::kAzure;
  EXPECT_TRUE(load_file(fixture("azure_2023.csv"), o).ok());
  EXPECT_EQ(*parse_trace_format("azure-2024"), TraceFormat::kAzure);
  EXPECT_FALSE(parse_trace_format("parquet").ok());
}

TEST(Loader, GzipFileIsReadDirectly) {
  jouleperf::testing::TempDir dir;
  const std::string text = slurp(fixture("azure_2023.csv"));
  const auto gz = dir.path() / "trace.csv.gz";
  write_gzip(gz, text);
  ASSERT_NE(slurp(gz.string()), text);  // really compressed
  auto r = load_file(gz.string());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->rows.size(), 5u);
  EXPECT_EQ(r->rows[4].output, 600u);
  // A gzip file cut short is an I/O error, not a shorter trace.
  std::string bytes = slurp(gz.string());
  const auto cut = dir.write("cut.csv.gz", bytes.substr(0, bytes.size() - 12));
  auto c = load_file(cut.string());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::kIo);
}

TEST(Loader, MissingFileIsNotFound) {
  auto r = load_file("/nonexistent/trace.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
}

TEST(LineReader, LongLinesAcrossChunksAndCrlf) {
  jouleperf::testing::TempDir dir;
  std::string big(3 * LineReader::kChunkBytes + 17, 'x');
  const auto p = dir.write("lines.txt", "a\r\n" + big + "\r\nlast");
  auto r = LineReader::open_file(p.string());
  ASSERT_TRUE(r.ok());
  std::string_view line;
  ASSERT_TRUE(*r->next(line));
  EXPECT_EQ(line, "a");
  ASSERT_TRUE(*r->next(line));
  EXPECT_EQ(line.size(), big.size());
  ASSERT_TRUE(*r->next(line));
  EXPECT_EQ(line, "last");
  EXPECT_TRUE(r->last_line_unterminated());
  EXPECT_EQ(r->line_number(), 3u);
  EXPECT_FALSE(*r->next(line));
  auto small = LineReader::open_file(p.string(), 1000);
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE(*small->next(line));
  auto too_long = small->next(line);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, Errc::kParse);
}

}  // namespace
}  // namespace jouleperf::workload

namespace jouleperf::workload {
namespace {

// The Azure layout has a fused fast parser; a permuted header takes the general path.
// Both must agree on every row, and on which rows are errors.
TEST(Loader, AzureFastPathAgreesWithGeneralPath) {
  const std::vector<std::array<std::string, 3>> rows = {
      {"2023-11-16 23:59:59.9999999", "1", "2"}, {"2023-11-17 00:00:00", "3", "4"},
      {"2023-11-17 00:00:00.5", "007", "0"},     {"2023-11-17 00:00:01.1234567891234", "12", "13"},
      {"2023-11-17 00:00:02", " 14", "15 "},     {"2023-11-17 00:00:03", "1234567890", "16"},
      {"2023-11-17T00:00:04", "17", "18"},       {"2023-11-17 00:00:05+01:00", "19", "20"},
      {"2023-11-17 00:00:06.", "21", "22"},      {"2023-11-17 24:00:07", "23", "24"},
      {"2023-11-17 00:60:08", "25", "26"},       {"2023-11-17 00:00:09", "-1", "27"},
      {"2023-11-17 00:00:10", "28", ""},         {"2023-11-17 00:00:11", "29.0", "30"},
      {"2023-11-17 00:00:12 ", "31", "32"},      {"2023-11-17 00:00:13", "+33", "34"},
      {"2023-11-17 0:00:14", "35", "36"},        {"2023-11-18 00:00:15", "37", "38"},
  };
  std::string fast = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  std::string slow = "ContextTokens,GeneratedTokens,TIMESTAMP\n";
  for (const auto& r : rows) {
    fast += r[0] + "," + r[1] + "," + r[2] + "\n";
    slow += r[1] + "," + r[2] + "," + r[0] + "\n";
  }
  LoadOptions skip;
  skip.skip_bad = true;
  auto a = testing::load_text(fast, skip);
  auto b = testing::load_text(slow, skip);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  ASSERT_EQ(a->rows.size(), b->rows.size());
  EXPECT_EQ(a->summary.skipped_bad, b->summary.skipped_bad);
  EXPECT_GE(a->summary.skipped_bad, 7u);
  for (std::size_t i = 0; i < a->rows.size(); ++i) {
    EXPECT_EQ(a->rows[i].line, b->rows[i].line);
    EXPECT_EQ(*a->rows[i].arrival_s, *b->rows[i].arrival_s) << "line " << a->rows[i].line;
    EXPECT_EQ(a->rows[i].input, b->rows[i].input);
    EXPECT_EQ(a->rows[i].output, b->rows[i].output);
  }
  for (std::size_t i = 0; i < a->summary.bad_examples.size(); ++i)
    EXPECT_EQ(a->summary.bad_examples[i].line, b->summary.bad_examples[i].line);
}

}  // namespace
}  // namespace jouleperf::workload

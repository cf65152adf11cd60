// One output schema for every command: a result becomes a Document (lines for people,
// tables of typed rows, and a JSON value), and one renderer writes it as console text,
// Markdown, CSV, JSON or JSON Lines. The formats come from the same fields, so they cannot
// disagree (llama-bench's printers over one fields/values schema).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/core/table.hpp"

namespace jouleperf::table {

enum class Format { kConsole, kMarkdown, kCsv, kJson, kJsonl };

// "console", "md" (or "markdown"), "csv", "json", "jsonl"; anything else is
// kInvalidArgument naming the choices.
Result<Format> parse_format(std::string_view text);
// The spelling parse_format accepts first ("md" for Markdown).
std::string_view format_name(Format f);
// "console|md|csv|json|jsonl", for help texts and errors.
std::string_view format_choices();

// What one command produced.
struct Document {
  // Lines for people before the tables (what ran, the MEASURED/ESTIMATED/SIMULATED label);
  // console and Markdown only.
  std::vector<std::string> header;
  std::vector<Table> tables;
  // Lines for people after the tables (warnings, hints); console and Markdown only.
  std::vector<std::string> footer;
  // The JSON form. Null: the tables (one table: its rows as an array; several: an object
  // keyed by table name). A command whose JSON is richer than its rows (nested
  // provenance, a fitted profile) sets it; its rows are then also in the tables.
  nlohmann::json json;
};

// The whole document in format `f`: console = header lines, each table aligned (4
// significant digits), footer lines; Markdown = the same as paragraphs and pipe tables;
// CSV = each table's header and rows (tables apart by an empty line, full precision);
// JSON = Document::json (or the tables) indented by 2; JSON Lines = one compact object per
// table row (with "table": name when there are several tables), or the JSON value on one
// line when the document has no tables.
std::string render(const Document& doc, Format f);

// Rows written as they finish: CSV and JSON Lines write each row at once (the header
// with the first), console, Markdown and JSON collect the rows and write them at finish().
// `sink` receives the text; it is called from the thread that calls row()/finish().
class RowStream {
 public:
  // `schema` gives the name, title and columns (its rows are ignored).
  RowStream(Format format, Table schema, std::function<void(std::string_view)> sink);
  // One row of schema.columns.size() values (missing values are empty cells).
  void row(std::vector<Value> values);
  // Writes what was collected (console/Markdown/JSON); for CSV with no rows, the header.
  void finish();

 private:
  Format format_;
  Table table_;
  std::function<void(std::string_view)> sink_;
  bool header_written_ = false;
  bool finished_ = false;
};

}  // namespace jouleperf::table

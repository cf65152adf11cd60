#include "jouleperf/core/output.hpp"

#include <utility>

#include "jouleperf/core/escape.hpp"

namespace jouleperf::table {

namespace {

struct FormatName {
  std::string_view name;
  Format format;
};
constexpr FormatName kFormats[] = {{"console", Format::kConsole},   {"md", Format::kMarkdown},
                                   {"markdown", Format::kMarkdown}, {"csv", Format::kCsv},
                                   {"json", Format::kJson},         {"jsonl", Format::kJsonl}};

nlohmann::json tables_json(const std::vector<Table>& tables) {
  if (tables.size() == 1) return to_json(tables.front());
  nlohmann::json o = nlohmann::json::object();
  for (const auto& t : tables) o[t.name] = to_json(t);
  return o;
}

std::string lines(const std::vector<std::string>& ls, bool markdown) {
  std::string out;
  for (const auto& l : ls) {
    out += markdown ? markdown_cell(l) : console_text(l);
    out += markdown ? "\n\n" : "\n";
  }
  return out;
}

std::string jsonl_rows(const Table& t, bool name_table) {
  std::string out;
  for (auto& o : to_json(t)) {
    if (name_table) o["table"] = t.name;
    out += o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return out;
}

std::string dump(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

Result<Format> parse_format(std::string_view text) {
  for (const auto& f : kFormats)
    if (f.name == text) return f.format;
  return make_error(Errc::kInvalidArgument,
                    "unknown output format '" + std::string(text) + "' (choose " + std::string(format_choices()) + ")");
}

std::string_view format_name(Format f) {
  for (const auto& n : kFormats)
    if (n.format == f) return n.name;
  return "console";
}

std::string_view format_choices() { return "console|md|csv|json|jsonl"; }

std::string render(const Document& doc, Format f) {
  std::string out;
  switch (f) {
    case Format::kConsole:
    case Format::kMarkdown: {
      const bool md = f == Format::kMarkdown;
      out += lines(doc.header, md);
      for (std::size_t i = 0; i < doc.tables.size(); ++i) {
        if (i > 0 || !doc.header.empty()) out += "\n";
        out += md ? to_markdown(doc.tables[i]) : to_console(doc.tables[i]);
      }
      if (!doc.footer.empty() && (!doc.tables.empty() || !doc.header.empty())) out += "\n";
      out += lines(doc.footer, md);
      return out;
    }
    case Format::kCsv:
      for (std::size_t i = 0; i < doc.tables.size(); ++i) {
        if (i > 0) out += "\r\n";
        out += to_csv(doc.tables[i]);
      }
      return out;
    case Format::kJson: return dump(doc.json.is_null() ? tables_json(doc.tables) : doc.json, 2);
    case Format::kJsonl:
      if (doc.tables.empty()) return dump(doc.json, -1);
      for (const auto& t : doc.tables) out += jsonl_rows(t, doc.tables.size() > 1);
      return out;
  }
  return out;
}

RowStream::RowStream(Format format, Table schema, std::function<void(std::string_view)> sink)
    : format_(format), table_(std::move(schema)), sink_(std::move(sink)) {
  table_.rows.clear();
}

void RowStream::row(std::vector<Value> values) {
  values.resize(table_.columns.size());
  if (format_ == Format::kCsv || format_ == Format::kJsonl) {
    Table one = table_;
    one.rows.push_back(std::move(values));
    std::string text;
    if (format_ == Format::kJsonl) {
      text = jsonl_rows(one, false);
    } else {
      text = to_csv(one);
      // The header line goes out with the first row only.
      if (header_written_) text.erase(0, text.find("\r\n") + 2);
    }
    header_written_ = true;
    sink_(text);
    return;
  }
  table_.rows.push_back(std::move(values));
}

void RowStream::finish() {
  if (finished_) return;
  finished_ = true;
  switch (format_) {
    case Format::kCsv:
      if (!header_written_) sink_(to_csv(table_));
      return;
    case Format::kJsonl: return;
    case Format::kJson: sink_(dump(to_json(table_), 2)); return;
    case Format::kConsole: sink_(to_console(table_)); return;
    case Format::kMarkdown: sink_(to_markdown(table_)); return;
  }
}

}  // namespace jouleperf::table

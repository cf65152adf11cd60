#include "tables.hpp"

#include <string>
#include <variant>

namespace jouleperf::py {
namespace {

namespace pb = pybind11;

struct ToPython {
  pb::object operator()(std::monostate) const { return pb::none(); }
  pb::object operator()(const std::string& s) const { return pb::str(s); }
  pb::object operator()(double d) const { return pb::float_(d); }
  pb::object operator()(std::int64_t i) const { return pb::int_(i); }
  pb::object operator()(bool b) const { return pb::bool_(b); }
};

pb::list lines(const std::vector<std::string>& v) {
  pb::list out;
  for (const auto& s : v) out.append(pb::str(s));
  return out;
}

}  // namespace

pb::dict table_dict(const table::Table& t) {
  pb::list names, help, rows;
  for (const auto& c : t.columns) {
    names.append(pb::str(c.name));
    help.append(pb::str(c.help));
  }
  for (const auto& row : t.rows) {
    pb::list r;
    for (const auto& v : row) r.append(std::visit(ToPython{}, v));
    rows.append(r);
  }
  pb::dict out;
  out["name"] = t.name;
  out["title"] = t.title;
  out["columns"] = names;
  out["help"] = help;
  out["rows"] = rows;
  return out;
}

pb::dict document_dict(const table::Document& doc) {
  pb::list tables;
  for (const auto& t : doc.tables) tables.append(table_dict(t));
  pb::dict out;
  out["header"] = lines(doc.header);
  out["tables"] = tables;
  out["footer"] = lines(doc.footer);
  out["json"] = table::render(doc, table::Format::kJson);
  return out;
}

}  // namespace jouleperf::py

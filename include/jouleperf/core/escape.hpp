// Escaping for every place an untrusted string (a model name, a trace path, a config
// name from a study file) reaches a report: HTML text and attributes, JSON inside a
// <script> element, CSV fields, Markdown table cells and terminal output.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace jouleperf::table {

// `s` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

// Text safe in HTML element content and in double- or single-quoted attribute values:
// & < > " ' become entities; invalid UTF-8 becomes U+FFFD.
std::string html_escape(std::string_view s);

// JSON text safe inside <script type="application/json">: '<', '>' and '&' are written as
// \u003c, \u003e, \u0026 (so "</script>" cannot end the element), U+2028/9 escaped, and
// invalid UTF-8 replaced by U+FFFD. JSON.parse gives back the same value.
std::string json_for_script(const nlohmann::json& j);

// One RFC 4180 field: quoted (with "" for ") when it holds a comma, quote, CR or LF, or
// starts or ends with a space; otherwise as is.
std::string csv_field(std::string_view s);

// Text a spreadsheet will not run as a formula (OWASP "CSV injection"): text starting with
// = + - @, a tab or a carriage return gets a leading single quote. Text that is a plain
// number ("-1.5", "+3", "-2e-3") is left as it is, so numbers stay numbers.
std::string csv_formula_safe(std::string_view s);

// A Markdown table cell: | escaped, newlines as spaces, and & < > as HTML entities so a
// renderer shows the text rather than running it as HTML.
std::string markdown_cell(std::string_view s);

// Text for a terminal: control characters (escape sequences included) shown as \xNN.
std::string console_text(std::string_view s);

}  // namespace jouleperf::table

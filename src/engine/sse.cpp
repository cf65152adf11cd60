#include "jouleperf/engine/sse.hpp"

namespace jouleperf {

Status SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (failed_) return make_error(Errc::kParse, "event stream: parser already failed");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      process_line(out);
      line_.clear();
      continue;
    }
    // Take the run of ordinary bytes at once.
    std::size_t j = i;
    while (j < bytes.size() && bytes[j] != '\r' && bytes[j] != '\n') ++j;
    line_.append(bytes.substr(i, j - i));
    i = j - 1;
    if (line_.size() + event_.data.size() > max_event_bytes_) {
      failed_ = true;
      return make_error(Errc::kParse, "event stream: an event exceeds " + std::to_string(max_event_bytes_) + " bytes");
    }
  }
  return {};
}

bool SseParser::data_pending() const {
  if (has_data_) return true;
  constexpr std::string_view kData = "data";
  const std::string_view line = line_;
  if (line.empty()) return false;
  return line.size() >= kData.size() ? line.substr(0, kData.size()) == kData : kData.substr(0, line.size()) == line;
}

void SseParser::process_line(std::vector<SseEvent>& out) {
  if (line_.empty()) {  // dispatch
    if (has_data_) out.push_back(std::move(event_));
    event_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (line_.front() == ':') return;  // comment
  std::string_view field = line_;
  std::string_view value;
  if (auto colon = field.find(':'); colon != std::string_view::npos) {
    value = field.substr(colon + 1);
    field = field.substr(0, colon);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data.push_back('\n');
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.event = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) event_.id = std::string(value);
  }
  // "retry" and unknown fields: ignored.
}

}  // namespace jouleperf

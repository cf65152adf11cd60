// An incremental parser for server-sent events (the text/event-stream format of the
// WHATWG HTML standard, §9.2): bytes arrive in arbitrary pieces, complete events come
// out. Lines end with CRLF, LF or CR (a CRLF split across two pieces counts once);
// "data:" lines are joined with "\n"; "event:" and "id:" set the event's type and id;
// lines starting with ':' are comments; a blank line dispatches the event; unknown
// fields are ignored, as the standard says. An event without data is not dispatched.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

struct SseEvent {
  std::string event;  // "event:" field; "" means the default type "message"
  std::string data;   // the "data:" lines, joined with "\n"
  std::string id;     // "id:" field, "" when absent
};

class SseParser {
 public:
  // `max_event_bytes`: the most bytes one event (its pending lines) may hold.
  explicit SseParser(std::size_t max_event_bytes = std::size_t{4} << 20) : max_event_bytes_(max_event_bytes) {}

  // Consumes `bytes`, appending every event completed by them to `out`. Fails with
  // kParse when a pending event grows past max_event_bytes (a stream that never ends
  // its lines); the parser is then unusable.
  Status feed(std::string_view bytes, std::vector<SseEvent>& out);

  // True when bytes of an unfinished line or event are pending: a stream that ends now
  // ended mid-event (the standard discards such an event).
  bool mid_event() const { return !line_.empty() || has_data_ || !event_.event.empty(); }

  // True when a data field is pending: the event being received has a "data:" line, or
  // the unfinished line is (or may become) one. Comments (": ping") and other fields are
  // not data: a stream of keep-alive comments makes no data progress.
  bool data_pending() const;

 private:
  void process_line(std::vector<SseEvent>& out);
  std::size_t max_event_bytes_;
  std::string line_;
  SseEvent event_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the last byte was CR: a following LF belongs to it
  bool failed_ = false;
};

}  // namespace jouleperf

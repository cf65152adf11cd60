#include "jouleperf/workload/line_reader.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "jouleperf/core/text.hpp"

namespace jouleperf::workload {

struct LineReader::GzHandle {
  gzFile file = nullptr;
  ~GzHandle() {
    if (file != nullptr) gzclose(file);
  }
};

LineReader::LineReader(LineReader&&) noexcept = default;
LineReader& LineReader::operator=(LineReader&&) noexcept = default;
LineReader::~LineReader() = default;

Result<LineReader> LineReader::open_file(const std::string& path, std::size_t max_line_bytes) {
  LineReader r;
  r.name_ = path;
  r.max_line_bytes_ = max_line_bytes;
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return errno_error(errno != 0 ? errno : ENOMEM, "cannot open " + path);
  r.gz_ = std::make_unique<GzHandle>();
  r.gz_->file = f;
  gzbuffer(f, 256 * 1024);
  r.buf_ = std::make_unique_for_overwrite<char[]>(kChunkBytes);
  r.cap_ = kChunkBytes;
  return r;
}

LineReader LineReader::from_memory(std::string_view data, std::string name, std::size_t max_line_bytes) {
  LineReader r;
  r.name_ = std::move(name);
  r.memory_ = data;
  r.max_line_bytes_ = max_line_bytes;
  r.eof_ = true;
  return r;
}

Result<bool> LineReader::fill() {
  if (eof_) return false;
  // Keep the partial line, move it to the front, and grow when a line fills the buffer.
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == cap_) {
    if (cap_ >= max_line_bytes_)
      return make_error(Errc::kParse, name_ + ":" + std::to_string(line_number_ + 1) + ": line longer than " +
                                          std::to_string(max_line_bytes_) + " bytes");
    const std::size_t grown = std::min(cap_ * 2, max_line_bytes_ + 1);
    auto bigger = std::make_unique_for_overwrite<char[]>(grown);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = grown;
  }
  const std::size_t want = std::min<std::size_t>(cap_ - end_, 1u << 30);
  errno = 0;
  const int got = gzread(gz_->file, buf_.get() + end_, static_cast<unsigned>(want));
  if (got < 0) {
    int zerr = Z_OK;
    const char* msg = gzerror(gz_->file, &zerr);
    if (zerr == Z_ERRNO) return errno_error(errno != 0 ? errno : EIO, "cannot read " + name_);
    return make_error(Errc::kIo, "cannot read " + name_ + ": " + (msg != nullptr ? msg : "zlib error"));
  }
  if (got == 0) {
    // zlib reports a gzip stream that ends early as Z_BUF_ERROR after returning 0.
    int zerr = Z_OK;
    const char* msg = gzerror(gz_->file, &zerr);
    if (zerr != Z_OK)
      return make_error(Errc::kIo, "cannot read " + name_ + ": " + (msg != nullptr ? msg : "zlib error") +
                                       " (truncated or corrupt gzip file?)");
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(got);
  return true;
}

Result<bool> LineReader::next(std::string_view& line) {
  if (gz_ == nullptr) {
    // Memory source: no copy, no buffer.
    if (begin_ >= memory_.size()) return false;
    const char* start = memory_.data() + begin_;
    const std::size_t left = memory_.size() - begin_;
    const void* nl = std::memchr(start, '\n', left);
    std::size_t len = nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : left;
    if (len > max_line_bytes_)
      return make_error(Errc::kParse, name_ + ":" + std::to_string(line_number_ + 1) + ": line longer than " +
                                          std::to_string(max_line_bytes_) + " bytes");
    unterminated_ = nl == nullptr;
    begin_ += len + (nl != nullptr ? 1 : 0);
    if (len > 0 && start[len - 1] == '\r') --len;
    line = std::string_view(start, len);
    ++line_number_;
    return true;
  }
  std::size_t scanned = begin_;  // bytes before this are known to hold no newline
  for (;;) {
    const void* nl = std::memchr(buf_.get() + scanned, '\n', end_ - scanned);
    if (nl != nullptr) {
      const char* start = buf_.get() + begin_;
      std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
      begin_ += len + 1;
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      unterminated_ = false;
      ++line_number_;
      return true;
    }
    const std::size_t pending = end_ - begin_;
    auto more = fill();
    if (!more.ok()) return more.error();
    scanned = begin_ + pending;
    if (!*more) {
      if (begin_ == end_) return false;
      const char* start = buf_.get() + begin_;
      std::size_t len = end_ - begin_;
      begin_ = end_;
      if (start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      unterminated_ = true;
      ++line_number_;
      return true;
    }
  }
}

}  // namespace jouleperf::workload

// Line-by-line reading of a text file, plain or gzip-compressed, in bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf::workload {

class LineReader {
 public:
  static constexpr std::size_t kChunkBytes = 1 << 20;             // read size from the file
  static constexpr std::size_t kDefaultMaxLineBytes = 64u << 20;  // longest line accepted

  // Opens `path` through zlib's gzFile API: a gzip file (any name; detected by its magic
  // bytes) is decompressed on the fly, anything else is read as is. Fails with kNotFound,
  // kPermissionDenied or kIo naming the path.
  static Result<LineReader> open_file(const std::string& path, std::size_t max_line_bytes = kDefaultMaxLineBytes);

  // Reads lines from `data`, which must outlive the reader (no copy is made); `name`
  // stands for the source in messages.
  static LineReader from_memory(std::string_view data, std::string name = "<memory>",
                                std::size_t max_line_bytes = kDefaultMaxLineBytes);

  LineReader(LineReader&&) noexcept;
  LineReader& operator=(LineReader&&) noexcept;
  ~LineReader();

  // Sets `line` to the next line without its "\n" or "\r\n" and returns true; returns
  // false at the end of the input. `line` stays valid until the next call. Fails with
  // kIo on a read error or a truncated/corrupt gzip stream, and with kParse when a line
  // is longer than max_line_bytes.
  Result<bool> next(std::string_view& line);

  // 1-based number of the line last returned (0 before the first).
  std::uint64_t line_number() const { return line_number_; }
  // Whether the line last returned was the final one and had no terminating newline.
  bool last_line_unterminated() const { return unterminated_; }
  // Name for messages: the path, or "<memory>".
  const std::string& name() const { return name_; }

 private:
  struct GzHandle;
  LineReader() = default;
  Result<bool> fill();  // reads more input into the buffer; false at end of input

  std::string name_;
  std::unique_ptr<GzHandle> gz_;
  std::string_view memory_;      // when reading from memory
  std::unique_ptr<char[]> buf_;  // not zero-filled: only [begin_, end_) is ever read
  std::size_t cap_ = 0;          // bytes allocated in buf_
  std::size_t begin_ = 0;        // first unread byte in buf_
  std::size_t end_ = 0;          // one past the last valid byte in buf_
  std::size_t max_line_bytes_ = kDefaultMaxLineBytes;
  bool eof_ = false;
  bool unterminated_ = false;
  std::uint64_t line_number_ = 0;
};

}  // namespace jouleperf::workload

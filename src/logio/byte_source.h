// Where log bytes come from: a regular file (read(2) into pooled buffers), a gzip file (zlib,
// in a reader thread), or a pipe/stdin. Consumers see whole lines in large blocks, in order.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sw::logio {

// Failure to open or read an input: the message names the file and the reason.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A "line" longer than this is cut where it reaches it, its rest read as further lines (none
// of which will parse). Exim's log lines stay under 8 KB; this only bounds what garbage, such
// as a binary file without newlines, can make us hold.
constexpr size_t kMaxLineBytes = 4u << 20;

// A block holds at most this many lines, however few bytes they take: what consumers keep per
// line (parsed fields, offsets) is then bounded per block, so memory stays bounded by blocks in
// flight even for input that is mostly newlines. A normal main log has about 6,000 lines per MB.
constexpr size_t kMaxBlockLines = 8u << 10;

// The length of the start of `text` that holds its first `max_lines` lines (all of it if fewer).
size_t prefix_of_lines(std::string_view text, size_t max_lines);

class ByteSource;

// A block of whole lines. `bytes` stays valid while the Block (or its owner) lives.
struct Block {
  std::string_view bytes;
  std::shared_ptr<const void> owner;  // keeps a heap buffer or a mapping alive
  size_t input_index = 0;             // which input the block came from
  uint64_t position = 0;              // input bytes consumed once this block was read
  uint64_t offset = 0;                // where bytes[0] lies in the input's (uncompressed) text
  // A deferred block (ReadMode::Deferred): only its place is known, [offset, offset +
  // deferred_length) of `deferred_from`, and `bytes` is empty until read_deferred() fills it.
  const ByteSource* deferred_from = nullptr;
  size_t deferred_length = 0;
  bool empty() const { return bytes.empty() && !deferred_from; }
};

// How a plain regular file is read. InOrder: the reading thread reads every byte, in blocks
// of at most kMaxBlockLines lines. Deferred: the reading thread only finds where each block
// ends (a newline, found by reading a few KB there), and the thread that parses the block
// reads it (pread), so reading runs on every core, each block in the cache of the core that
// parses it. Deferred blocks are not bounded in lines: for consumers that keep little per
// line. Gzip, pipes and stdin are read in order either way.
enum class ReadMode { InOrder, Deferred };

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Next block of whole lines, at most kMaxBlockLines of them (the final block may lack a
  // trailing newline); empty at end.
  virtual Block next_block() = 0;
  // Bytes consumed so far and the total if known (for progress), compressed bytes for gzip.
  virtual uint64_t position() const = 0;
  virtual uint64_t total_size() const = 0;
  virtual const std::string& name() const = 0;
  // Whether read_at() works: a regular file read as is, not stdin, a pipe or gzip.
  virtual bool rereadable() const { return false; }
  // The `length` bytes at `offset` of the input's text, read again from the open file (so
  // whole lines need not be copied to be shown later); false if not rereadable or short.
  virtual bool read_at(uint64_t /*offset*/, size_t /*length*/, std::string& /*out*/) const { return false; }
  // Once read to its end: why the input was read only in part, or "" when it was read whole. A
  // gzip damaged or cut short, or a read error, ends the input where it was met, and the text
  // before it is still handed out (its last line too, newline or not, as zcat gives it); a
  // file truncated under the reader (copytruncate) ends at the cut. The message names the
  // file, where it stopped and what was read: `lines_read`, counted by the caller.
  virtual std::string shortfall(uint64_t lines_read) const = 0;
  // Reads a deferred block of this source in place (any thread, concurrently).
  virtual void read_deferred(Block& /*b*/) const {}
  // For a source no more blocks will be asked of: frees what reading holds (its block buffers);
  // next_block() then returns nothing, and read_at() still works.
  virtual void stop_reading() {}
};

// Opens "-" as stdin, a gzip file or stream by its magic bytes (not its name), anything else
// as text. Pipes and FIFOs are gzip-checked by reading their first two bytes, which the
// source then hands out first.
std::unique_ptr<ByteSource> open_source(const std::string& path, size_t input_index, size_t block_size = 4 << 20,
                                        ReadMode mode = ReadMode::InOrder);

// The same for a regular file the caller opened (with flags of its own: O_NOFOLLOW, O_NONBLOCK);
// the source owns `fd` and names it `name`. InputError if it is not a regular file.
std::unique_ptr<ByteSource> open_source_fd(int fd, const std::string& name, size_t input_index,
                                           size_t block_size = 4 << 20);

// The bytes [start, end) of a plain (not gzip) regular file, as a rereadable source whose
// block offsets are the file's own: for resuming a log where an earlier read stopped. The
// source ends at `end` even if the file grew since; one that ends before it says so
// (shortfall), as a file cut short does. InputError if the file is not a plain regular one.
std::unique_ptr<ByteSource> open_text_range(const std::string& path, size_t input_index, size_t block_size,
                                            uint64_t start, uint64_t end);

// Reads the first complete line of a regular file (decompressing if needed); "" when empty,
// and for pipes and FIFOs, which must not be read before the real read.
std::string read_first_line(const std::string& path);

}  // namespace sw::logio

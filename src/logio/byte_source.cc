#include "logio/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string_view>

#include "base/fd_io.h"
#include "logio/buffer_pool.h"
#include "logio/deferred_source.h"

namespace sw::logio {
namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Shared logic: fill a buffer from `read_some`, cut at the last newline, carry the rest. A
// source that meets damage or a read error calls stop(): the text before it is still handed
// out, and shortfall() says why it ended there.
class LineBlocker : public ByteSource {
 public:
  LineBlocker(std::string name, size_t index, size_t block_size, uint64_t first_offset = 0)
      : name_(std::move(name)), index_(index), block_size_(block_size), emitted_(first_offset) {}

  Block next_block() override {
    if (pending_.empty()) fill_pending();
    if (pending_.empty()) {
      // Done: the buffers this source kept for reuse go back to the heap once the blocks still
      // out are (a rotated set's sources all live to the end of the run: seven of them kept
      // about 32 MB).
      if (eof_) pool_ = BufferPool::make();
      return {};
    }
    // One buffer read may hold many blocks' worth of short lines: they share it.
    size_t length = prefix_of_lines(pending_, kMaxBlockLines);
    Block b;
    b.bytes = pending_.substr(0, length);
    b.owner = pending_owner_;
    b.input_index = index_;
    b.position = position();
    b.offset = emitted_;
    emitted_ += length;
    ends_in_newline_ = b.bytes.back() == '\n';
    pending_.remove_prefix(length);
    if (pending_.empty()) pending_owner_.reset();  // the last block returns the buffer to the pool
    return b;
  }

  const std::string& name() const override { return name_; }
  void stop_reading() override {
    pending_ = {};
    pending_owner_.reset();
    carry_ = std::string();
    eof_ = true;
    pool_ = BufferPool::make();  // the buffers back in the old pool go with it
  }
  std::string shortfall(uint64_t lines_read) const override {
    if (stop_reason_.empty()) return {};
    std::string last = emitted_ > 0 && !ends_in_newline_
                           ? ", the last of them cut off without its newline and kept as it is, as zcat gives it"
                           : "";
    return name_ + ": " + stop_reason_ + "; read up to there: " + std::to_string(lines_read) + " lines (" +
           std::to_string(emitted_) + " bytes of text)" + last + "; the rest is not read";
  }

 protected:
  // Fills dst with up to max bytes; 0 at the end, or after stop().
  virtual size_t read_some(char* dst, size_t max) = 0;
  // Ends the input after what read_some returns now; `why` does not name the file.
  void stop(std::string why) { stop_reason_ = std::move(why); }

 private:
  // Reads the next run of whole lines into a pooled buffer: pending_.
  void fill_pending() {
    if (eof_ && carry_.empty()) return;
    auto buf = pool_->take(block_size_);
    size_t used = carry_.size();
    if (used > buf->size()) buf->resize(used + block_size_);
    std::memcpy(buf->data(), carry_.data(), used);
    carry_.clear();
    for (;;) {
      if (used == buf->size()) {
        if (buf->size() >= kMaxLineBytes) break;  // cut an absurd line
        buf->resize(buf->size() * 2);
      }
      size_t n = eof_ ? 0 : read_some(buf->data() + used, buf->size() - used);
      if (n == 0 || !stop_reason_.empty()) eof_ = true;
      used += n;
      if (eof_) break;
      const void* nl = memrchr(buf->data(), '\n', used);
      if (nl && used >= block_size_ / 2) {
        size_t keep = size_t(static_cast<const char*>(nl) - buf->data()) + 1;
        carry_.assign(buf->data() + keep, used - keep);
        used = keep;
        break;
      }
    }
    if (used == 0) return;
    pending_ = std::string_view(buf->data(), used);
    pending_owner_ = std::move(buf);
  }

  std::string name_;
  size_t index_;
  size_t block_size_;
  std::string carry_;
  std::string_view pending_;  // read, not yet handed out in blocks
  std::shared_ptr<const std::string> pending_owner_;
  uint64_t emitted_ = 0;  // text bytes handed out in blocks so far
  bool ends_in_newline_ = true;
  bool eof_ = false;
  std::string stop_reason_;
  std::shared_ptr<BufferPool> pool_ = BufferPool::make();
};

// Bytes already read from a pipe to look for the gzip magic: handed out before the rest.
struct Peeked {
  std::string bytes;
  size_t take(char* dst, size_t max) {
    size_t n = std::min(max, bytes.size());
    std::memcpy(dst, bytes.data(), n);
    bytes.erase(0, n);
    return n;
  }
};

class FdSource : public LineBlocker {
 public:
  FdSource(int fd, bool owned, bool regular, std::string name, size_t index, size_t block_size, uint64_t total,
           Peeked peeked = {})
      : LineBlocker(std::move(name), index, block_size), fd_(fd), owned_(owned), regular_(regular), total_(total),
        peeked_(std::move(peeked)) {}
  // A regular file's bytes [start, end), read from `start` (the fd is positioned there).
  FdSource(int fd, std::string name, size_t index, size_t block_size, uint64_t start, uint64_t end)
      : LineBlocker(std::move(name), index, block_size, start), fd_(fd), owned_(true), regular_(true), total_(end),
        pos_(start), limited_(true) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  uint64_t position() const override { return pos_; }
  uint64_t total_size() const override { return total_; }
  bool rereadable() const override { return regular_; }
  bool read_at(uint64_t offset, size_t length, std::string& out) const override {
    return regular_ && pread_exactly(fd_, offset, length, out);
  }
  std::string shortfall(uint64_t lines_read) const override {
    if (std::string why = LineBlocker::shortfall(lines_read); !why.empty()) return why;
    if (!regular_ || pos_ >= total_) return {};
    return name() + ": it was cut short while being read (" + std::to_string(lines_read) + " lines, " +
           std::to_string(pos_) + " of " + std::to_string(total_) +
           " bytes; a copytruncate rotation?): the rest of it is now in the rotated copy";
  }

 protected:
  size_t read_some(char* dst, size_t max) override {
    if (size_t n = peeked_.take(dst, max)) {
      pos_ += n;
      return n;
    }
    if (limited_) max = size_t(std::min<uint64_t>(max, total_ - std::min(pos_, total_)));
    if (max == 0) return 0;
    for (;;) {
      ssize_t n = ::read(fd_, dst, max);
      if (n >= 0) {
        pos_ += uint64_t(n);
        return size_t(n);
      }
      if (errno != EINTR) {
        stop(std::string("read error at byte ") + std::to_string(pos_) + ": " + std::strerror(errno));
        return 0;
      }
    }
  }

 private:
  int fd_;
  bool owned_;
  bool regular_;
  uint64_t total_;
  uint64_t pos_ = 0;
  bool limited_ = false;  // ends at total_, however long the file is
  Peeked peeked_;
};

// Inflates member after member (pigz, `cat a.gz b.gz`) through ISA-L's streaming igzip, which
// inflates 2-3x as fast as zlib with the same bounded memory (docs/dependencies.md). Damage (a
// stream cut short, corrupt deflate data, a check value that does not match) ends the input
// where it was met: what was inflated up to there is handed out, as zcat does.
class GzipSource : public LineBlocker {
 public:
  GzipSource(int fd, bool owned, std::string name, size_t index, size_t block_size, uint64_t total, Peeked peeked = {})
      : LineBlocker(std::move(name), index, block_size), fd_(fd), owned_(owned), total_(total), in_(1 << 18),
        peeked_(std::move(peeked)), gz_(std::make_unique<inflate_state>()) {
    start_member();
  }
  ~GzipSource() override {
    if (owned_) ::close(fd_);
  }
  uint64_t position() const override { return pos_; }
  uint64_t total_size() const override { return total_; }

 protected:
  size_t read_some(char* dst, size_t max) override {
    gz_->next_out = reinterpret_cast<uint8_t*>(dst);
    gz_->avail_out = uint32_t(std::min<size_t>(max, 1u << 30));
    while (gz_->avail_out > 0 && !done_) {
      if (gz_->avail_in == 0 && !refill()) {
        done_ = true;
        if (in_member_) stop("the gzip data ends inside a member at compressed byte " + where(pos_) + ": cut short");
        break;
      }
      if (!in_member_ && !next_member_is_gzip()) break;
      int rc = isal_inflate(gz_.get());
      in_member_ = true;
      if (rc != ISAL_DECOMP_OK && rc != ISAL_END_INPUT && rc != ISAL_OUT_OVERFLOW) {
        done_ = true;
        stop(damage(rc));
      } else if (gz_->block_state == ISAL_BLOCK_FINISH) {
        in_member_ = false;  // concatenated members continue
        member_end_ = consumed();
        start_member();
      }
    }
    return size_t(reinterpret_cast<char*>(gz_->next_out) - dst);
  }

 private:
  // A fresh member's state, keeping the input and output not yet used.
  void start_member() {
    uint8_t *next_in = gz_->next_in, *next_out = gz_->next_out;
    uint32_t avail_in = gz_->avail_in, avail_out = gz_->avail_out;
    isal_inflate_init(gz_.get());
    gz_->crc_flag = ISAL_GZIP;  // parses the header and checks CRC-32 and length in the trailer
    gz_->next_in = next_in;
    gz_->avail_in = avail_in;
    gz_->next_out = next_out;
    gz_->avail_out = avail_out;
  }
  // After a whole member: more gzip, or bytes that are not (padding, garbage), named as such.
  bool next_member_is_gzip() {
    if (gz_->avail_in >= 2 && gz_->next_in[0] == 0x1f && gz_->next_in[1] == 0x8b) return true;
    if (gz_->avail_in == 1 && gz_->next_in[0] == 0x1f) return true;  // the rest of the magic is in the next read
    done_ = true;
    stop("the bytes after the gzip member that ends at compressed byte " + std::to_string(member_end_) +
         " are not gzip data");
    return false;
  }
  // The compressed bytes inflate has taken so far (less what it holds unused in its bit buffer).
  uint64_t consumed() const { return pos_ - gz_->avail_in - uint64_t(std::max(0, gz_->read_in_length) / 8); }
  std::string where() const { return where(consumed()); }
  std::string where(uint64_t position) const {
    std::string at = std::to_string(position);
    return total_ > 0 ? at + " of " + std::to_string(total_) : at;
  }
  std::string damage(int rc) const {
    if (rc == ISAL_INCORRECT_CHECKSUM)
      return "the gzip check value does not match at compressed byte " + where() +
             " (incorrect data or length check): the text read may hold wrong bytes";
    const char* what = rc == ISAL_INVALID_BLOCK        ? "invalid deflate block"
                       : rc == ISAL_INVALID_SYMBOL     ? "invalid deflate symbol"
                       : rc == ISAL_INVALID_LOOKBACK   ? "invalid distance too far back"
                       : rc == ISAL_INVALID_WRAPPER    ? "invalid gzip header"
                       : rc == ISAL_UNSUPPORTED_METHOD ? "unknown compression method"
                                                       : "inflate error";
    return "damaged gzip data at compressed byte " + where() + " (" + what + ")";
  }
  bool refill() {
    ssize_t n = ssize_t(peeked_.take(in_.data(), in_.size()));
    if (n == 0) {
      do n = ::read(fd_, in_.data(), in_.size());
      while (n < 0 && errno == EINTR);
    }
    if (n < 0) {
      stop(std::string("read error at compressed byte ") + std::to_string(pos_) + ": " + std::strerror(errno));
      in_member_ = false;  // the read error is the reason it ends, not a cut
      return false;
    }
    pos_ += uint64_t(n);
    gz_->next_in = reinterpret_cast<uint8_t*>(in_.data());
    gz_->avail_in = uint32_t(n);
    return n > 0;
  }
  int fd_;
  bool owned_;
  uint64_t total_;
  uint64_t pos_ = 0;
  std::vector<char> in_;
  Peeked peeked_;
  std::unique_ptr<inflate_state> gz_;  // about 100 KB: on the heap
  bool in_member_ = false;             // inside a member that has not ended yet
  uint64_t member_end_ = 0;            // compressed bytes up to the end of the last whole member
  bool done_ = false;
};

int open_checked(const std::string& path, uint64_t& size, bool& regular) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(errno_text("cannot open", path));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw InputError(errno_text("cannot stat", path));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw InputError("cannot read " + path + ": is a directory");
  }
  regular = S_ISREG(st.st_mode);
  size = regular ? uint64_t(st.st_size) : 0;
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

bool is_gzip_magic(std::string_view two) { return two.size() == 2 && two[0] == '\x1f' && two[1] == '\x8b'; }

bool has_gzip_magic(int fd) {
  char magic[2];
  return ::pread(fd, magic, 2, 0) == 2 && is_gzip_magic({magic, 2});
}

// A pipe cannot be read twice: its first two bytes are read here and handed out later.
Peeked peek_two_bytes(int fd, const std::string& name) {
  Peeked p;
  char buf[2];
  while (p.bytes.size() < 2) {
    ssize_t n = ::read(fd, buf, 2 - p.bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(errno_text("cannot read", name));
    if (n == 0) break;
    p.bytes.append(buf, size_t(n));
  }
  return p;
}

// Stdin, a pipe or a FIFO, plain or gzip (by its first bytes, as for files).
std::unique_ptr<ByteSource> open_stream(int fd, bool owned, const std::string& name, size_t index, size_t block_size) {
  Peeked peeked = peek_two_bytes(fd, name);
  if (is_gzip_magic(peeked.bytes))
    return std::make_unique<GzipSource>(fd, owned, name, index, block_size, 0, std::move(peeked));
  return std::make_unique<FdSource>(fd, owned, false, name, index, block_size, 0, std::move(peeked));
}

}  // namespace

size_t prefix_of_lines(std::string_view text, size_t max_lines) {
  if (max_lines == 0) return 0;
  // Newlines are counted a chunk at a time until the chunk that holds the last wanted one: a
  // loop the compiler vectorizes at -O2 (the 8-bit count keeps it one byte per lane), about
  // 20 GB/s, where a memchr per line would cost a call for each of a million one-byte lines.
  constexpr size_t kChunk = 128;
  size_t lines = 0, pos = 0;
  for (; text.size() - pos >= kChunk; pos += kChunk) {
    uint8_t in_chunk = 0;
    const char* chunk = text.data() + pos;
    for (size_t i = 0; i < kChunk; ++i) in_chunk += chunk[i] == '\n';
    if (lines + in_chunk >= max_lines) break;
    lines += in_chunk;
  }
  for (; pos < text.size(); ++pos)
    if (text[pos] == '\n' && ++lines == max_lines) return pos + 1;
  return text.size();
}

std::unique_ptr<ByteSource> open_source(const std::string& path, size_t index, size_t block_size, ReadMode mode) {
  if (path == "-") return open_stream(0, false, "<stdin>", index, block_size);
  uint64_t size = 0;
  bool regular = false;
  int fd = open_checked(path, size, regular);
  if (!regular) return open_stream(fd, true, path, index, block_size);  // a FIFO, /dev/fd/N
  if (has_gzip_magic(fd)) return std::make_unique<GzipSource>(fd, true, path, index, block_size, size);
  if (mode == ReadMode::Deferred) return make_deferred_source(fd, path, index, block_size, size);
  return std::make_unique<FdSource>(fd, true, regular, path, index, block_size, size);
}

std::unique_ptr<ByteSource> open_source_fd(int fd, const std::string& name, size_t index, size_t block_size) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError("cannot read " + name + ": not a regular file");
  }
  // A descriptor opened O_NONBLOCK: reads of a regular file never block anyway.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (has_gzip_magic(fd)) return std::make_unique<GzipSource>(fd, true, name, index, block_size, uint64_t(st.st_size));
  return std::make_unique<FdSource>(fd, true, true, name, index, block_size, uint64_t(st.st_size));
}

std::unique_ptr<ByteSource> open_text_range(const std::string& path, size_t index, size_t block_size, uint64_t start,
                                            uint64_t end) {
  uint64_t size = 0;
  bool regular = false;
  int fd = open_checked(path, size, regular);
  auto refuse = [&](const std::string& why) {
    ::close(fd);
    return InputError("cannot read " + path + " from byte " + std::to_string(start) + ": " + why);
  };
  if (!regular || has_gzip_magic(fd)) throw refuse("not a plain file");
  if (start > end) throw refuse("past the end of the range");
  if (::lseek(fd, off_t(start), SEEK_SET) != off_t(start)) throw refuse(std::strerror(errno));
  return std::make_unique<FdSource>(fd, path, index, block_size, start, end);
}

std::string read_first_line(const std::string& path) {
  struct stat st;
  // A pipe or FIFO (/dev/fd/63 from `<(zcat …)`) cannot be read twice: its first block
  // would be gone from the real read.
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  auto src = open_source(path, 0, 1 << 16);
  Block b = src->next_block();
  std::string_view s = b.bytes;
  size_t nl = s.find('\n');
  return std::string(nl == std::string_view::npos ? s : s.substr(0, nl));
}

}  // namespace sw::logio

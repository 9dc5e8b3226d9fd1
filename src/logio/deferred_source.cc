#include "logio/deferred_source.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "base/fd_io.h"
#include "logio/buffer_pool.h"

namespace sw::logio {

namespace {

class DeferredSource : public ByteSource {
 public:
  DeferredSource(int fd, std::string name, size_t index, size_t block_size, uint64_t size)
      : fd_(fd), name_(std::move(name)), index_(index), block_size_(std::max<size_t>(block_size, 2)), size_(size) {}
  ~DeferredSource() override { ::close(fd_); }

  Block next_block() override {
    uint64_t start = next_;
    if (start >= size_) return {};
    uint64_t end = block_end(start);
    next_ = end;
    position_.store(end, std::memory_order_relaxed);
    Block b;
    b.input_index = index_;
    b.position = end;
    b.offset = start;
    b.deferred_from = this;
    b.deferred_length = size_t(end - start);
    return b;
  }

  void read_deferred(Block& b) const override {
    auto buf = pool_->take(b.deferred_length);
    int error = 0;
    size_t got = pread_fully(fd_, buf->data(), b.deferred_length, b.offset, error);
    if (got < b.deferred_length) note_short(b.offset + got, error);
    b.bytes = std::string_view(buf->data(), got);
    b.owner = std::move(buf);
    b.deferred_from = nullptr;
  }

  uint64_t position() const override { return position_.load(std::memory_order_relaxed); }
  uint64_t total_size() const override { return size_; }
  const std::string& name() const override { return name_; }
  bool rereadable() const override { return true; }
  bool read_at(uint64_t offset, size_t length, std::string& out) const override {
    return pread_exactly(fd_, offset, length, out);
  }

  std::string shortfall(uint64_t lines_read) const override {
    std::lock_guard lock(short_mutex_);
    if (short_at_ == kWhole) return {};
    std::string read = std::to_string(lines_read) + " lines";
    if (short_errno_)
      return name_ + ": read error at byte " + std::to_string(short_at_) + ": " + std::strerror(short_errno_) +
             "; the text from there to the end of its block is missing (" + read + " read)";
    return name_ + ": it was cut short while being read (" + read + ", " + std::to_string(short_at_) + " of " +
           std::to_string(size_) + " bytes; a copytruncate rotation?): the rest of it is now in the rotated copy";
  }

 private:
  static constexpr uint64_t kWhole = UINT64_MAX;
  static constexpr size_t kProbe = 4096;

  // Where the block from `start` ends: after the first newline from block_size bytes on (a
  // line longer than kMaxLineBytes is cut there, as InOrder reading cuts it), or at the end.
  uint64_t block_end(uint64_t start) {
    uint64_t limit = std::min(size_, start + std::max<uint64_t>(block_size_, kMaxLineBytes));
    char probe[kProbe];
    for (uint64_t at = std::min(size_, start + block_size_) - 1; at < limit; at += kProbe) {
      int error = 0;
      size_t got = pread_fully(fd_, probe, size_t(std::min<uint64_t>(kProbe, limit - at)), at, error);
      if (const void* nl = memchr(probe, '\n', got)) return at + uint64_t(static_cast<const char*>(nl) - probe) + 1;
      if (got < std::min<uint64_t>(kProbe, limit - at)) return at + got;  // cut short: the reads will say so
    }
    return limit;
  }

  void note_short(uint64_t at, int error) const {
    std::lock_guard lock(short_mutex_);
    if (at < short_at_) short_at_ = at, short_errno_ = error;
  }

  int fd_;
  std::string name_;
  size_t index_;
  size_t block_size_;
  uint64_t size_;
  uint64_t next_ = 0;                  // where the next block starts (the reading thread's)
  std::atomic<uint64_t> position_{0};  // read by progress reports on other threads
  mutable std::mutex short_mutex_;
  mutable uint64_t short_at_ = kWhole;  // the earliest byte a read could not reach
  mutable int short_errno_ = 0;
  std::shared_ptr<BufferPool> pool_ = BufferPool::make();
};

}  // namespace

std::unique_ptr<ByteSource> make_deferred_source(int fd, const std::string& name, size_t index, size_t block_size,
                                                 uint64_t size) {
  return std::make_unique<DeferredSource>(fd, name, index, block_size, size);
}

}  // namespace sw::logio

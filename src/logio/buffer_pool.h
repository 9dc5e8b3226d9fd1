// Recycles block buffers between the blocks of one source: fresh megabyte allocations would
// page-fault on every block.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sw::logio {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  std::shared_ptr<std::string> take(size_t size) {
    std::string* buf = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        buf = free_.back().release();
        free_.pop_back();
      }
    }
    if (!buf) buf = new std::string, ++live_;
    if (buf->size() < size) buf->resize(size);
    // The deleter holds the pool, so a block may outlive the source that produced it.
    return std::shared_ptr<std::string>(buf, [pool = shared_from_this()](std::string* b) { pool->give_back(b); });
  }
  static std::shared_ptr<BufferPool> make() { return std::make_shared<BufferPool>(); }
  ~BufferPool() { live_ -= free_.size(); }
  // Buffers of every pool not yet freed, in use or kept for reuse: what a source holds.
  static size_t live_buffers() { return live_.load(); }

 private:
  void give_back(std::string* b) {
    // (called by block deleters)
    std::lock_guard lock(mutex_);
    if (free_.size() < 16) {
      free_.emplace_back(b);
    } else {
      delete b;
      --live_;
    }
  }
  std::mutex mutex_;
  std::vector<std::unique_ptr<std::string>> free_;
  inline static std::atomic<size_t> live_{0};
};

}  // namespace sw::logio

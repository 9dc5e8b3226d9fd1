// Moves the cost of the heap's fresh pages off the thread that builds large tables. On the
// virtual machines we measured, the first write to a page (the kernel zeroing it, the host
// backing it) cost up to a fifth of `logs`' engine thread. While a HeapPrefaulter lives, the
// heap grows from the program break in large steps, and a background thread populates every
// new page with madvise(MADV_POPULATE_WRITE), which faults pages in without touching their
// contents, so it cannot race with the allocator's own writes. The allocator settings it
// makes (mallopt: top pad, trim and mmap thresholds) stay for the rest of the process; in
// `logs` only the report is printed after the scan.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace sw {

class HeapPrefaulter {
 public:
  // `step`: how far the heap grows at a time, so the background thread can stay ahead.
  explicit HeapPrefaulter(size_t step = size_t(16) << 20);
  ~HeapPrefaulter();
  HeapPrefaulter(const HeapPrefaulter&) = delete;
  HeapPrefaulter& operator=(const HeapPrefaulter&) = delete;

  // False when the kernel lacks MADV_POPULATE_WRITE (before Linux 5.14) or the allocator is
  // not glibc's brk heap (sanitizers): then it does nothing.
  bool active() const { return active_.load(); }
  size_t populated_bytes() const { return populated_.load(); }

 private:
  void run(uintptr_t start);

  std::atomic<bool> stop_{false};
  std::atomic<bool> active_{false};
  std::atomic<size_t> populated_{0};
  std::thread thread_;
};

}  // namespace sw

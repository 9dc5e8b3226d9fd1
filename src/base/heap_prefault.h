// Moves the cost of the heap's fresh pages off the thread that builds large tables, and backs
// them with transparent huge pages. On the virtual machines we measured, the first write to a
// page (the kernel zeroing it, the host backing it) cost up to a fifth of `logs`' engine
// thread, and the tables, hundreds of megabytes touched at random, miss the TLB on nearly every
// lookup with 4 KB pages.
//
// `huge_reserve` bytes of heap are reserved up front (address space only: nothing is touched)
// and advised MADV_HUGEPAGE before any use, so every first touch there faults in a 2 MB page;
// the background thread faults in, ahead of use, as much of it as the caller expects to use.
// Past the reserve, the heap grows from the program break in large steps, and a background
// thread advises and then populates each new piece with madvise(MADV_POPULATE_WRITE), which
// faults pages in without touching their contents, so it cannot race with the allocator's own
// writes. The allocator settings it makes (mallopt: top pad, trim and mmap thresholds) stay
// for the rest of the process; in `logs` only the report is printed after the scan.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace sw {

class HeapPrefaulter {
 public:
  // `step`: how far the heap grows at a time past the reserve, so the background thread can
  // stay ahead. `huge_reserve`: 0 for none (the pages stay as the allocator makes them).
  explicit HeapPrefaulter(size_t step = size_t(16) << 20, size_t huge_reserve = 0);
  ~HeapPrefaulter();
  HeapPrefaulter(const HeapPrefaulter&) = delete;
  HeapPrefaulter& operator=(const HeapPrefaulter&) = delete;

  // False when the kernel lacks MADV_POPULATE_WRITE (before Linux 5.14) or the allocator is
  // not glibc's brk heap (sanitizers): then it does nothing.
  bool active() const { return active_.load(); }
  // Bytes more of the reserve the caller expects its tables to take: the background thread
  // faults that much in ahead of use. Too little costs the engine faults of its own, too much
  // costs memory, so an estimate should err low.
  void expect_more(size_t bytes) { expected_ += bytes; }
  // A guess made before anything is known (the size of the state the last run stored): the
  // thread faults in at least that much, and as much as expect_more() adds up to when more.
  void expect_at_least(size_t bytes) { hinted_ = bytes; }
  // Where the reserve begins, and its bytes (0 when the break could not move).
  uintptr_t reserve_begin() const { return reserve_begin_; }
  size_t reserved_bytes() const { return reserved_; }
  size_t populated_bytes() const { return populated_.load(); }

 private:
  void reserve(size_t bytes);
  void run(uintptr_t start);
  bool populate(uintptr_t from, uintptr_t len);  // false: the kernel cannot

  const bool huge_pages_;
  uintptr_t reserve_begin_ = 0;
  size_t reserved_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> active_{false};
  std::atomic<size_t> populated_{0};
  std::atomic<size_t> expected_{0};
  std::atomic<size_t> hinted_{0};
  std::thread thread_;
};

}  // namespace sw

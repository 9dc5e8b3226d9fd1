#include "base/heap_prefault.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cstdint>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace sw {
namespace {

constexpr uintptr_t kPiece = uintptr_t(2) << 20;  // one huge page: stop stays responsive
constexpr int kLargestHeapBlock = 32 << 20;       // glibc's ceiling for M_MMAP_THRESHOLD

uintptr_t program_break() { return reinterpret_cast<uintptr_t>(sbrk(0)); }
uintptr_t page_up(uintptr_t at, uintptr_t page) { return (at + page - 1) & ~(page - 1); }

}  // namespace

HeapPrefaulter::HeapPrefaulter(size_t step, size_t huge_reserve) : huge_pages_(huge_reserve > 0) {
  // Large blocks from the brk heap too (not a private mmap each), grown a step at a time and
  // never trimmed back while we run: then all fresh pages lie just below the break.
  mallopt(M_MMAP_THRESHOLD, kLargestHeapBlock);
  mallopt(M_TRIM_THRESHOLD, int(std::min<size_t>(huge_reserve + step * 4, INT_MAX)));
  if (huge_reserve) reserve(huge_reserve);
  mallopt(M_TOP_PAD, int(step));
  active_ = true;
  uintptr_t start = program_break();  // read here: the caller allocates before the thread runs
  thread_ = std::thread([this, start] { run(start); });
}

void HeapPrefaulter::reserve(size_t bytes) {
  // Address space counts against a data or address-space limit: under one, a quarter of it at most.
  for (int resource : {RLIMIT_DATA, RLIMIT_AS}) {
    rlimit limit{};
    if (getrlimit(resource, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
      bytes = std::min<size_t>(bytes, limit.rlim_cur / 4);
  }
  if (bytes < kPiece) return;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t before = page_up(program_break(), page);
  // A block the top of the heap cannot hold makes the allocator move the break, by the block
  // and the top pad; freed at once, all of it stays as free space at the top (the trim
  // threshold is above it). volatile: the compiler would drop a malloc and free of nothing.
  mallopt(M_TOP_PAD, int(std::min<size_t>(bytes, INT_MAX - kLargestHeapBlock)));
  void* volatile probe = malloc(size_t(kLargestHeapBlock) - page);
  free(probe);
  uintptr_t after = program_break() & ~(page - 1);
  if (after <= before) return;  // the break could not move (RLIMIT_DATA, a foreign sbrk): no reserve
  madvise(reinterpret_cast<void*>(before), after - before, MADV_HUGEPAGE);  // EINVAL without THP: small pages
  reserve_begin_ = before, reserved_ = after - before;
}

HeapPrefaulter::~HeapPrefaulter() {
  stop_ = true;
  thread_.join();
}

bool HeapPrefaulter::populate(uintptr_t from, uintptr_t len) {
  if (madvise(reinterpret_cast<void*>(from), len, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
    active_ = false;  // an older kernel: the engine faults its own pages, as before
    return false;
  }
  populated_ += len;  // ENOMEM (a hole, or the heap shrank meanwhile) is skipped, not retried
  return true;
}

void HeapPrefaulter::run(uintptr_t start) {
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t done = start & ~(page - 1), advised = done, reserve_done = reserve_begin_;
  while (!stop_) {
    // First the part of the reserve the caller expects to use; the rest is faulted in by use.
    uintptr_t wanted = reserve_begin_ + std::min(std::max(expected_.load(), hinted_.load()), reserved_);
    if (reserve_done < wanted) {
      uintptr_t len = std::min(wanted - reserve_done, kPiece);
      if (!populate(reserve_done, len)) return;
      reserve_done += len;
      continue;
    }
    uintptr_t brk = program_break() & ~(page - 1);
    if (brk < done) done = brk;  // the heap shrank
    advised = std::min(advised, brk);
    if (brk == done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    uintptr_t len = std::min(brk - done, kPiece);
    if (huge_pages_ && advised < brk) {  // before populating: only what the allocator touched first stays small
      madvise(reinterpret_cast<void*>(std::max(advised, done)), brk - std::max(advised, done), MADV_HUGEPAGE);
      advised = brk;
    }
    if (!populate(done, len)) return;
    done += len;
  }
}

}  // namespace sw

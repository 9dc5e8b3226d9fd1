#include "base/heap_prefault.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace sw {
namespace {

constexpr uintptr_t kPiece = uintptr_t(2) << 20;  // one huge page: stop stays responsive

uintptr_t program_break() { return reinterpret_cast<uintptr_t>(sbrk(0)); }

}  // namespace

HeapPrefaulter::HeapPrefaulter(size_t step) {
  // Large blocks from the brk heap too (not a private mmap each), grown a step at a time and
  // never trimmed back while we run: then all fresh pages lie just below the break.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TOP_PAD, int(step));
  mallopt(M_TRIM_THRESHOLD, int(step) * 4);
  active_ = true;
  uintptr_t start = program_break();  // read here: the caller allocates before the thread runs
  thread_ = std::thread([this, start] { run(start); });
}

HeapPrefaulter::~HeapPrefaulter() {
  stop_ = true;
  thread_.join();
}

void HeapPrefaulter::run(uintptr_t start) {
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t done = start & ~(page - 1);
  while (!stop_) {
    uintptr_t brk = program_break() & ~(page - 1);
    if (brk < done) done = brk;  // the heap shrank
    if (brk == done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    uintptr_t len = brk - done < kPiece ? brk - done : kPiece;
    if (madvise(reinterpret_cast<void*>(done), len, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
      active_ = false;  // an older kernel: the engine faults its own pages, as before
      return;
    }
    done += len;  // ENOMEM (a hole, or the heap shrank meanwhile) is skipped, not retried
    populated_ += len;
  }
}

}  // namespace sw

// While a HeapPrefaulter runs, fresh heap pages are faulted in by its thread: the thread that
// allocated them then writes to them without page faults of its own.
#include "base/heap_prefault.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace sw {
namespace {

long own_minor_faults() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_minflt;
}

TEST(HeapPrefault, FreshHeapPagesAreFaultedInOffTheAllocatingThread) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizer's allocator does not grow the brk heap";
#endif
  constexpr size_t kBlock = 1 << 20, kBlocks = 48, kPage = 4096;
  HeapPrefaulter heap(size_t(8) << 20);
  std::vector<std::unique_ptr<char[]>> blocks;
  for (size_t i = 0; i < kBlocks; ++i) blocks.emplace_back(new char[kBlock]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (heap.active() && heap.populated_bytes() < kBlock * kBlocks && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (!heap.active()) GTEST_SKIP() << "kernel without MADV_POPULATE_WRITE";
  EXPECT_GE(heap.populated_bytes(), kBlock * kBlocks);

  long before = own_minor_faults();
  for (auto& b : blocks)
    for (size_t at = 0; at < kBlock; at += kPage) b[at] = 1;
  long faults = own_minor_faults() - before;
  EXPECT_LT(faults, long(kBlocks * kBlock / kPage / 20)) << "of " << kBlocks * kBlock / kPage << " pages";
}

}  // namespace
}  // namespace sw

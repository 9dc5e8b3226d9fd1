// While a HeapPrefaulter runs, fresh heap pages are faulted in by its thread: the thread that
// allocated them then writes to them without page faults of its own.
#include "base/heap_prefault.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
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

// A field of /proc/self/smaps_rollup ("Anonymous:", "AnonHugePages:"), in kB; -1 if absent.
long memory_kb(const std::string& field) {
  std::ifstream rollup("/proc/self/smaps_rollup");
  for (std::string line; std::getline(rollup, line);)
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  return -1;
}

bool transparent_huge_pages_off() {
  std::ifstream setting("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text((std::istreambuf_iterator<char>(setting)), std::istreambuf_iterator<char>());
  return text.empty() || text.find("[never]") != std::string::npos;
}

// The reserve is address space: it costs no memory until touched, and what is allocated from
// it comes in huge pages.
TEST(HeapPrefault, HugeReserveCostsNoMemoryUntilUsedAndThenComesInHugePages) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizer's allocator does not grow the brk heap";
#endif
  if (transparent_huge_pages_off()) GTEST_SKIP() << "transparent huge pages are off";
  constexpr size_t kBlock = 1 << 20, kBlocks = 48, kPage = 4096;
  long anon_before = memory_kb("Anonymous:"), huge_before = memory_kb("AnonHugePages:");
  ASSERT_GE(anon_before, 0) << "no /proc/self/smaps_rollup";
  HeapPrefaulter heap(size_t(8) << 20, size_t(128) << 20);
  // The break moves by the reserve less what free space the heap's top already held.
  ASSERT_GE(heap.reserved_bytes(), (size_t(128) << 20) - (size_t(2) << 20));
  EXPECT_LT(memory_kb("Anonymous:") - anon_before, 16 * 1024) << "the reserve was touched";

  // Blocks come from free space below the reserve first (left by earlier tests): only those in
  // the reserve count.
  std::vector<std::unique_ptr<char[]>> blocks;
  size_t in_reserve = 0;
  for (size_t i = 0; i < 2 * kBlocks && in_reserve < kBlocks; ++i) {
    blocks.emplace_back(new char[kBlock]);
    auto at = reinterpret_cast<uintptr_t>(blocks.back().get());
    if (at < heap.reserve_begin() || at + kBlock > heap.reserve_begin() + heap.reserved_bytes()) continue;
    ++in_reserve;
    for (size_t offset = 0; offset < kBlock; offset += kPage) blocks.back()[offset] = 1;
  }
  ASSERT_EQ(in_reserve, kBlocks);
  // 48 MB touched: all but the reserve's ragged first 2 MB in huge pages (with 4 KB pages: none).
  EXPECT_GE(memory_kb("AnonHugePages:") - huge_before, long(kBlocks - 4) * 1024);
}

}  // namespace
}  // namespace sw

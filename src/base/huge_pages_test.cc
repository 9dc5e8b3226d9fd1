#include "base/huge_pages.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace sw {
namespace {

constexpr const char* kChildFlag = "SW_HUGE_PAGE_TEST_CHILD";

long anon_huge_kb() {
  std::ifstream smaps("/proc/self/smaps_rollup");
  std::string line;
  while (std::getline(smaps, line))
    if (line.rfind("AnonHugePages:", 0) == 0) return std::atol(line.c_str() + 14);
  return -1;
}

bool thp_possible() {
#if defined(__SANITIZE_ADDRESS__)
  return false;  // AddressSanitizer's allocator replaces glibc malloc and its tunables
#endif
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(f, mode);
  return !mode.empty() && mode.find("[never]") == std::string::npos;
}

// Runs only inside the re-executed child the next test starts.
TEST(HugePageHeap, ChildReport) {
  if (!std::getenv(kChildFlag)) GTEST_SKIP() << "runs as the child of ReexecutesWithTunable";
  char self[] = "unused";
  char* argv[] = {self, nullptr};
  reexec_with_huge_page_heap(argv);  // second call in the new image: tidies up, returns
  // Many small blocks, like the engine's tables: they come from the main heap, the part the
  // tunable backs with huge pages.
  std::vector<char*> blocks;
  for (int i = 0; i < 200000; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(320)));
    std::memset(blocks.back(), 1, 320);
  }
  std::ifstream comm_file("/proc/self/comm");
  std::string comm;
  std::getline(comm_file, comm);
  std::printf("comm=%s\n", comm.c_str());
  std::printf("tunables=%s huge_kb=%ld\n", std::getenv("GLIBC_TUNABLES") ? "set" : "unset", anon_huge_kb());
  std::fflush(stdout);
  for (char* b : blocks) std::free(b);
}

TEST(HugePageHeap, ReexecutesWithTunableAndLeavesNoTrace) {
  if (std::getenv(kChildFlag)) GTEST_SKIP();
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    setenv(kChildFlag, "1", 1);
    unsetenv("GLIBC_TUNABLES");
    char exe[] = "self", filter[] = "--gtest_filter=HugePageHeap.ChildReport";
    char* argv[] = {exe, filter, nullptr};
    reexec_with_huge_page_heap(argv);
    _exit(99);  // exec failed
  }
  close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, size_t(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << text;
  auto at = text.find("tunables=");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_EQ(text.substr(at, 16), "tunables=unset h") << "the child must not pass the tunable on";
  EXPECT_NE(text.find("comm=base_test\n"), std::string::npos) << "keeps its name in ps: " << text;
  long huge_kb = std::atol(text.c_str() + text.find("huge_kb=") + 8);
  if (thp_possible()) {
    EXPECT_GT(huge_kb, 0) << text;
  }
}

TEST(HugePageHeap, RespectsTheUsersOwnTunables) {
  if (std::getenv(kChildFlag)) GTEST_SKIP();
  setenv("GLIBC_TUNABLES", "glibc.malloc.check=0", 1);
  char exe[] = "self";
  char* argv[] = {exe, nullptr};
  reexec_with_huge_page_heap(argv);  // must return without exec
  EXPECT_STREQ(std::getenv("GLIBC_TUNABLES"), "glibc.malloc.check=0");
  unsetenv("GLIBC_TUNABLES");
}

}  // namespace
}  // namespace sw

#include "base/huge_pages.h"

#include <unistd.h>

#include <cstdlib>

namespace sw {
namespace {
constexpr const char* kTunables = "GLIBC_TUNABLES";
constexpr const char* kMarker = "SPAMWARDEN_HUGE_PAGE_HEAP";  // set only across our own exec
}  // namespace

void reexec_with_huge_page_heap(char** argv) {
  if (std::getenv(kMarker)) {  // the re-executed process: tunables are read, tidy up
    unsetenv(kMarker);
    unsetenv(kTunables);
    return;
  }
  if (std::getenv(kTunables)) return;
  if (setenv(kTunables, "glibc.malloc.hugetlb=1", 1) != 0 || setenv(kMarker, "1", 1) != 0) return;
  // The binary's real path, not /proc/self/exe: the process keeps its name in ps and top.
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    execv(self, argv);
  }
  unsetenv(kMarker);  // exec failed (no /proc?): run as we are
  unsetenv(kTunables);
}

}  // namespace sw

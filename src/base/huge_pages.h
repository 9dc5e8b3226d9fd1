// Backs the heap with transparent huge pages for the jobs that build large in-memory tables
// (`logs`, `watch`). Their actor tables are hundreds of megabytes touched at random: with 4 KB
// pages the first touch of every page faults and random lookups miss the TLB. glibc reads its
// malloc tunables only at process start, so this re-executes the program once with
// glibc.malloc.hugetlb=1 (THP via madvise; works with the kernel's default "madvise" mode).
#pragma once

namespace sw {

// Call first thing in main(). Returns only when no re-exec happened or it failed, and then
// leaves the environment as it found it, so child processes (exim) inherit nothing. A user's
// own GLIBC_TUNABLES is respected as is.
void reexec_with_huge_page_heap(char** argv);

}  // namespace sw

// Log lines of a kind any local client can cause by the thousand (bad requests, connections
// refused at the cap, requests never finished): the 1st, 2nd, 4th, 8th... of each kind are
// written, with the count so far, so a flood cannot fill the log. Safe from many threads.
#pragma once
#include <atomic>
#include <cstdint>

namespace sw::daemon {

class ThinnedLog {
 public:
  // Counts one occurrence; true when it is one to write. *so_far: the count with it.
  bool next(uint64_t* so_far) {
    uint64_t n = count_.fetch_add(1, std::memory_order_relaxed) + 1;
    *so_far = n;
    return (n & (n - 1)) == 0;
  }

 private:
  std::atomic<uint64_t> count_{0};
};

}  // namespace sw::daemon

// Backward-shift deletion, shared by the linear-probing tables (FlatMap, PooledMap, the policy
// daemon's counter store): no tombstones, so a lookup stops at the first empty slot.
#pragma once
#include <cstddef>

namespace sw {

// The slot `hole` is being emptied: later members of its probe run move back into it, one at
// a time, so no lookup stops early. Returns the slot left empty at the end, for the caller to
// clear. `next(j)` is the slot after j (wrapping), `used(j)` whether j holds an entry, `home(j)`
// where the entry in j hashes to, `move(to, from)` moves an entry.
template <class Next, class Used, class Home, class Move>
size_t shift_back(size_t hole, Next next, Used used, Home home, Move move) {
  for (size_t j = next(hole); used(j); j = next(j)) {
    size_t h = home(j);
    bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);  // its run still reaches it
    if (stays) continue;
    move(hole, j);
    hole = j;
  }
  return hole;
}

}  // namespace sw

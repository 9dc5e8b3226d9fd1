// scan_floor: the least work any per-message report of an Exim main log must do, as a peer
// in the benchmark, so the speed targets can be set against what this machine allows.
//
//   scan_floor LOG
//
// It reads every byte (pread, 1 MB blocks, as `spamwarden logs` does), splits the lines, and
// joins each line to its message by id: one hash-table lookup per line, the entry dropped at
// the message's Completed line. Nothing else: no field is parsed, no actor counted, no report
// written. It is deliberately optimistic:
//   - every core takes one contiguous slice of the file, and a message whose lines fall in
//     two slices is simply seen twice (a real report must join it, and keep time order);
//   - the id is taken from a fixed place after the timestamp and optional [pid], not parsed.
// Prints "lines N ids M" (M: lines that carried an id) so a run can be checked.
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

#include "log_slices.h"

namespace {

// Open addressing, linear probing, backward-shift erase: the cheapest join table there is.
class IdTable {
 public:
  explicit IdTable(size_t log2) : slots_(size_t(1) << log2), mask_(slots_.size() - 1) {}
  // Counts a line for this id; erases the entry when `last` (its Completed line).
  void touch(uint64_t a, uint64_t b, bool last) {
    size_t i = home(a, b);
    while (slots_[i].used && !(slots_[i].a == a && slots_[i].b == b)) i = (i + 1) & mask_;
    if (slots_[i].used) {
      ++slots_[i].lines;
      if (last) erase(i);
      return;
    }
    if (last) return;
    insert({a, b, 1, true});
    if (++size_ * 4 > slots_.size() * 3) grow();
  }

 private:
  struct Slot {
    uint64_t a = 0, b = 0;
    uint32_t lines = 0;
    bool used = false;
  };
  size_t home(uint64_t a, uint64_t b) const {
    return size_t(((a * 0x9E3779B97F4A7C15ull) ^ b) * 0xFF51AFD7ED558CCDull >> 17) & mask_;
  }
  void insert(const Slot& s) {
    size_t i = home(s.a, s.b);
    while (slots_[i].used) i = (i + 1) & mask_;
    slots_[i] = s;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.used) insert(s);
  }
  void erase(size_t i) {
    --size_;
    for (size_t j = (i + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
      size_t h = home(slots_[j].a, slots_[j].b);
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
  }
  std::vector<Slot> slots_;
  size_t mask_;
  size_t size_ = 0;
};

struct Tally {
  uint64_t lines = 0, ids = 0;
};

void visit(std::string_view line, IdTable& table, Tally& t) {
  ++t.lines;
  uint64_t a, b;
  size_t text;
  if (!bench::message_id(line, a, b, text)) return;
  ++t.ids;
  bool completed = line.size() >= 9 && line.substr(line.size() - 9) == "Completed";
  table.touch(a, b, completed);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: scan_floor LOG\n");
    return 2;
  }
  std::vector<Tally> tallies(bench::cores());
  bench::on_every_core(argv[1], unsigned(tallies.size()), [&](int fd, uint64_t from, uint64_t to, unsigned slice) {
    IdTable table(16);
    Tally& t = tallies[slice];
    bench::scan_slice(
        fd, from, to, [&](std::string_view line) { visit(line, table, t); }, [] {});
  });
  Tally all;
  for (const Tally& t : tallies) {
    all.lines += t.lines;
    all.ids += t.ids;
  }
  std::printf("lines %llu ids %llu\n", static_cast<unsigned long long>(all.lines),
              static_cast<unsigned long long>(all.ids));
  return 0;
}

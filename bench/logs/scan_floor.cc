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
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kMaxLine = 1 << 20;  // a longer line is cut (counted, not joined)

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

// Exim: "YYYY-MM-DD HH:MM:SS[.mmm] [+zone] [[pid]] ID ...". Returns false for lines without
// an id where one would be (connection, queue-run and rejection lines).
bool id_of(std::string_view line, uint64_t& a, uint64_t& b) {
  size_t p = 20;
  if (p < line.size() && line[p] == '[') {
    size_t q = line.find("] ", p);
    if (q == std::string_view::npos) return false;
    p = q + 2;
  }
  if (line.size() < p + 17 || line[p + 6] != '-') return false;
  bool long_id = line[p + 16] != ' ';  // 23 characters (Exim 4.97+) rather than 16
  if (long_id && (line.size() < p + 24 || line[p + 23] != ' ')) return false;
  std::memcpy(&a, line.data() + p, 8);
  std::memcpy(&b, line.data() + p + 8, 8);
  if (long_id) {
    uint64_t c;
    std::memcpy(&c, line.data() + p + 15, 8);
    b ^= c * 0x9E3779B97F4A7C15ull;
  }
  return true;
}

void visit(std::string_view line, IdTable& table, Tally& t) {
  ++t.lines;
  uint64_t a, b;
  if (!id_of(line, a, b)) return;
  ++t.ids;
  bool completed = line.size() >= 9 && line.substr(line.size() - 9) == "Completed";
  table.touch(a, b, completed);
}

// Lines that start in [from, to): a slice starts reading one byte early and skips through
// the first newline (the line before it, or just that newline), and reads on past `to` to
// finish its last line.
Tally scan_slice(int fd, uint64_t from, uint64_t to) {
  Tally t;
  IdTable table(16);
  std::vector<char> buf(kBlock + kMaxLine);
  bool skip_first = from != 0;
  uint64_t pos = skip_first ? from - 1 : 0;
  size_t have = 0;
  for (;;) {
    ssize_t r = pread(fd, buf.data() + have, buf.size() - have, off_t(pos));
    if (r < 0) { std::perror("scan_floor: read"); std::exit(2); }
    bool eof = r == 0;
    size_t len = have + size_t(r), start = 0;
    uint64_t base = pos - have;  // file offset of buf[0]
    pos += uint64_t(r);
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf.data() + start, '\n', len - start));
      if (!nl) break;
      size_t end = size_t(nl - buf.data());
      if (base + start >= to && !skip_first) return t;
      if (skip_first) skip_first = false;
      else visit({buf.data() + start, end - start}, table, t);
      start = end + 1;
    }
    if (eof) {
      if (start < len && base + start < to && !skip_first) visit({buf.data() + start, len - start}, table, t);
      return t;
    }
    have = len - start;
    if (have >= kMaxLine) have = 0;  // an over-long line: drop what we have of it
    std::memmove(buf.data(), buf.data() + start, have);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: scan_floor LOG\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::perror(argv[1]);
    return 2;
  }
  unsigned n = std::max(1u, std::thread::hardware_concurrency());
  uint64_t size = uint64_t(st.st_size);
  std::vector<Tally> tallies(n);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < n; ++i)
    threads.emplace_back([&, i] { tallies[i] = scan_slice(fd, size * i / n, size * (i + 1) / n); });
  for (auto& th : threads) th.join();
  Tally all;
  for (const Tally& t : tallies) {
    all.lines += t.lines;
    all.ids += t.ids;
  }
  std::printf("lines %llu ids %llu\n", static_cast<unsigned long long>(all.lines),
              static_cast<unsigned long long>(all.ids));
  return 0;
}

// What the reference peers of the logs benchmark (scan_floor, scan_lean) share: one slice of
// the file per core, read with pread in 1 MB blocks as `spamwarden logs` reads, and the
// message id located at its fixed place after the timestamp. Header-only, libc and threads.
#pragma once
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

namespace bench {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kMaxLine = 1 << 20;  // a longer line is dropped

// The line's message id as two words (a, b), and where the text after it starts. Exim:
// "YYYY-MM-DD HH:MM:SS [[pid]] ID text"; the id is 16 characters (xxxxxx-xxxxxx-xx) or, from
// Exim 4.97, 23 (xxxxxx-xxxxxxxxxxx-xxxx). False for lines without one (connections,
// rejections, cwd=, queue runs).
inline bool message_id(std::string_view line, uint64_t& a, uint64_t& b, size_t& text) {
  size_t p = 20;
  if (p < line.size() && line[p] == '[') {
    size_t q = line.find("] ", p);
    if (q == std::string_view::npos) return false;
    p = q + 2;
  }
  bool short_id = line.size() >= p + 17 && line[p + 6] == '-' && line[p + 13] == '-' && line[p + 16] == ' ';
  bool long_id = !short_id && line.size() >= p + 24 && line[p + 6] == '-' && line[p + 18] == '-' && line[p + 23] == ' ';
  if (!short_id && !long_id) return false;
  std::memcpy(&a, line.data() + p, 8);
  std::memcpy(&b, line.data() + p + 8, 8);
  if (long_id) {
    uint64_t c;
    std::memcpy(&c, line.data() + p + 15, 8);
    b ^= c * 0x9E3779B97F4A7C15ull;
  }
  text = p + (long_id ? 24 : 17);
  return true;
}

// Calls visit(line) for the lines that start in [from, to): a slice starts one byte early and
// skips through the first newline (the line before it, or just that newline), and reads on
// past `to` to finish its last line. after_block() runs once each block's lines are visited,
// before the buffer is reused (views into it end there).
template <class Visit, class AfterBlock>
void scan_slice(int fd, uint64_t from, uint64_t to, Visit&& visit, AfterBlock&& after_block) {
  std::vector<char> buf(kBlock + kMaxLine);
  bool skip_first = from != 0;
  uint64_t pos = skip_first ? from - 1 : 0;
  size_t have = 0;
  for (;;) {
    ssize_t r = pread(fd, buf.data() + have, buf.size() - have, off_t(pos));
    if (r < 0) {
      std::perror("read");
      std::exit(2);
    }
    bool eof = r == 0;
    size_t len = have + size_t(r), start = 0;
    uint64_t base = pos - have;  // file offset of buf[0]
    pos += uint64_t(r);
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf.data() + start, '\n', len - start));
      if (!nl) break;
      size_t end = size_t(nl - buf.data());
      if (base + start >= to && !skip_first) return after_block();
      if (skip_first) skip_first = false;
      else visit(std::string_view(buf.data() + start, end - start));
      start = end + 1;
    }
    if (eof) {
      if (start < len && base + start < to && !skip_first) visit(std::string_view(buf.data() + start, len - start));
      return after_block();
    }
    after_block();
    have = len - start;
    if (have >= kMaxLine) have = 0;  // an over-long line: drop what we have of it
    std::memmove(buf.data(), buf.data() + start, have);
  }
}

// Opens `path` and runs work(fd, from, to, slice) on every core, one contiguous slice each.
template <class Work>
void on_every_core(const char* path, unsigned slices, Work&& work) {
  int fd = open(path, O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::perror(path);
    std::exit(2);
  }
  uint64_t size = uint64_t(st.st_size);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < slices; ++i)
    threads.emplace_back([&, i] { work(fd, size * i / slices, size * (i + 1) / slices, i); });
  for (auto& t : threads) t.join();
  close(fd);
}

inline unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

}  // namespace bench

#include "stats/summary_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <regex>

#include "base/atomic_file.h"
#include "base/fd_io.h"
#include "base/text.h"

namespace sw::stats {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "SWLOGSUM";
constexpr size_t kHashedEdge = 64 << 10;
constexpr std::string_view kSuffix = ".sum";

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t key_size;
  uint64_t state_size;
  uint64_t checksum;  // of the key and the state
};

// Of the key and the state's stream checksum.
uint64_t checksum_of(std::string_view key, uint64_t state_checksum) {
  return hash_bytes(key) * 0x9E3779B97F4A7C15ull ^ state_checksum;
}

Header header_for(const std::string& key, uint64_t state_size, uint64_t state_checksum) {
  Header h{};
  std::memcpy(h.magic, kMagic.data(), sizeof h.magic);
  h.version = SummaryCache::kFormatVersion;
  h.key_size = uint32_t(key.size());
  h.state_size = state_size;
  h.checksum = checksum_of(key, state_checksum);
  return h;
}

// Keys are a few hundred bytes; a larger size is damage, not to be allocated.
constexpr uint32_t kMaxKeyBytes = 1 << 16;

// Whether a header is one of ours, with `available` bytes after it.
bool header_fits(const Header& h, uint64_t available) {
  return std::string_view(h.magic, sizeof h.magic) == kMagic && h.version == SummaryCache::kFormatVersion &&
         h.key_size <= kMaxKeyBytes && available == h.key_size + h.state_size;
}

std::optional<uint64_t> hash_range(int fd, uint64_t offset, size_t length) {
  std::string buf;
  if (!pread_exactly(fd, offset, length, buf)) return std::nullopt;
  return hash_bytes(buf);
}

}  // namespace

std::optional<uint64_t> whole_file_checksum(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  StreamChecksum sum;
  std::string buf(StreamChecksum::kBlock, '\0');
  std::optional<uint64_t> value;
  for (off_t at = 0;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) {
      value = sum.value();
      break;
    }
    sum.add(std::string_view(buf.data(), size_t(n)));
    at += n;
  }
  ::close(fd);
  return value;
}

bool is_rotated_log_name(std::string_view path) {
  std::string_view base = path.substr(path.rfind('/') + 1);
  if (base.ends_with(".gz")) return true;
  static const std::regex rotated(R"(.+(\.[0-9]+|-[0-9]{8}))");
  return std::regex_match(base.begin(), base.end(), rotated);
}

std::optional<FileIdentity> identify_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st;
  std::optional<FileIdentity> id;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    uint64_t size = uint64_t(st.st_size), edge = std::min<uint64_t>(size, kHashedEdge);
    auto head = hash_range(fd, 0, edge), tail = hash_range(fd, size - edge, edge);
    if (head && tail)
      id = FileIdentity{uint64_t(st.st_dev),
                        uint64_t(st.st_ino),
                        size,
                        int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                        *head,
                        *tail};
  }
  ::close(fd);
  return id;
}

std::optional<LiveMark> mark_live_log(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st;
  std::optional<LiveMark> mark;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) >= offset) {
    uint64_t edge = std::min<uint64_t>(offset, kHashedEdge);
    auto head = hash_range(fd, 0, edge), before = hash_range(fd, offset - edge, edge);
    if (head && before) mark = LiveMark{uint64_t(st.st_dev), uint64_t(st.st_ino), offset, *head, *before};
  }
  ::close(fd);
  return mark;
}

std::optional<uint64_t> end_of_complete_lines(const std::string& path, uint64_t size) {
  constexpr uint64_t kLongestUnfinished = 1 << 20, kStep = 64 << 10;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<uint64_t> end;
  std::string buf(kStep, '\0');
  for (uint64_t to = size; to > 0 && size - to < kLongestUnfinished;) {
    uint64_t from = to > kStep ? to - kStep : 0;
    ssize_t n = ::pread(fd, buf.data(), to - from, off_t(from));
    if (n != ssize_t(to - from)) break;
    if (const void* nl = memrchr(buf.data(), '\n', size_t(n))) {
      end = from + uint64_t(static_cast<const char*>(nl) - buf.data()) + 1;
      break;
    }
    to = from;
    if (to == 0) end = 0;
  }
  if (size == 0) end = 0;
  ::close(fd);
  return end;
}

std::string live_key(std::string_view slot, const LiveMark& m) {
  return fmt::format("{}|live {}:{}:{}:{:016x}:{:016x}", slot, m.device, m.inode, m.offset, m.head_hash, m.before_hash);
}

std::optional<LiveMark> parse_live_key(std::string_view slot, std::string_view key) {
  std::string_view prefix = "|live ";
  if (!key.starts_with(slot) || key.substr(slot.size(), prefix.size()) != prefix) return std::nullopt;
  std::string mark(key.substr(slot.size() + prefix.size()));
  LiveMark m;
  unsigned long long dev, ino, offset, head, before;
  int used = 0;
  if (std::sscanf(mark.c_str(), "%llu:%llu:%llu:%16llx:%16llx%n", &dev, &ino, &offset, &head, &before, &used) != 5 ||
      size_t(used) != mark.size())
    return std::nullopt;
  m = LiveMark{dev, ino, offset, head, before};
  return live_key(slot, m) == key ? std::optional(m) : std::nullopt;  // one spelling only
}

std::string SummaryCache::key(const std::vector<FileIdentity>& files, std::string_view options) {
  std::string k = fmt::format("v{} {}", kFormatVersion, options);
  for (const FileIdentity& f : files)
    k += fmt::format("|{}:{}:{}:{}:{:016x}:{:016x}", f.device, f.inode, f.size, f.mtime_ns, f.head_hash, f.tail_hash);
  return k;
}

SummaryCache::SummaryCache(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {
  remove_stale_temporaries_in(dir_, kSuffix);
}

std::string SummaryCache::path_for(const std::string& key) const {
  return fmt::format("{}/{:016x}{}", dir_, hash_bytes(key), kSuffix);
}

namespace {

size_t read_some(int fd, std::string& buffer, size_t max) {
  size_t before = buffer.size();
  buffer.resize(before + max);
  ssize_t n;
  do n = ::read(fd, buffer.data() + before, max);
  while (n < 0 && errno == EINTR);
  buffer.resize(before + size_t(std::max<ssize_t>(n, 0)));
  return size_t(std::max<ssize_t>(n, 0));
}

// The entry mapped read-only beside its reading: what the engine keeps of it as it lies (the
// copied evidence lines, tens of MB on a week of gzip logs) is then not copied to the heap,
// and its pages are read only for the few lines a report prints. Nothing is read through the
// mapping while the entry is loaded: read(2) into a small buffer was measured faster than
// walking the mapping's pages. Entries are replaced by rename, never rewritten in place, so
// the mapping holds the bytes read for as long as it lives.
std::shared_ptr<const void> map_entry(int fd, uint64_t size) {
  void* bytes = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (bytes == MAP_FAILED) return nullptr;
  return std::shared_ptr<const void>(bytes, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
}

}  // namespace

std::string SummaryCache::encode(const std::string& key, std::string_view state) {
  StreamChecksum sum;
  sum.add(state);
  Header h = header_for(key, state.size(), sum.value());
  return std::string(reinterpret_cast<const char*>(&h), sizeof h) + key + std::string(state);
}

std::optional<std::string> SummaryCache::decode(std::string_view file, const std::string& key) {
  if (file.size() < sizeof(Header)) return std::nullopt;
  Header h;
  std::memcpy(&h, file.data(), sizeof h);
  file.remove_prefix(sizeof h);
  if (!header_fits(h, file.size()) || file.substr(0, h.key_size) != key) return std::nullopt;
  StateReader r(file.substr(h.key_size));
  std::string state(r.take(r.left()));
  if (checksum_of(key, r.checksum()) != h.checksum) return std::nullopt;
  return state;
}

bool SummaryCache::load(const std::string& slot, const std::function<bool(std::string_view key)>& fits,
                        const std::function<void(StateReader&)>& consume, Strings strings) const {
  std::string path = path_for(slot);
  // Not blocking: a FIFO put where an entry was would wait for a writer forever (it is then
  // no regular file, and removed).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  bool good = false, stale = false;
  struct stat st;
  Header h;
  std::string key;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) >= sizeof h &&
      ::read(fd, &h, sizeof h) == ssize_t(sizeof h) && header_fits(h, uint64_t(st.st_size) - sizeof h) &&
      read_some(fd, key, h.key_size) == h.key_size) {
    stale = !fits(key);
    StateReader r([fd](std::string& buffer, size_t max) { return read_some(fd, buffer, max); }, h.state_size);
    if (auto mapped = strings == Strings::Mapped ? map_entry(fd, uint64_t(st.st_size)) : nullptr)
      r.set_backing(static_cast<const char*>(mapped.get()) + sizeof h + h.key_size, mapped);
    try {
      if (!stale) consume(r);
      good = !stale && r.left() == 0 && checksum_of(key, r.checksum()) == h.checksum;
    } catch (const StateError&) {
    }
  }
  ::close(fd);
  if (!good) {
    if (!stale) ::unlink(path.c_str());  // rebuilt by this run
    return false;
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // recently used: evicted last
  return true;
}

std::string SummaryCache::write_aside(const std::string& slot, const std::string& key,
                                      const std::function<void(StateWriter&)>& produce) const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  std::string temp = temporary_path(path_for(slot));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {};
  // The header, whose sizes and checksum are known at the end, is written again then.
  Header h{};
  bool written = write_all(fd, std::string_view(reinterpret_cast<const char*>(&h), sizeof h)) && write_all(fd, key);
  StateWriter w([fd](std::string_view bytes) { return write_all(fd, bytes); });
  if (written) produce(w);
  written = written && w.finish();
  h = header_for(key, w.size(), w.checksum());
  written = written && ::pwrite(fd, &h, sizeof h, 0) == ssize_t(sizeof h);
  if (::close(fd) != 0 || !written) {
    discard(temp);
    return {};
  }
  return temp;
}

void SummaryCache::commit(const std::string& slot, const std::string& aside) const {
  if (aside.empty()) return;
  if (::rename(aside.c_str(), path_for(slot).c_str()) != 0) return discard(aside);
  evict();
}

void SummaryCache::discard(const std::string& aside) {
  if (!aside.empty()) ::unlink(aside.c_str());
}

std::vector<SummaryCache::Entry> SummaryCache::entries() const {
  std::vector<Entry> entries;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() != kSuffix || !e.is_regular_file(ec)) continue;
    entries.push_back({e.path(), e.file_size(ec), e.last_write_time(ec)});
  }
  return entries;
}

uint64_t SummaryCache::latest_entry_bytes() const {
  std::vector<Entry> all = entries();
  auto latest =
      std::max_element(all.begin(), all.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  return latest == all.end() ? 0 : latest->size;
}

void SummaryCache::evict() const {
  std::vector<Entry> all = entries();
  uint64_t total = 0;
  for (const Entry& e : all) total += e.size;
  std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  std::error_code ec;
  for (const Entry& e : all) {
    if (total <= max_bytes_) break;
    fs::remove(e.path, ec);
    total -= e.size;
  }
}

}  // namespace sw::stats

#include "spool/spool_location.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/text.h"
#include "eximlog/message_id.h"

namespace sw::spool {
namespace {

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Why <dir>/input is not a spool's input directory: absent, or out of this user's reach.
std::string no_input_directory(const std::string& dir) {
  struct stat st;
  const std::string input = dir + "/input";
  if (::stat(input.c_str(), &st) != 0 && errno != ENOENT && errno != ENOTDIR)
    return "cannot read " + input + ": " + std::strerror(errno);
  return "no input/ directory under " + dir;
}

struct Subdirectory {
  std::string input_dir, msglog_dir;
  bool moved_frozen;
};

// Adds "<id>-H" entries of one directory, noting which have a "<id>-D" beside them; its
// one-character subdirectories (split spool) go to *subdirs when given.
// A missing directory is only an error when `required` (input/ itself; Finput/ and split
// subdirectories come and go); one that exists but cannot be listed always is.
void scan_input_dir(const std::string& dir, const std::string& msglog_dir, bool moved_frozen, bool required,
                    std::vector<Subdirectory>* subdirs, SpoolListing& out) {
  DIR* handle = ::opendir(dir.c_str());
  if (!handle) {
    if (required || (errno != ENOENT && errno != ENOTDIR))
      out.unreadable_dirs.push_back("cannot read " + dir + ": " + std::strerror(errno));
    return;
  }
  const uint16_t dir_index = uint16_t(out.input_dirs.size());
  out.input_dirs.push_back(dir);
  out.msglog_dirs.push_back(msglog_dir);
  out.moved_frozen.push_back(moved_frozen);
  const size_t first = out.entries.size();
  std::vector<SpoolListing::Entry> data_files;
  // Room for what the directory can hold (about 28 bytes per entry on disk, half of them -H),
  // so a big queue is not copied over and over while the vectors grow.
  struct stat st;
  if (::fstat(::dirfd(handle), &st) == 0 && st.st_size > 0) {
    size_t expected = std::min<size_t>(size_t(st.st_size) / 28 / 2 + 16, 1u << 22);
    if (first + expected > out.entries.capacity())  // geometric, or split spools copy per subdirectory
      out.entries.reserve(std::max(first + expected, 2 * out.entries.capacity()));
    data_files.reserve(expected);
  }
  while (const dirent* entry = ::readdir(handle)) {
    std::string_view name = entry->d_name;
    if (name.size() == 1 && subdirs && eximlog::base62_value(name[0]) >= 0) {
      if (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN)
        subdirs->push_back({dir + "/" + entry->d_name, msglog_dir + "/" + entry->d_name, moved_frozen});
      continue;
    }
    if (name.size() < 3 || name[name.size() - 2] != '-') continue;
    const char kind = name.back();
    if (kind != 'H' && kind != 'D') continue;
    std::string_view id = name.substr(0, name.size() - 2);
    if (!eximlog::is_message_id(id)) continue;
    SpoolListing::Entry e{};
    id.copy(e.id, id.size());
    e.dir = dir_index;
    (kind == 'H' ? out.entries : data_files).push_back(e);
  }
  ::closedir(handle);
  // Zero-padded ids compare like strings when read as three big-endian words.
  auto by_id = [](const SpoolListing::Entry& a, const SpoolListing::Entry& b) {
    for (size_t w = 0; w < sizeof a.id; w += 8) {
      uint64_t x, y;
      std::memcpy(&x, a.id + w, 8);
      std::memcpy(&y, b.id + w, 8);
      if (x == y) continue;
      if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x), y = __builtin_bswap64(y);
      return x < y;
    }
    return false;
  };
  std::sort(out.entries.begin() + long(first), out.entries.end(), by_id);
  std::sort(data_files.begin(), data_files.end(), by_id);
  auto data = data_files.begin();
  for (auto it = out.entries.begin() + long(first); it != out.entries.end(); ++it) {
    while (data != data_files.end() && by_id(*data, *it)) ++data;
    it->data_seen = data != data_files.end() && !by_id(*it, *data);
  }
}

// Appends `part` (its own directory indexes) to `out`.
void append_listing(SpoolListing& out, SpoolListing&& part) {
  const uint16_t offset = uint16_t(out.input_dirs.size());
  for (size_t i = 0; i < part.input_dirs.size(); ++i) {
    out.input_dirs.push_back(std::move(part.input_dirs[i]));
    out.msglog_dirs.push_back(std::move(part.msglog_dirs[i]));
    out.moved_frozen.push_back(part.moved_frozen[i]);
  }
  out.unreadable_dirs.insert(out.unreadable_dirs.end(), part.unreadable_dirs.begin(), part.unreadable_dirs.end());
  for (SpoolListing::Entry e : part.entries) {
    e.dir = uint16_t(e.dir + offset);
    out.entries.push_back(e);
  }
}

}  // namespace

std::optional<std::string> spool_directory_from_config(std::string_view text) {
  std::optional<std::string> found;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::string_view view = trim(line);
    if (view.starts_with("begin ") || view == "begin") break;  // main section only
    if (!view.starts_with("spool_directory")) continue;
    std::string_view rest = trim(view.substr(15));
    if (rest.empty() || rest[0] != '=') continue;
    std::string_view value = trim(rest.substr(1));
    if (value.empty() || value.find('$') != std::string_view::npos) continue;
    found = std::string(value);
  }
  return found;
}

std::optional<std::string> find_spool_directory(const std::string& explicit_dir, const std::string& config_path,
                                                std::string* why, const std::vector<std::string>& candidates) {
  if (!explicit_dir.empty()) {
    if (is_directory(explicit_dir + "/input")) return explicit_dir;
    *why = no_input_directory(explicit_dir);
    return std::nullopt;
  }
  if (!config_path.empty()) {
    std::ifstream in(config_path);
    if (!in) {
      *why = "cannot read Exim config " + config_path;
      return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    if (auto dir = spool_directory_from_config(text.str())) return find_spool_directory(*dir, "", why, candidates);
  }
  for (const std::string& candidate : candidates)
    if (is_directory(candidate + "/input")) return candidate;
  *why = "no Exim spool found (tried /var/spool/exim, /var/spool/exim4); use --spool DIR or -C CONFIG";
  return std::nullopt;
}

std::string SpoolListing::error() const {
  if (unreadable_dirs.empty()) return "";
  if (unreadable_dirs.size() == 1) return unreadable_dirs.front();
  return fmt::format("{} (and {} more directories)", unreadable_dirs.front(), unreadable_dirs.size() - 1);
}

void SpoolListing::location(size_t i, MessageLocation& out) const {
  const Entry& e = entries[i];
  out.id.assign(e.id);
  out.input_dir = input_dirs[e.dir];
  out.msglog_dir = msglog_dirs[e.dir];
  out.moved_frozen = moved_frozen[e.dir];
  out.data_seen = e.data_seen;
}

SpoolListing list_spool(const std::string& spool_dir) {
  SpoolListing out;
  std::vector<Subdirectory> subdirs;
  scan_input_dir(spool_dir + "/input", spool_dir + "/msglog", false, true, &subdirs, out);
  scan_input_dir(spool_dir + "/Finput", spool_dir + "/Fmsglog", true, false, &subdirs, out);
  // A split spool has up to 62 subdirectories per input directory: they are listed on all
  // cores (each directory's getdents is kernel work that does not parallelise by itself).
  size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), subdirs.size() / 4);
  std::vector<SpoolListing> parts(subdirs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < subdirs.size();)
      scan_input_dir(subdirs[i].input_dir, subdirs[i].msglog_dir, subdirs[i].moved_frozen, false, nullptr, parts[i]);
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  size_t total = out.entries.size();
  for (const SpoolListing& part : parts) total += part.entries.size();
  out.entries.reserve(total);
  for (SpoolListing& part : parts) append_listing(out, std::move(part));  // in directory order
  return out;
}

std::vector<MessageLocation> list_messages(const std::string& spool_dir) {
  SpoolListing listing = list_spool(spool_dir);
  std::vector<MessageLocation> out(listing.size());
  for (size_t i = 0; i < listing.size(); ++i) listing.location(i, out[i]);
  std::sort(out.begin(), out.end(), [](const MessageLocation& a, const MessageLocation& b) { return a.id < b.id; });
  return out;
}

std::optional<MessageLocation> locate_message(const std::string& spool_dir, std::string_view id, std::string* why) {
  if (!eximlog::is_message_id(id)) return std::nullopt;
  std::string subdir = "/" + std::string(1, eximlog::split_subdir_of(id));
  const std::string name = std::string(id) + "-H";
  for (bool moved : {false, true}) {
    std::string input = spool_dir + (moved ? "/Finput" : "/input");
    std::string msglog = spool_dir + (moved ? "/Fmsglog" : "/msglog");
    for (const std::string& suffix : {std::string(), subdir}) {
      const std::string path = input + suffix + "/" + name;
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0)
        return MessageLocation{std::string(id), input + suffix, msglog + suffix, moved, false};
      if (errno != ENOENT && errno != ENOTDIR) {
        if (why) *why = path + ": " + std::strerror(errno);
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace sw::spool

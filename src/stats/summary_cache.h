// The log summary cache: the engine's state after a run of rotated logs (mainlog.1,
// exim_mainlog-20261101.gz), so that a later run over the same files starts from it instead of
// parsing them again. A file is known by its identity (device, inode), size, mtime and a hash
// of its first and last 64 KB; the live log, still being written, is never cached.
//
// One entry per set of leading rotated inputs (they are read oldest first, and the engine's
// state after them depends on all of them, so the entry is for the set, not for one file).
// The entry is a compact binary file with a format version and a checksum of its contents: a
// binary file loads in a fraction of the time SQLite would take to hand back the same blobs,
// and the engine's state is one value, read whole or not at all. An entry that is corrupt,
// truncated, from another format version or for other files is ignored and rebuilt, never
// trusted. The entries share a size cap; the least recently used go first.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stats/state_io.h"

namespace sw::stats {

// A plain name of a rotated main log: NAME.N, NAME-YYYYMMDD, either with .gz, or any .gz.
bool is_rotated_log_name(std::string_view path);

struct FileIdentity {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t mtime_ns = 0;
  uint64_t head_hash = 0, tail_hash = 0;  // of the first and the last 64 KB
};
// nullopt when the file cannot be read or is not a regular file.
std::optional<FileIdentity> identify_file(const std::string& path);
// A checksum of every byte of the file as it lies (compressed, for gzip): what a summary kept
// for one file across many runs checks, since a change in its middle at the same size and
// mtime leaves the identity as it was. CRC-64 at tens of GB/s: milliseconds for a day's log.
std::optional<uint64_t> whole_file_checksum(const std::string& path);

// The live log, still being written, is not cached as a file: the engine's state at the end of
// its last complete line is, replaced on every run, and a later run over the same file resumes
// there when the bytes up to that point are still the ones read (an appended log: only the new
// lines are parsed). The mark says where that was and what the file held there.
struct LiveMark {
  uint64_t device = 0, inode = 0;
  uint64_t offset = 0;                      // the end of the last complete line read
  uint64_t head_hash = 0, before_hash = 0;  // of the first 64 KB and of the 64 KB before `offset`
  bool operator==(const LiveMark&) const = default;
};
// The live log's mark at `offset`; nullopt when it is not a regular file or is shorter.
std::optional<LiveMark> mark_live_log(const std::string& path, uint64_t offset);
// The end of the last complete line of a regular file of `size` bytes (0: none); nullopt when
// the unfinished line after it is longer than any log line (not a log: not resumed).
std::optional<uint64_t> end_of_complete_lines(const std::string& path, uint64_t size);
// The cache entry's key for a live log resumed at `mark`, stored under `slot`, and back.
std::string live_key(std::string_view slot, const LiveMark& mark);
std::optional<LiveMark> parse_live_key(std::string_view slot, std::string_view key);

class SummaryCache {
 public:
  // 5: a later slice's state (a rotated log's own summary); 6: a message counts frozen once;
  // 7: a client IP's different rejected addresses; 8: bounces other servers sent, per address;
  // 9: where the log's clock went back; 10: a bounce's outcomes in a mailbox here.
  // 19: cutthrough deliveries held for their arrival; 22: an admin's freeze is not counted;
  // 23: domains we send as, and Mailman's mail as ours; 24: cPanel's user named after the arrival;
  // 25: cPanel's connections named before their arrivals.
  static constexpr uint32_t kFormatVersion = 25;
  static constexpr uint64_t kDefaultMaxBytes = 1ull << 30;

  // `dir` is created when an entry is first stored. An entry being written is ENTRY.tmp.PID
  // until it is whole; those of runs that were stopped (Ctrl-C, kill) are removed here, or
  // they would stay, uncounted by the size cap.
  SummaryCache(std::string dir, uint64_t max_bytes);

  // What the entry is for: the files, in order, and the options that shape the engine's state.
  static std::string key(const std::vector<FileIdentity>& files, std::string_view options);

  // How load() hands out the strings a reader keeps (StateReader::str_in_place). Mapped: as
  // views into the entry's file, mapped, whose pages are read only once used (a report shows
  // a few). Read: with the rest of the bytes, for a reader that copies every one anyway, which
  // through the mapping would make the whole file resident at once.
  enum class Strings { Mapped, Read };

  // Reads the stored state for `key` through `consume`, which throws StateError on data that
  // does not hold together. False when there is no entry, or one not to be trusted (it is then
  // removed): what `consume` built must then be dropped, since the checksum is only known to
  // match once every byte has been read.
  bool load(const std::string& key, const std::function<void(StateReader&)>& consume,
            Strings strings = Strings::Mapped) const {
    return load(
        key, [&](std::string_view stored) { return stored == key; }, consume, strings);
  }
  // The same for the entry stored under `slot` (see write_aside) whose own key `fits`: an
  // entry replaced on every run, whose key says where it stands (the live log's resume point).
  // An entry that does not fit is stale, not damaged: it is left for the run to replace.
  bool load(const std::string& slot, const std::function<bool(std::string_view key)>& fits,
            const std::function<void(StateReader&)>& consume, Strings strings = Strings::Mapped) const;
  // The state for `key`, as `produce` writes it, streamed to a file aside (the state is not
  // held in memory whole); "" when it could not be written. commit() renames it into place
  // and evicts the least recently used entries beyond the size cap; discard() removes it.
  // Failure to write is not an error: no entry.
  std::string write_aside(const std::string& key, const std::function<void(StateWriter&)>& produce) const {
    return write_aside(key, key, produce);
  }
  // The entry for `key` stored under `slot`'s file name, replacing whatever that slot held.
  std::string write_aside(const std::string& slot, const std::string& key,
                          const std::function<void(StateWriter&)>& produce) const;
  void commit(const std::string& slot, const std::string& aside) const;
  static void discard(const std::string& aside);
  // The size of the entry written or used last (0 when none): the next run most likely loads it.
  uint64_t latest_entry_bytes() const;
  void store(const std::string& key, std::string_view state) const {
    commit(key, write_aside(key, [&](StateWriter& w) { w.raw(state); }));
  }

  // An entry's bytes for a key and state, and their reading (for tests and the fuzz target).
  static std::string encode(const std::string& key, std::string_view state);
  static std::optional<std::string> decode(std::string_view file, const std::string& key);

  std::string path_for(const std::string& key) const;

 private:
  void evict() const;
  struct Entry {
    std::filesystem::path path;
    uint64_t size;
    std::filesystem::file_time_type used;
  };
  std::vector<Entry> entries() const;
  std::string dir_;
  uint64_t max_bytes_;
};

}  // namespace sw::stats

// Runs the forensics over a list of log files: orders them by their first timestamp, parses
// blocks on all cores, feeds the engine in order, and reports progress on a terminal.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "stats/forensics.h"
#include "stats/report.h"
#include "stats/summary_cache.h"

namespace sw::stats {

struct ScanOptions {
  Thresholds thresholds;
  CivilSeconds since = INT64_MIN, until = INT64_MAX;
  int workers = 0;  // parse threads; 0: one per core besides the engine's
  // Engine threads: 1 folds every actor kind on one thread (the reference); 2 folds senders and
  // their domains on a second thread, each engine reading every line in log order, so the
  // report is the same. 0: two from four cores on.
  int engines = 0;
  // Engines folding slices of the last input at once (a plain file: stats/log_slices.h), each
  // slice at least slice_min_bytes long; 0 or 1: one engine reads it all. More than one sets
  // `engines` to 1: the split by kind is the other way to share the fold.
  int slices = 1;
  uint64_t slice_min_bytes = 64ull << 20;
  size_t block_bytes = 0;  // 0: the default (1 MB); tests use small blocks
  bool progress = false;   // draw a progress bar on stderr
  uint64_t progress_min_bytes = 100ull << 20;
  // The summary cache of rotated logs and of the live log's resume point
  // (stats/summary_cache.h): its directory, "" for none.
  std::string cache_dir;
  uint64_t cache_max_bytes = 1ull << 30;
  // Also each rotated log's own summary (stats/rotated_summaries.h), so that after a rotation
  // the days before it are merged from the cache, not parsed: opt-in, as making them takes a
  // first run over a week twice as long (after its report; docs/logs.md).
  bool file_summaries = false;
};

struct ScanResult {
  std::unique_ptr<Forensics> forensics;
  LogReport report;
  size_t unreadable_inputs = 0;  // could not be opened
  size_t damaged_inputs = 0;     // read only in part (a gzip damaged or cut short, a read error)
  size_t foreign_inputs = 0;     // not one line of an Exim main log in them
  size_t repeated_inputs = 0;    // a file given again (same device and inode): read once, advisory
  size_t cached_inputs = 0;      // rotated logs whose summary came from the cache, not parsed
  bool cache_stored = false;     // a summary of the rotated logs was stored for the next run
  // With file_summaries, when the set's summary did not serve (a new day rotated in):
  size_t files_from_cache = 0;  // rotated logs merged from their own summary: only their first minutes read
  size_t files_read_again = 0;  // ... whose summary could not be merged exactly: read whole
  // Rotated logs read whole that have no summary of their own yet: store_file_summaries().
  std::vector<std::pair<std::string, FileIdentity>> unsummarized;
  uint64_t resumed_bytes = 0;  // of the live log, whose state up to there came from the cache
  bool live_stored = false;    // the state at the live log's last complete line was stored
  size_t slices_merged = 0;    // slices of the last input folded by engines of their own and merged
  size_t slices_refolded = 0;  // ... that could not be merged exactly, so were folded again in order
};

// Inputs are paths or "-" for stdin. Unreadable inputs become warnings (and are counted); a
// file given twice, under any name, is read once.
ScanResult scan_logs(const std::vector<std::string>& inputs, const ScanOptions& options);

// After the report, its engine gone: makes and stores the summary of each rotated log the run
// read whole (result.unsummarized), each folded alone, so that a run after the next rotation
// merges it instead of parsing it. Returns how many were stored.
size_t store_file_summaries(const ScanResult& result, const ScanOptions& options);

// The inputs without a file given again under any name (same device and inode), each such
// repeat said in `warnings`; names that cannot be stat'ed are kept, to fail when opened.
std::vector<std::string> distinct_files(const std::vector<std::string>& inputs, std::vector<std::string>& warnings);

// Orders paths oldest first by their first line's timestamp; unknown ones keep their place
// after the dated ones. "-" goes last.
std::vector<std::string> order_by_first_timestamp(const std::vector<std::string>& inputs);

// Whether the earliest of these logs writes its times with a zone (log_timezone), so they
// are UTC here; false for the usual local times, and when no input can be peeked at (stdin).
bool logged_with_timezone(const std::vector<std::string>& inputs);

}  // namespace sw::stats

// Each rotated log's own summary in the summary cache, so that the nightly rotation does not
// mean parsing the whole week again. The set's entry (scan_logs.cc) is for one set of files:
// once a new day is rotated in and the oldest out, it no longer serves. A file's own summary
// does: the state of an engine that read the file's first minutes warm and counted the rest,
// as the engine of a later slice of one log does (stats/log_slices.h). A run reads only the
// first minutes of such a file, on the engine that folded the files before it, and merges the
// summary in (Forensics::merge); the report is still the one a single engine gives.
//
// A file without a summary is read whole by the run, as without this cache; its summary is
// made after the report, by an engine of its own that folds it alone: the memory of one
// day's engine then, not that engine beside the week's tables.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "logio/byte_source.h"
#include "stats/forensics.h"
#include "stats/parsed_batch.h"
#include "stats/summary_cache.h"

namespace sw::stats {

// A file's summary's key, for `options` (what shapes an engine's state besides the lines).
std::string file_summary_key(const FileIdentity& id, std::string_view options);

class RotatedSummaries {
 public:
  // The rotated logs are the inputs [0, paths.size()), oldest first, known by `ids`.
  RotatedSummaries(const SummaryCache& cache, std::string options, std::vector<std::string> paths,
                   std::vector<FileIdentity> ids, std::function<std::unique_ptr<Forensics>()> make_engine);

  // Folds onto `engine` the leading rotated logs whose summary is in the cache: each one's
  // first minutes are read, the rest merged. Returns the index of the first input it did not
  // fold (the others are read whole as usual). A file whose summary cannot be merged exactly
  // is read whole here, and the reading's warnings go to `warnings`.
  size_t fold_cached(Forensics& engine, std::vector<std::unique_ptr<logio::ByteSource>>& sources,
                     std::vector<InputSpan>& spans, std::vector<std::string>& warnings);

  // Told the bytes of each summary before it is loaded (its tables take about as much): the
  // heap's pages can then be faulted in ahead, off the engine's thread (base/heap_prefault.h).
  void on_load(std::function<void(uint64_t bytes)> expect_heap) { expect_heap_ = std::move(expect_heap); }

  size_t from_cache() const { return from_cache_; }  // files merged from their stored summary
  size_t read_again() const { return read_again_; }  // ... whose summary could not be merged exactly

 private:
  const SummaryCache& cache_;
  std::string options_;
  std::vector<std::string> paths_;
  std::vector<FileIdentity> ids_;
  std::function<std::unique_ptr<Forensics>()> make_engine_;
  std::function<void(uint64_t)> expect_heap_;
  size_t from_cache_ = 0, read_again_ = 0;
};

// Makes and stores the summary of each of these rotated logs (path, and identity when the run
// began), each folded alone by a fresh engine from `make_engine`, parsed on `workers` threads.
// A file that changed since, was read only in part or is shorter than an engine's warm-up is
// not stored. Returns how many were.
size_t store_file_summaries(const SummaryCache& cache, std::string_view options,
                            const std::vector<std::pair<std::string, FileIdentity>>& files,
                            const std::function<std::unique_ptr<Forensics>()>& make_engine, int workers);

}  // namespace sw::stats

// Each rotated log's own summary in the summary cache, so that the nightly rotation does not
// mean parsing the whole week again. The set's entry (scan_logs.cc) is for one set of files:
// once a new day is rotated in and the oldest out, it no longer serves. A file's own summary
// does: the state of an engine that read the file's first minutes warm and counted the rest,
// as the engine of a later slice of one log does (stats/log_slices.h). A run reads only the
// first minutes of such a file, on the engine that folded the files before it, and merges the
// summary in (Forensics::merge); the report is still the one a single engine gives. A file
// without a summary is folded that way too, and its summary stored, while it is read.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "logio/byte_source.h"
#include "stats/forensics.h"
#include "stats/log_slices.h"
#include "stats/parsed_batch.h"
#include "stats/summary_cache.h"

namespace sw::stats {

class RotatedSummaries {
 public:
  // The rotated logs are the inputs [0, paths.size()), oldest first, known by `ids`;
  // `options` is what shapes an engine's state (the key's part besides the file).
  RotatedSummaries(const SummaryCache& cache, std::string options, std::vector<std::string> paths,
                   std::vector<FileIdentity> ids, std::function<std::unique_ptr<Forensics>()> make_engine);

  // Folds onto `engine` the leading rotated logs whose summary is in the cache: each one's
  // first minutes are read, the rest merged. Returns the index of the first input it did not
  // fold (the others are read whole, through fold()). A file whose summary cannot be merged
  // exactly is read whole here, and the reading's warnings go to `warnings`.
  size_t fold_cached(Forensics& engine, std::vector<std::unique_ptr<logio::ByteSource>>& sources,
                     std::vector<InputSpan>& spans, std::vector<std::string>& warnings);
  // Folds a parsed block of a rotated log that had no summary (blocks in order): its first
  // minutes onto `engine` and warm onto an engine of the file's own, the rest onto that one.
  void fold(Forensics& engine, ParsedBatch& b, const logio::ByteSource& src);
  // Ends the file fold() was given: writes its summary aside and merges it into `engine`, or
  // folds the rest of the file on `engine` again. Nothing when there is none.
  void finish(Forensics& engine);
  // Stores the summaries written aside, of the files unchanged since, when the run read
  // every input whole (`whole`); else drops them.
  void commit(bool whole);

  size_t from_cache() const { return from_cache_; }  // files merged from their stored summary
  size_t stored() const { return stored_; }
  // Summaries that could not be merged exactly (stats/forensics.h): stored ones, whose file
  // was then read whole, and ones just made, whose file's rest was then folded again.
  size_t read_again() const { return read_again_; }
  size_t folded_twice() const { return folded_twice_; }
  // Files that could not be read again to fold the rest of them (gone since, unreadable).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Summary {
    uint64_t warm_end = 0;  // where the engine of its own began counting, in the file's text
    InputSpan counted;      // what it counted
  };
  struct Aside {
    size_t index;
    std::string key, path;
  };
  std::string key_of(size_t index) const;
  // Folds the rest of input `index` from `warm_end` on `engine` (the merge was refused).
  void fold_rest(Forensics& engine, size_t index, uint64_t warm_end);

  const SummaryCache& cache_;
  std::string options_;
  std::vector<std::string> paths_;
  std::vector<FileIdentity> ids_;
  std::function<std::unique_ptr<Forensics>()> make_engine_;
  // The file fold() is reading.
  size_t index_ = SIZE_MAX;
  std::unique_ptr<Forensics> own_;  // its own engine
  std::optional<WarmEnd> warm_end_finder_;
  Summary summary_;
  bool counting_ = false;    // its own engine is past the warm-up
  ParsedBatch head_, tail_;  // a block cut at the warm end, parsed again in two
  std::vector<Aside> asides_;
  std::vector<std::string> warnings_;
  size_t from_cache_ = 0, stored_ = 0, read_again_ = 0, folded_twice_ = 0;
};

}  // namespace sw::stats

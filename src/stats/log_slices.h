// One plain log file folded in slices, one engine per core: the first slice by the caller's
// engine, each later one by an engine of its own on a thread of its own, then merged into the
// first in order (Forensics::merge). A slice that cannot be merged exactly is folded again
// on the first engine, so the report is always the one a single engine gives.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eximlog/log_line.h"
#include "stats/forensics.h"
#include "stats/parsed_batch.h"

namespace sw::stats {

struct SliceBounds {
  uint64_t start = 0;        // a line's first byte
  uint64_t warm_end = 0;     // later slices: where counting starts (the engine before counts up to it)
  bool warm_enough = false;  // warm_end is the line Forensics::warm_up_seconds() on, not the slice's end
};

// Where a later slice starts counting: its first line with a time at least `warm_up` seconds
// after that of its first line with a time. Fed the slice's bytes in order, in whole lines.
class WarmEnd {
 public:
  explicit WarmEnd(CivilSeconds warm_up) : warm_up_(warm_up) {}
  // The offset in `bytes` of that line; nullopt when it is not among them.
  std::optional<size_t> find(std::string_view bytes);
  // The block cut at that line, when it holds it: the part before it (read warm) and the part
  // from it on (counted), each a block of its own over the same bytes.
  std::optional<std::pair<logio::Block, logio::Block>> split(const logio::Block& b);

 private:
  CivilSeconds warm_up_, start_ = 0;  // start_: the first line's time (0: none yet)
  eximlog::LogLine line_;
};

// Up to `slices` slices of the bytes [from, to) of the file, each at least `min_bytes` long.
// IO errors give fewer slices (one: do not slice).
std::vector<SliceBounds> plan_slices(const std::string& path, uint64_t from, uint64_t to, int slices,
                                     uint64_t min_bytes, CivilSeconds warm_up);

class SlicedFold {
 public:
  // Starts the engines of the later slices (made by `make_engine`) on threads of their own.
  SlicedFold(std::string path, size_t input_index, size_t block_bytes, std::vector<SliceBounds> bounds, uint64_t to,
             std::function<std::unique_ptr<Forensics>()> make_engine);
  ~SlicedFold();
  SlicedFold(const SlicedFold&) = delete;
  SlicedFold& operator=(const SlicedFold&) = delete;

  // Folds the first slice on the caller's engine, on up to the second slice's warm end,
  // merges each later slice in order (or folds it again), and adds what was read to `span`.
  // Read errors throw logio::InputError.
  void finish(Forensics& first, InputSpan& span);

  size_t merged() const { return merged_; }
  size_t refolded() const { return refolded_; }

 private:
  struct Slice {
    std::unique_ptr<Forensics> engine;
    InputSpan span;
    std::exception_ptr error;
    std::thread thread;
  };
  void run(size_t i);
  // Folds [a, b) of the file, counting (span: what was read) or warm.
  void fold(Forensics& engine, uint64_t a, uint64_t b, InputSpan* span) const;
  // The lines slice i counts: from its warm end to the next slice's, entering it on the way.
  void count_slice(Forensics& engine, size_t i, InputSpan& span) const;

  std::string path_;
  size_t input_index_, block_bytes_;
  std::vector<SliceBounds> bounds_;
  uint64_t to_;
  std::function<std::unique_ptr<Forensics>()> make_engine_;
  std::vector<Slice> slices_;
  size_t merged_ = 0, refolded_ = 0;
};

}  // namespace sw::stats

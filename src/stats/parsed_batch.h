// A block of the main log parsed for the forensics engine, and its folding into one: shared by
// the pipeline that parses blocks on all cores (scan_logs.cc) and the engines of slices.
#pragma once
#include <string_view>
#include <vector>

#include "eximlog/log_line.h"
#include "logio/byte_source.h"
#include "stats/forensics.h"

namespace sw::stats {

// Blocks in flight (2 per worker + 2) and their parsed lines (~2.5x the bytes) are most of the
// memory that does not depend on actors: 1 MB keeps them near 20 MB and is still large enough
// that handing blocks between threads costs nothing measurable. Short lines cannot inflate the
// parsed lines: a block holds at most logio::kMaxBlockLines of them.
constexpr size_t kBlockBytes = 1 << 20;

struct ParsedBatch {
  logio::Block block;  // keeps the bytes the views point into alive
  // The engine's lines, parsed in place: lines[0, count). The slots are kept between
  // blocks, because constructing or copying a 336-byte LogLine is a `rep` string
  // instruction, which is slow to start on the machines we measured.
  std::vector<eximlog::LogLine> lines;
  size_t count = 0;
  std::vector<std::string_view> raws;
  std::vector<Forensics::LineKeys> keys;  // per line: hashes for the engine and its prefetches
  struct Skipped {
    eximlog::LineKind kind;
    CivilSeconds time;
  };
  std::vector<Skipped> skipped;  // lines only counted, kept compact
  // The block's first Unparsed lines, in order: the engine's samples for the report come from
  // the first blocks that have any.
  std::vector<std::string_view> unparsed_samples;
  size_t understood = 0;  // lines of any main-log shape (not Unparsed, not Continuation)
  // The earliest and latest time of those lines (0: none): what a --since/--until window
  // compares, so what decides which stored states serve another window.
  CivilSeconds earliest = 0, latest = 0;
  void clear() {
    block = {};
    count = 0;
    understood = 0;
    earliest = latest = 0;
    raws.clear();
    keys.clear();
    skipped.clear();
    unparsed_samples.clear();
  }
  void skip(eximlog::LineKind kind, CivilSeconds time, std::string_view raw) {
    skipped.push_back({kind, time});
    if (kind == eximlog::LineKind::Unparsed && unparsed_samples.size() < Forensics::kUnparsedSamples)
      unparsed_samples.push_back(raw);
  }
};

// The time each input covers, to warn when two of them overlap: the same log given twice
// (mainlog.1 and a copy of it, a file and its .gz) counts every line twice. Rotation itself
// overlaps by seconds (a process still writes to the renamed file): that is not warned about.
constexpr CivilSeconds kRotationOverlap = 300;
struct InputSpan {
  CivilSeconds first = 0, last = 0;
  uint64_t lines = 0, understood = 0;     // understood: any line shape of an Exim main log
  CivilSeconds earliest = 0, latest = 0;  // of every understood line (first and last: of the blocks' ends)
  void note(CivilSeconds t) {
    if (t == 0) return;  // lines without a timestamp
    if (first == 0 || t < first) first = t;
    if (t > last) last = t;
  }
  void note_extent(CivilSeconds from, CivilSeconds to) {
    if (from == 0) return;
    if (earliest == 0 || from < earliest) earliest = from;
    if (to > latest) latest = to;
  }
  // What another reader of the same input saw (a slice of it).
  void add(const InputSpan& other) {
    lines += other.lines, understood += other.understood;
    note(other.first), note(other.last);
    note_extent(other.earliest, other.latest);
  }
};

// "B (t to t) overlaps A (t to t) ...": an input whose lines begin more than kRotationOverlap
// before the previous one's end (a copy, or a log on stdin, read last, that is older).
void warn_about_overlaps(const std::vector<InputSpan>& spans, const std::vector<std::string>& names,
                         std::vector<std::string>& warnings);

// "F: none of its N lines is an Exim main-log line ...", for each input of lines none of which
// was understood; returns how many.
size_t warn_about_foreign_inputs(const std::vector<InputSpan>& spans, const std::vector<std::string>& names,
                                 std::vector<std::string>& warnings);

void note_batch_span(const ParsedBatch& b, InputSpan& span);

// Parses the block's lines into `out` (reused: its slots are kept between blocks).
void parse_block(const logio::Block& b, ParsedBatch& out);

// Feeds one parsed block to an engine, in order; `count_skipped`: also the lines it only counts.
void fold_batch(Forensics& engine, ParsedBatch& b, const logio::ByteSource& src, bool count_skipped);
// The same, with every evidence line copied: for a state stored apart from the input, which a
// later run reads at another place among its inputs (a rotated log's own summary).
void fold_batch_copying(Forensics& engine, ParsedBatch& b);
// Feeds one parsed block to the engine of a later slice, warming up (Forensics::warm).
void warm_batch(Forensics& engine, const ParsedBatch& b);

}  // namespace sw::stats

// Up to five log lines that show what an actor did: the first two it was seen in, and the
// three most recent "interesting" ones (a new peak, a rejection), so a burst late in a long
// log still shows lines from the burst itself.
//
// A line is kept as a reference, not a copy: where it lies in its input when the input is a
// plain file that can be read again, else where its copy lies. Over a hundred thousand actors
// keep evidence on a busy server's week of log, and only the few with findings show it, so
// copying every line cost a fifth of the report's memory.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/string_arena.h"
#include "stats/state_io.h"

namespace sw::stats {

struct LineRef {
  static constexpr uint64_t kCopied = uint64_t(1) << 63;  // `where` is a copy's address
  uint64_t where = 0;  // kCopied | address, or input << kInputShift | offset in that input
  uint32_t length = 0;
  uint32_t check = 0;  // hash of the bytes: a file rewritten since is noticed, not misquoted
  static constexpr unsigned kInputShift = 48;
  bool copied() const { return where & kCopied; }
  // A copied line's text, where the copy lies.
  std::string_view copied_text() const { return {reinterpret_cast<const char*>(uintptr_t(where & ~kCopied)), length}; }
};

class EvidenceLines;

class Evidence {
 public:
  static constexpr size_t kFirst = 2, kRecent = 3;
  // What a line records the first of (the actor's first line, its first rejected recipient,
  // its first failed login). An engine folding a later slice of the log cannot tell whether
  // the earlier slices saw one already; merged after them (append()), it is dropped if they did.
  enum class Mark : uint8_t { kNone, kFirstSeen, kFirstRejection, kFirstFailedLogin };
  // Two more recent lines than are shown, so that the last kRecent are still known after the
  // two marks a recent line can carry are dropped (kFirstSeen is always a first line).
  static constexpr size_t kKept = kRecent + 2;

  void add(const LineRef& line, Mark mark = Mark::kNone) {
    if (first_count_ < kFirst) {
      first_marks_[first_count_] = mark;
      first_[first_count_++] = line;
      return;
    }
    recent_marks_[recent_count_ % kKept] = mark;
    recent_[recent_count_ % kKept] = line;
    ++recent_count_;
  }
  // Adds the lines of the same actor's evidence from the slice of the log after this one's,
  // in order, without those whose mark `seen` says this one already has the first of.
  // `keep` makes each line added this engine's own (EvidenceLines::copy_here).
  template <class Seen, class Keep>
  void append(const Evidence& later, Seen seen, Keep keep) {
    later.for_each_kept([&](const LineRef& line, Mark mark) {
      if (mark == Mark::kNone || !seen(mark)) add(keep(line));
    });
  }
  // Makes every line kept this engine's own.
  template <class Keep>
  void keep_all(Keep keep) {
    for (uint32_t i = 0; i < first_count_; ++i) first_[i] = keep(first_[i]);
    for (uint32_t i = 0; i < recent_count_ && i < kKept; ++i) recent_[i] = keep(recent_[i]);
  }
  // Saved with each copied line's text, loaded with the copy stored again in `copies`.
  void save(StateWriter& w) const;
  void load(StateReader& r, EvidenceLines& copies);

  // The first lines, then the most recent ones, oldest first.
  std::vector<LineRef> lines() const {
    std::vector<LineRef> out(first_.begin(), first_.begin() + first_count_);
    uint32_t n = recent_count_ < kRecent ? recent_count_ : uint32_t(kRecent);
    for (uint32_t i = 0; i < n; ++i) out.push_back(recent_[(recent_count_ - n + i) % kKept]);
    return out;
  }

 private:
  template <class Fn>
  void for_each_kept(Fn fn) const {
    for (uint32_t i = 0; i < first_count_; ++i) fn(first_[i], first_marks_[i]);
    uint32_t n = recent_count_ < kKept ? recent_count_ : uint32_t(kKept);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t at = (recent_count_ - n + i) % kKept;
      fn(recent_[at], recent_marks_[at]);
    }
  }
  std::array<LineRef, kFirst> first_{};
  std::array<LineRef, kKept> recent_{};
  uint32_t first_count_ = 0, recent_count_ = 0;
  std::array<Mark, kFirst> first_marks_{};
  std::array<Mark, kKept> recent_marks_{};
};

// The last lines that set a new peak of an actor's burst window, with that peak (recipients,
// then messages): evidence of the burst itself, however late in a long log it came.
class PeakLines {
 public:
  static constexpr uint32_t kPeaks = 3;
  struct Line {
    LineRef line;
    uint64_t recipients = 0, messages = 0;
  };
  void add(const Line& l) { lines_[count_++ % kPeaks] = l; }
  // Adds the same actor's lines from the slice of the log after this one's, oldest first:
  // those whose peak `beats` this slice's (the others were no new peak in the whole log; as
  // each line beats the one before, the lines kept are the last of the later slice's).
  template <class Beats, class Keep>
  void append(const PeakLines& later, Beats beats, Keep keep) {
    for (Line l : later.oldest_first())
      if (beats(l.recipients, l.messages)) l.line = keep(l.line), add(l);
  }
  template <class Keep>
  void keep_all(Keep keep) {
    for (uint32_t i = 0; i < count_ && i < kPeaks; ++i) lines_[i].line = keep(lines_[i].line);
  }
  std::vector<Line> oldest_first() const {
    std::vector<Line> out;
    for (uint32_t i = count_ > kPeaks ? count_ - kPeaks : 0; i < count_; ++i) out.push_back(lines_[i % kPeaks]);
    return out;
  }
  void save(StateWriter& w) const;
  void load(StateReader& r, EvidenceLines& copies);

 private:
  std::array<Line, kPeaks> lines_{};
  uint32_t count_ = 0;
};

// Makes LineRefs and turns them back into text.
class EvidenceLines {
 public:
  static constexpr size_t kMaxLineBytes = 1000;  // evidence is for reading, not archiving

  // The block that lines passed to keep() are views into, when its input can be read again.
  struct Origin {
    std::string_view bytes;
    uint64_t offset = 0;  // of bytes[0] in the input
    uint32_t input = 0;
  };
  void set_origin(std::optional<Origin> o) { origin_ = o; }

  // Reads `length` bytes at `offset` of input `input` again; false when it cannot.
  using Reader = std::function<bool(uint32_t input, uint64_t offset, size_t length, std::string& out)>;
  void set_reader(Reader reader, std::vector<std::string> input_names) {
    reader_ = std::move(reader);
    names_ = std::move(input_names);
  }

  LineRef keep(std::string_view line);
  // A copied line of a saved state, stored again; `ref` is the saved reference.
  LineRef restore_copy(LineRef ref, std::string_view text);
  // The same line left where it lies, in bytes that `backing` keeps alive (a mapped cache
  // entry): the report reads the few it prints, and the other lines never cost memory.
  LineRef restore_in_place(LineRef ref, std::string_view text, const std::shared_ptr<const void>& backing);
  std::string text(const LineRef& ref) const;
  // Whether any line kept is a copy (or lies in a mapped cache entry), not a place in an input.
  bool has_copies() const { return !copies_.empty() || !backings_.empty(); }
  // A line another engine kept as a copy, copied here, for when that engine is gone.
  LineRef copy_here(const LineRef& ref) { return ref.copied() ? restore_copy(ref, ref.copied_text()) : ref; }
  std::vector<std::string> texts(const Evidence& e) const;

 private:
  std::optional<Origin> origin_;
  Reader reader_;
  std::vector<std::string> names_;
  StringArena copies_;
  std::vector<std::shared_ptr<const void>> backings_;  // of the lines restored in place
};

}  // namespace sw::stats

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
};

class EvidenceLines;

class Evidence {
 public:
  static constexpr size_t kFirst = 2, kRecent = 3;

  void add(const LineRef& line) {
    if (first_count_ < kFirst) {
      first_[first_count_++] = line;
      return;
    }
    recent_[recent_count_ % kRecent] = line;
    ++recent_count_;
  }
  // Saved with each copied line's text, loaded with the copy stored again in `copies`.
  void save(StateWriter& w) const;
  void load(StateReader& r, EvidenceLines& copies);

  // The first lines, then the most recent ones, oldest first.
  std::vector<LineRef> lines() const {
    std::vector<LineRef> out(first_.begin(), first_.begin() + first_count_);
    uint32_t n = recent_count_ < kRecent ? recent_count_ : uint32_t(kRecent);
    for (uint32_t i = 0; i < n; ++i) out.push_back(recent_[(recent_count_ - n + i) % kRecent]);
    return out;
  }

 private:
  std::array<LineRef, kFirst> first_{};
  std::array<LineRef, kRecent> recent_{};
  uint32_t first_count_ = 0, recent_count_ = 0;
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
  std::vector<std::string> texts(const Evidence& e) const;

 private:
  std::optional<Origin> origin_;
  Reader reader_;
  std::vector<std::string> names_;
  StringArena copies_;
  std::vector<std::shared_ptr<const void>> backings_;  // of the lines restored in place
};

}  // namespace sw::stats

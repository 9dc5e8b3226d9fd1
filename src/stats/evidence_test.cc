#include "stats/evidence.h"

#include <gtest/gtest.h>

#include <string>

namespace sw::stats {
namespace {

// An input that can be read again: the reader serves `file`, which a test may rewrite.
struct RereadableText {
  std::string file;
  EvidenceLines::Reader reader() {
    return [this](uint32_t input, uint64_t offset, size_t length, std::string& out) {
      if (input != 0 || offset + length > file.size()) return false;
      out = file.substr(offset, length);
      return true;
    };
  }
};

TEST(EvidenceLines, LinesOfARereadableBlockAreReadBackNotCopied) {
  RereadableText in{"2026-11-01 10:00:00 first line\n2026-11-01 10:00:01 second line\n"};
  std::string block = in.file.substr(31);  // the second line, as a block starting at byte 31
  EvidenceLines ev;
  ev.set_origin(EvidenceLines::Origin{block, 31, 0});
  LineRef r = ev.keep(std::string_view(block).substr(0, block.size() - 1));
  EXPECT_FALSE(r.where & LineRef::kCopied);
  block.assign(block.size(), 'x');  // the block's buffer is reused for other bytes
  ev.set_reader(in.reader(), {"mainlog"});
  EXPECT_EQ(ev.text(r), "2026-11-01 10:00:01 second line");

  in.file.replace(31, 4, "1999");  // the file was rewritten in place since
  EXPECT_EQ(ev.text(r), "(the line at byte 31 of mainlog changed after it was read)");
  ev.set_reader(nullptr, {"mainlog"});
  EXPECT_EQ(ev.text(r), "(the line at byte 31 of mainlog: the input is closed)");
}

TEST(EvidenceLines, LinesFromElsewhereAreCopiedAndCutAtTheLimit) {
  EvidenceLines ev;
  std::string gz_line = "2026-11-01 10:00:00 from a gzip block";
  LineRef copied = ev.keep(gz_line);  // no origin: stdin, a pipe or gzip
  EXPECT_TRUE(copied.where & LineRef::kCopied);
  std::string block = "2026-11-01 10:00:00 in the block\n";
  ev.set_origin(EvidenceLines::Origin{block, 0, 0});
  LineRef outside = ev.keep(gz_line);  // a view that does not point into the origin block
  EXPECT_TRUE(outside.where & LineRef::kCopied);
  ev.set_origin(EvidenceLines::Origin{block, uint64_t(1) << LineRef::kInputShift, 0});
  LineRef far = ev.keep(std::string_view(block).substr(0, block.size() - 1));  // offset past 48 bits
  EXPECT_TRUE(far.where & LineRef::kCopied);
  EXPECT_EQ(ev.text(far), "2026-11-01 10:00:00 in the block");
  std::string long_line(3000, 'y');
  LineRef cut = ev.keep(long_line);
  gz_line.assign(gz_line.size(), 'z');
  long_line.assign(long_line.size(), 'z');
  EXPECT_EQ(ev.text(copied), "2026-11-01 10:00:00 from a gzip block");
  EXPECT_EQ(ev.text(cut), std::string(EvidenceLines::kMaxLineBytes, 'y'));
}

TEST(Evidence, KeepsTheFirstTwoAndTheLastThreeInOrder) {
  EvidenceLines store;
  Evidence e;
  for (int i = 0; i < 9; ++i) e.add(store.keep("line " + std::to_string(i)));
  EXPECT_EQ(store.texts(e), (std::vector<std::string>{"line 0", "line 1", "line 6", "line 7", "line 8"}));
  Evidence few;
  few.add(store.keep("only"));
  EXPECT_EQ(store.texts(few), std::vector<std::string>{"only"});
}

}  // namespace
}  // namespace sw::stats

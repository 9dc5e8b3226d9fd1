#include "logio/byte_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "logio/buffer_pool.h"
#include "logio/gzip_test_files.h"

namespace sw::logio {
namespace {

std::string temp_path(const char* name) { return ::testing::TempDir() + name; }

std::string read_all(ByteSource& src, size_t* blocks = nullptr) {
  std::string out;
  size_t n = 0;
  for (Block b = src.next_block(); !b.bytes.empty(); b = src.next_block()) {
    out += b.bytes;
    EXPECT_TRUE(b.bytes.back() == '\n' || src.next_block().bytes.empty()) << "block cut mid-line";
    ++n;
  }
  if (blocks) *blocks = n;
  return out;
}

std::string many_lines(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += "2026-11-01 10:00:00 line number " + std::to_string(i) + "\n";
  return s;
}

void write_gzip(const std::string& path, const std::string& data, bool two_members) {
  gzFile f = gzopen(path.c_str(), "wb");
  size_t half = two_members ? data.size() / 2 : data.size();
  gzwrite(f, data.data(), unsigned(half));
  gzclose(f);
  if (two_members) {
    gzFile g = gzopen(path.c_str(), "ab");
    gzwrite(g, data.data() + half, unsigned(data.size() - half));
    gzclose(g);
  }
}

TEST(ByteSource, PlainFileInWholeLineBlocks) {
  std::string path = temp_path("plain.log"), data = many_lines(20000);
  std::ofstream(path) << data;
  size_t blocks = 0;
  auto src = open_source(path, 0, 64 * 1024);
  EXPECT_EQ(read_all(*src, &blocks), data);
  EXPECT_GT(blocks, 5u);
  EXPECT_EQ(src->total_size(), data.size());
}

// A megabyte of newlines is a million lines: blocks are cut by line count too, so whatever a
// consumer keeps per line stays bounded per block; the text is handed out whole, in order.
TEST(ByteSource, BlocksHoldABoundedNumberOfLines) {
  std::string data(3 * kMaxBlockLines + 17, '\n');
  for (size_t i = 0; i < kMaxBlockLines; ++i) data += "a\n";
  data += many_lines(3000) + "no newline at the end";
  std::string plain = temp_path("short-lines.log"), gz = temp_path("short-lines.log.gz");
  std::ofstream(plain) << data;
  write_gzip(gz, data, false);
  for (const std::string& path : {plain, gz}) {
    auto src = open_source(path, 0, 1 << 20);
    std::string text;
    size_t blocks = 0;
    for (Block b = src->next_block(); !b.bytes.empty(); b = src->next_block(), ++blocks) {
      EXPECT_EQ(b.offset, text.size()) << path;
      EXPECT_LE(size_t(std::count(b.bytes.begin(), b.bytes.end(), '\n')), kMaxBlockLines) << path;
      EXPECT_TRUE(b.bytes.back() == '\n' || text.size() + b.bytes.size() == data.size()) << "cut mid-line";
      text += b.bytes;
    }
    EXPECT_EQ(text, data) << path;
    EXPECT_GE(blocks, 5u) << path;
  }
}

TEST(ByteSource, PrefixOfLines) {
  std::string text(1000, 'x');
  for (size_t at : {0u, 127u, 128u, 129u, 500u, 999u}) text[at] = '\n';
  EXPECT_EQ(prefix_of_lines(text, 0), 0u);
  EXPECT_EQ(prefix_of_lines(text, 1), 1u);
  EXPECT_EQ(prefix_of_lines(text, 2), 128u);
  EXPECT_EQ(prefix_of_lines(text, 3), 129u);
  EXPECT_EQ(prefix_of_lines(text, 4), 130u);
  EXPECT_EQ(prefix_of_lines(text, 5), 501u);
  EXPECT_EQ(prefix_of_lines(text, 6), 1000u);
  EXPECT_EQ(prefix_of_lines(text, 7), 1000u) << "fewer lines than asked: all of it";
  EXPECT_EQ(prefix_of_lines("", 3), 0u);
  EXPECT_EQ(prefix_of_lines(std::string(300, '\n'), 256), 256u);
}

// Blocks know where they lie in the text, and a plain file gives any line of them back.
TEST(ByteSource, BlockOffsetsAndRereadingAPlainFile) {
  std::string path = temp_path("reread.log"), data = many_lines(20000);
  std::ofstream(path) << data;
  auto src = open_source(path, 0, 64 * 1024);
  ASSERT_TRUE(src->rereadable());
  uint64_t expected = 0;
  std::string again;
  for (Block b = src->next_block(); !b.bytes.empty(); b = src->next_block()) {
    EXPECT_EQ(b.offset, expected);
    std::string_view last_line = b.bytes.substr(b.bytes.rfind('\n', b.bytes.size() - 2) + 1);
    uint64_t at = b.offset + uint64_t(last_line.data() - b.bytes.data());
    ASSERT_TRUE(src->read_at(at, last_line.size(), again));
    EXPECT_EQ(again, last_line);
    expected += b.bytes.size();
  }
  EXPECT_EQ(expected, data.size());
  EXPECT_FALSE(src->read_at(data.size() - 4, 10, again)) << "a read past the end is short";
}

// A source stopped part way gives no more blocks, and its lines can still be read back.
TEST(ByteSource, AStoppedSourceGivesNoMoreBlocksButRereadsItsLines) {
  std::string path = temp_path("stopped.log"), data = many_lines(20000);
  std::ofstream(path) << data;
  auto src = open_source(path, 0, 64 * 1024);
  Block first = src->next_block();
  ASSERT_FALSE(first.bytes.empty());
  std::string first_text(first.bytes), again;
  first = {};
  src->stop_reading();
  EXPECT_TRUE(src->next_block().bytes.empty());
  ASSERT_TRUE(src->read_at(0, first_text.size(), again));
  EXPECT_EQ(again, first_text);
  std::string gz_path = temp_path("stopped.log.gz");
  write_gzip(gz_path, data, false);
  auto gz = open_source(gz_path, 1, 64 * 1024);
  ASSERT_FALSE(gz->next_block().bytes.empty());
  gz->stop_reading();
  EXPECT_TRUE(gz->next_block().bytes.empty());
}

// A range of a plain file: blocks at the file's own offsets, from `start`, ending at `end`
// even when the file holds more (a log that grew since its end was taken).
TEST(ByteSource, ARangeOfAPlainFileKeepsTheFilesOffsets) {
  std::string path = temp_path("range.log"), data = many_lines(20000);
  std::ofstream(path) << data;
  uint64_t start = data.find('\n', data.size() / 3) + 1, end = data.find('\n', data.size() * 2 / 3) + 1;
  auto src = open_text_range(path, 3, 64 * 1024, start, end);
  ASSERT_TRUE(src->rereadable());
  uint64_t expected = start;
  for (Block b = src->next_block(); !b.bytes.empty(); b = src->next_block()) {
    EXPECT_EQ(b.offset, expected);
    EXPECT_EQ(b.input_index, 3u);
    EXPECT_EQ(b.bytes, std::string_view(data).substr(b.offset, b.bytes.size()));
    expected += b.bytes.size();
  }
  EXPECT_EQ(expected, end);
  EXPECT_EQ(src->shortfall(0), "");
  EXPECT_EQ(read_all(*open_text_range(path, 0, 64 * 1024, end, end)), "") << "an empty range";
  std::string gz = temp_path("range.log.gz");
  write_gzip(gz, data, false);
  EXPECT_THROW(open_text_range(gz, 0, 64 * 1024, 0, 10), InputError) << "not a plain file";
}

TEST(ByteSource, GzipAndStdinAreNotReread) {
  std::string path = temp_path("reread.gz"), data = many_lines(3000);
  write_gzip(path, data, false);
  auto gz = open_source(path, 0, 64 * 1024);
  Block b = gz->next_block();
  EXPECT_EQ(b.offset, 0u);
  EXPECT_EQ(gz->next_block().offset, b.bytes.size()) << "offsets count uncompressed text";
  std::string out;
  EXPECT_FALSE(gz->rereadable());
  EXPECT_FALSE(gz->read_at(0, 10, out));
  EXPECT_FALSE(open_source("-", 0)->rereadable());
}

// A rotated set's sources all live until the run ends: one that has given its last block
// keeps no buffer (seven of them kept about 32 MB), plain or gzip.
TEST(ByteSource, AFinishedSourceKeepsNoBuffers) {
  std::string plain = temp_path("finished.log"), gz = temp_path("finished.gz"), data = many_lines(30000);
  std::ofstream(plain, std::ios::binary) << data;
  write_gzip(gz, data, false);
  for (const std::string& path : {plain, gz}) {
    size_t before = BufferPool::live_buffers();
    auto src = open_source(path, 0, 64 * 1024);
    EXPECT_EQ(read_all(*src), data) << path;
    EXPECT_TRUE(src->next_block().bytes.empty());
    EXPECT_EQ(BufferPool::live_buffers(), before) << path;
  }
}

TEST(ByteSource, GzipByMagicIncludingConcatenatedMembers) {
  std::string path = temp_path("log.1"), data = many_lines(30000);  // no .gz suffix on purpose
  write_gzip(path, data, true);
  auto src = open_source(path, 0, 64 * 1024);
  EXPECT_EQ(read_all(*src), data);
  EXPECT_EQ(src->shortfall(30000), "") << "every member read whole";
}

TEST(ByteSource, MissingFileAndDirectoryAreClearErrors) {
  EXPECT_THROW(open_source("/nonexistent/mainlog", 0), InputError);
  EXPECT_THROW(open_source("/", 0), InputError);
}

TEST(ByteSource, LastLineWithoutNewlineAndHugeLines) {
  std::string path = temp_path("odd.log");
  std::string huge(300 * 1024, 'x');
  std::string data = "first\n" + huge + "\nlast-without-newline";
  std::ofstream(path) << data;
  auto src = open_source(path, 0, 64 * 1024);
  EXPECT_EQ(read_all(*src), data);
  EXPECT_EQ(read_first_line(path), "first");
}

// Deferred blocks: the reading thread finds where each ends, at a line end, and reading them
// gives the file's text whole and in order: lines longer than a block, a last line without
// its newline, a file of one line, an empty file.
std::string read_deferred_blocks(ByteSource& src, size_t* blocks = nullptr) {
  std::string text;
  size_t n = 0;
  for (Block b = src.next_block(); !b.empty(); b = src.next_block(), ++n) {
    EXPECT_TRUE(b.bytes.empty()) << "deferred blocks are read by whoever parses them";
    EXPECT_EQ(b.offset, text.size());
    EXPECT_EQ(b.position, b.offset + b.deferred_length);
    src.read_deferred(b);
    EXPECT_EQ(b.deferred_from, nullptr);
    EXPECT_EQ(b.bytes.size(), b.deferred_length);
    EXPECT_TRUE(!b.bytes.empty() && (b.bytes.back() == '\n' || b.position == src.total_size())) << "cut mid-line";
    text += b.bytes;
  }
  if (blocks) *blocks = n;
  return text;
}

TEST(ByteSource, DeferredBlocksEndAtLineEndsAndGiveTheWholeText) {
  std::string huge(300 * 1024, 'x');
  std::string path = temp_path("deferred.log");
  for (const std::string& data : {many_lines(20000), "first\n" + huge + "\n" + many_lines(900) + "last-without-newline",
                                  std::string("one line\n"), std::string("\n\n\n"), std::string()}) {
    std::ofstream(path, std::ios::trunc) << data;
    auto src = open_source(path, 3, 16 * 1024, ReadMode::Deferred);
    size_t blocks = 0;
    EXPECT_EQ(read_deferred_blocks(*src, &blocks), data);
    EXPECT_LE(blocks, (data.size() + 16 * 1024 - 1) / (16 * 1024)) << "about one block per 16 KB";
    EXPECT_GE(blocks, data.size() / (16 * 1024 + 400) - (data.size() > 300 * 1024 ? 18 : 0));
    EXPECT_TRUE(src->rereadable());
    EXPECT_EQ(src->shortfall(0), "");
  }
  // A block ends at the newline at or after its size: one that falls right there ends there.
  std::ofstream(path, std::ios::trunc) << std::string(4095, 'a') + "\n" + std::string(10, 'b') + "\n";
  auto src = open_source(path, 0, 4096, ReadMode::Deferred);
  EXPECT_EQ(src->next_block().deferred_length, 4096u);
  EXPECT_EQ(src->next_block().deferred_length, 11u);
  EXPECT_TRUE(src->next_block().empty());
}

// Gzip and pipes cannot be read at an offset: they are read in order whatever the mode.
TEST(ByteSource, DeferredModeReadsGzipInOrder) {
  std::string gz = temp_path("deferred.log.gz"), data = many_lines(3000);
  write_gzip(gz, data, false);
  auto src = open_source(gz, 0, 16 * 1024, ReadMode::Deferred);
  EXPECT_FALSE(src->rereadable());
  EXPECT_EQ(read_all(*src), data);
}

// copytruncate under a deferred reader: the blocks that can no longer be read come back short
// or empty, and the source says it fell short, as the in-order reader does.
TEST(ByteSource, ADeferredFileTruncatedWhileReadSaysSo) {
  std::string path = temp_path("deferred-truncated"), text = many_lines(5000);
  std::ofstream(path) << text;
  auto src = open_source(path, 0, 1 << 12, ReadMode::Deferred);
  std::vector<Block> blocks;
  for (Block b = src->next_block(); !b.empty(); b = src->next_block()) blocks.push_back(b);
  ASSERT_GT(blocks.size(), 10u);
  ASSERT_EQ(::truncate(path.c_str(), off_t(blocks[5].offset + 100)), 0);
  std::string read;
  for (Block& b : blocks) {
    src->read_deferred(b);
    read += b.bytes;
  }
  EXPECT_EQ(read, text.substr(0, blocks[5].offset + 100));
  std::string why = src->shortfall(42);
  EXPECT_NE(why.find("cut short while being read (42 lines, " + std::to_string(blocks[5].offset + 100) + " of "),
            std::string::npos)
      << why;
}

// Writes `data` into a new FIFO from a thread; the FIFO's path is returned once it exists.
struct FifoWriter {
  std::string path;
  std::thread writer;
  FifoWriter(const char* name, std::string data) : path(temp_path(name)) {
    ::unlink(path.c_str());
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
    writer = std::thread([p = path, d = std::move(data)] { std::ofstream(p, std::ios::binary) << d; });
  }
  ~FifoWriter() {
    writer.join();
    ::unlink(path.c_str());
  }
};

// `spamwarden logs <(zcat …)` or `ssh host cat mainlog.gz | spamwarden logs -`: a pipe is read
// once, so its first line must not be taken to order the inputs, and gzip is recognised by
// its first two bytes, which are then handed out again.
// logrotate's copytruncate empties the file under a reader: what was read is kept, and the
// source says it fell short instead of ending as if the log ended there.
TEST(ByteSource, AFileTruncatedWhileReadSaysSo) {
  std::string path = temp_path("truncated-under-reader"), text = many_lines(5000);
  std::ofstream(path) << text;
  auto src = open_source(path, 0, 1 << 12);
  size_t bytes = src->next_block().bytes.size();
  ASSERT_GT(bytes, 0u);
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  bytes += read_all(*src).size();
  EXPECT_LT(bytes, text.size());
  EXPECT_NE(src->shortfall(0).find("cut short while being read"), std::string::npos) << src->shortfall(0);
  std::ofstream(path) << text;
  auto whole = open_source(path, 0, 1 << 12);
  EXPECT_EQ(read_all(*whole), text);
  EXPECT_EQ(whole->shortfall(5000), "");
}

TEST(ByteSource, PipesLoseNothingAndGzipIsRecognisedInThem) {
  std::string data = many_lines(30000);
  std::string gz_path = temp_path("pipe-source.gz");
  write_gzip(gz_path, data, true);
  std::ifstream gz_in(gz_path, std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(gz_in)), {});
  {
    FifoWriter fifo("plain.fifo", data);
    EXPECT_EQ(read_first_line(fifo.path), "") << "a FIFO is not read before the real read";
    auto src = open_source(fifo.path, 0, 64 * 1024);
    EXPECT_FALSE(src->rereadable());
    EXPECT_EQ(read_all(*src), data);
  }
  {
    FifoWriter fifo("gzip.fifo", gz);
    auto src = open_source(fifo.path, 0, 64 * 1024);
    EXPECT_EQ(read_all(*src), data);
  }
  {
    FifoWriter fifo("one-byte.fifo", "x");
    auto src = open_source(fifo.path, 0, 64 * 1024);
    EXPECT_EQ(read_all(*src), "x");
  }
}

// A file with no newline for many megabytes (a binary given by mistake) is cut into blocks of
// bounded size: every byte still comes through, but none of it is held all at once.
TEST(ByteSource, AnAbsurdLineIsCutNotHeldWhole) {
  std::string path = temp_path("absurd.log");
  std::string data = "first\n" + std::string(3 * kMaxLineBytes + 5, 'z') + "\nlast\n";
  std::ofstream(path) << data;
  auto src = open_source(path, 0, 64 * 1024);
  std::string out;
  size_t largest = 0;
  for (Block b = src->next_block(); !b.bytes.empty(); b = src->next_block()) {
    out += b.bytes;
    largest = std::max(largest, b.bytes.size());
  }
  EXPECT_EQ(out, data);
  EXPECT_LE(largest, kMaxLineBytes + 64 * 1024);
  EXPECT_GE(largest, kMaxLineBytes / 2) << "long lines still get big blocks";
}

// Lines that compress about as well as a real log does, so damage lands in many deflate blocks.
std::string varied_lines(size_t n) {
  std::string s;
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s += "2026-11-01 10:" + std::to_string(10 + i % 50) + ":00 1tAAAA-" + std::to_string(x % 1000000) + "-AA <= user" +
         std::to_string(x % 977) + "@host" + std::to_string(x % 31) + ".example S=" + std::to_string(x % 100000) + "\n";
  }
  return s;
}

using sw::logio::testing::file_bytes;
using sw::logio::testing::zcat_whole_lines;

size_t whole_lines(std::string_view text) { return size_t(std::count(text.begin(), text.end(), '\n')); }

// A gzip truncated anywhere, or with a byte flipped in its deflate data or its check value,
// gives every line zlib inflated before the damage (at least what zcat gives), and says
// where it stopped; a multi-member file damaged in its second member keeps the first whole.
TEST(ByteSource, DamagedGzipIsReadUpToTheDamageLikeZcat) {
  std::string data = varied_lines(40000), path = temp_path("damaged.gz");
  write_gzip(path, data, true);
  const std::string gz = file_bytes(path);
  ASSERT_GT(gz.size(), 200000u);
  struct Damage {
    std::string what, bytes;
  };
  std::vector<Damage> cases;
  for (size_t cut : {size_t(100), gz.size() / 10, gz.size() / 2 - 3, gz.size() * 9 / 10, gz.size() - 6, gz.size() - 1})
    cases.push_back({"cut at " + std::to_string(cut), gz.substr(0, cut)});
  for (size_t at : {gz.size() / 3, gz.size() * 3 / 4, gz.size() - 6}) {  // deflate data, 2nd member, its CRC
    std::string flipped = gz;
    flipped[at] = char(flipped[at] ^ 0x55);
    cases.push_back({"byte flipped at " + std::to_string(at), flipped});
  }
  for (const Damage& d : cases) {
    SCOPED_TRACE(d.what);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << d.bytes;
    for (size_t block_size : {size_t(64 * 1024), size_t(1 << 20)}) {
      auto src = open_source(path, 0, block_size);
      std::string text = read_all(*src);
      size_t zcat_lines = zcat_whole_lines(path);
      EXPECT_GE(whole_lines(text), zcat_lines) << "block size " << block_size;
      if (d.what.starts_with("cut")) {
        EXPECT_TRUE(data.starts_with(text)) << "a cut file gives a prefix of the text";
      }
      std::string why = src->shortfall(whole_lines(text));
      EXPECT_NE(why.find("damaged.gz: "), std::string::npos) << why;
      EXPECT_NE(why.find("compressed byte "), std::string::npos) << why;
      EXPECT_NE(why.find(std::to_string(whole_lines(text)) + " lines"), std::string::npos) << why;
      if (!text.empty() && text.back() != '\n') {
        EXPECT_NE(why.find("without its newline"), std::string::npos) << why;
      }
    }
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << gz.substr(0, gz.size() / 2);
  EXPECT_GT(zcat_whole_lines(path), 1000u) << "the comparison means something";
}

// A file too small for a second block (the whole of it in the buffer when zlib fails) is
// not lost: zcat recovers 1519 lines from such a file, and so must we.
TEST(ByteSource, ASmallDamagedGzipIsNotLostWhole) {
  std::string data = varied_lines(1600), path = temp_path("small-damaged.gz");
  write_gzip(path, data, false);
  std::string gz = file_bytes(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << gz.substr(0, gz.size() - 100);
  auto src = open_source(path, 0, 1 << 20);
  std::string text = read_all(*src);
  EXPECT_GE(whole_lines(text), zcat_whole_lines(path));
  EXPECT_GT(whole_lines(text), 1500u);
  EXPECT_NE(src->shortfall(whole_lines(text)).find("ends inside a member"), std::string::npos)
      << src->shortfall(whole_lines(text));
  EXPECT_EQ(read_first_line(path), data.substr(0, data.find('\n'))) << "the first line orders it as before";
}

// The check value covers the text: a mismatch is said to be one, with the text still read.
TEST(ByteSource, AGzipWhoseCheckValueFailsSaysTheTextMayBeWrong) {
  std::string data = varied_lines(3000), path = temp_path("bad-crc.gz");
  write_gzip(path, data, false);
  std::string gz = file_bytes(path);
  gz[gz.size() - 8] = char(gz[gz.size() - 8] ^ 1);  // the CRC-32 of the trailer
  std::ofstream(path, std::ios::binary | std::ios::trunc) << gz;
  auto src = open_source(path, 0, 1 << 20);
  EXPECT_EQ(read_all(*src), data);
  std::string why = src->shortfall(3000);
  EXPECT_NE(why.find("check value does not match"), std::string::npos) << why;
  EXPECT_NE(why.find("may hold wrong bytes"), std::string::npos) << why;
}

// Bytes after the last whole member (padding, garbage): all the text is read, and what
// follows it is named as what it is.
TEST(ByteSource, GarbageAfterTheLastMemberIsNamed) {
  std::string data = varied_lines(3000), path = temp_path("trailing.gz");
  write_gzip(path, data, true);
  std::string gz = file_bytes(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << gz << std::string(512, '\0');
  auto src = open_source(path, 0, 64 * 1024);
  EXPECT_EQ(read_all(*src), data);
  std::string why = src->shortfall(3000);
  EXPECT_NE(why.find("after the gzip member that ends at compressed byte " + std::to_string(gz.size())),
            std::string::npos)
      << why;
}

// stdin and pipes: gzip is recognised by its magic there too, and damage in it is handled alike.
TEST(ByteSource, ADamagedGzipInAPipeIsReadUpToTheDamage) {
  std::string data = varied_lines(20000), path = temp_path("pipe-damaged.gz");
  write_gzip(path, data, false);
  std::string gz = file_bytes(path);
  std::string cut = gz.substr(0, gz.size() * 2 / 3);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << cut;
  FifoWriter fifo("damaged-gzip.fifo", cut);
  auto src = open_source(fifo.path, 0, 1 << 20);
  std::string text = read_all(*src);
  EXPECT_GE(whole_lines(text), zcat_whole_lines(path));
  EXPECT_GT(whole_lines(text), 10000u);
  EXPECT_TRUE(data.starts_with(text));
  EXPECT_NE(src->shortfall(whole_lines(text)).find("compressed byte " + std::to_string(cut.size())), std::string::npos)
      << src->shortfall(whole_lines(text));
}

}  // namespace
}  // namespace sw::logio

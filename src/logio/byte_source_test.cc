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

TEST(ByteSource, GzipByMagicIncludingConcatenatedMembers) {
  std::string path = temp_path("log.1"), data = many_lines(30000);  // no .gz suffix on purpose
  write_gzip(path, data, true);
  auto src = open_source(path, 0, 64 * 1024);
  EXPECT_EQ(read_all(*src), data);
}

TEST(ByteSource, TruncatedGzipIsAnErrorNamingTheFile) {
  std::string path = temp_path("cut.gz"), data = many_lines(30000);
  write_gzip(path, data, false);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto src = open_source(path, 0, 64 * 1024);
  try {
    read_all(*src);
    FAIL() << "no error for a truncated gzip";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.gz"), std::string::npos);
  }
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
  EXPECT_NE(src->shortfall().find("cut short while being read"), std::string::npos) << src->shortfall();
  std::ofstream(path) << text;
  auto whole = open_source(path, 0, 1 << 12);
  EXPECT_EQ(read_all(*whole), text);
  EXPECT_EQ(whole->shortfall(), "");
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

}  // namespace
}  // namespace sw::logio

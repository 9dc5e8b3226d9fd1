// The batched reader (io_uring) and the plain one must agree on every outcome: parsed, vanished,
// unreadable with the same reason, body sizes. Spools are built from the real Exim 4.96 files
// in testdata/ (copied, or cloned under fresh ids), so the bytes are what Exim writes.
#include "spool/message_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/temp_dir.h"
#include "spool/spool_location.h"
#include "spool/spool_scanner.h"
#include "base/test_files.h"

namespace sw::spool {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = std::string(SW_SOURCE_DIR) + "/src/spool/testdata/real-4.96";

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A spool (input/ and msglog/) copied from a fixture.
std::string copy_fixture(const TempDir& dir, const std::string& layout) {
  fs::copy(kFixtures + "/" + layout, dir.path + "/spool", fs::copy_options::recursive);
  return dir.path + "/spool";
}

// A 16-character id unique for n, in the form Exim 4.96 writes.
std::string id_for(size_t n) {
  static const char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string pid = "000000";
  for (size_t i = 6; i-- > 0; n /= 62) pid[i] = kDigits[n % 62];
  return "1xV9sC-" + pid + "-33";
}

// `count` copies of one real message under fresh ids in a flat spool.
std::string clone_spool(const TempDir& dir, size_t count) {
  const std::string source = kFixtures + "/flat/input/1xV9sC-0003j9-33";
  std::string header = sw::testing::file_bytes(source + "-H"), data = sw::testing::file_bytes(source + "-D");
  header = header.substr(header.find('\n'));
  data = data.substr(data.find('\n'));
  fs::create_directories(dir.path + "/spool/input");
  for (size_t i = 0; i < count; ++i) {
    std::string id = id_for(i);
    write(dir.path + "/spool/input/" + id + "-H", id + "-H" + header);
    write(dir.path + "/spool/input/" + id + "-D", id + "-D" + data);
  }
  return dir.path + "/spool";
}

struct Seen {
  ReadOutcome outcome;
  std::string reason, sender;
  int64_t body_size;
  size_t recipients;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& s) {
  return out << int(s.outcome) << " '" << s.reason << "' <" << s.sender << "> size " << s.body_size << " rcpts "
             << s.recipients;
}

// Reads every listed message of the spool in batches, as the scanner does.
std::map<std::string, Seen> read_all(const std::string& spool_dir, ReaderOptions options,
                                     bool* used_io_uring = nullptr) {
  SpoolListing listing = list_spool(spool_dir);
  std::vector<MessageLocation> locations(listing.size());
  for (size_t i = 0; i < listing.size(); ++i) listing.location(i, locations[i]);
  MessageReader reader(options);
  if (used_io_uring) *used_io_uring = reader.uses_io_uring();
  std::map<std::string, int> dirs;
  for (const auto& l : locations)
    if (!dirs.count(l.input_dir)) dirs[l.input_dir] = ::open(l.input_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::map<std::string, Seen> seen;
  for (size_t begin = 0; begin < locations.size(); begin += reader.batch_size()) {
    std::vector<ReadRequest> batch;
    for (size_t i = begin; i < std::min(locations.size(), begin + reader.batch_size()); ++i)
      batch.push_back({dirs[locations[i].input_dir], &locations[i]});
    reader.read_batch(batch, [&](size_t i, const ReadResult& r, const SpoolHeader& h) {
      bool ok = r.outcome == ReadOutcome::ok;
      seen[batch[i].location->id] = {r.outcome, r.reason, ok ? h.sender : "", r.body_size,
                                     ok ? h.recipients.size() : 0};
    });
  }
  for (const auto& [dir, fd] : dirs) ::close(fd);
  return seen;
}

class SpoolReader : public ::testing::TestWithParam<IoMode> {
 protected:
  void SetUp() override {
    if (GetParam() == IoMode::io_uring) {
      MessageReader probe({IoMode::io_uring, true});
      if (!probe.uses_io_uring()) GTEST_SKIP() << "no io_uring here: " << probe.io_uring_error();
    }
  }
  ReaderOptions options(bool sizes = true) const { return {GetParam(), sizes}; }
};

TEST_P(SpoolReader, RealSpoolsFlatAndSplitWithBodySizes) {
  for (const char* layout : {"flat", "split"}) {
    TempDir dir("sw-reader");
    std::string spool = copy_fixture(dir, layout);
    bool used = false;
    auto seen = read_all(spool, options(), &used);
    EXPECT_EQ(used, GetParam() == IoMode::io_uring);
    ASSERT_FALSE(seen.empty()) << layout;
    for (const auto& location : list_messages(spool)) {
      const Seen& s = seen.at(location.id);
      ASSERT_EQ(s.outcome, ReadOutcome::ok) << location.id << " " << s.reason;
      // -D size minus its first line "<id>-D\n", computed independently here.
      int64_t expected = int64_t(fs::file_size(location.data_path())) - int64_t(location.id.size() + 3);
      EXPECT_EQ(s.body_size, expected) << location.id;
      EXPECT_GT(s.recipients, 0u) << location.id;
      EXPECT_TRUE(location.data_seen) << location.id;
    }
    auto without_sizes = read_all(spool, options(false));
    ASSERT_EQ(without_sizes.size(), seen.size());
    for (auto& [id, s] : without_sizes) {
      EXPECT_EQ(s.body_size, -1) << id;
      s.body_size = seen.at(id).body_size;
      EXPECT_EQ(s, seen.at(id));
    }
  }
}

TEST_P(SpoolReader, ManyBatchesMatchThePlainReader) {
  TempDir dir("sw-reader");
  std::string spool = clone_spool(dir, 300);  // several full batches and a partial one
  auto plain = read_all(spool, {IoMode::syscalls, true});
  auto ours = read_all(spool, options());
  ASSERT_EQ(plain.size(), 300u);
  EXPECT_EQ(ours, plain);
  for (const auto& [id, s] : ours) ASSERT_EQ(s.outcome, ReadOutcome::ok) << id;
}

TEST_P(SpoolReader, GoneCorruptOversizedAndMissingData) {
  TempDir dir("sw-reader");
  std::string spool = clone_spool(dir, 70);
  std::string input = spool + "/input/";
  SpoolListing listing = list_spool(spool);  // listed before the files change, as in a race
  std::vector<MessageLocation> locations(listing.size());
  for (size_t i = 0; i < listing.size(); ++i) listing.location(i, locations[i]);

  const std::string gone = id_for(1), truncated = id_for(2), binary = id_for(3), no_data = id_for(4), big = id_for(5),
                    other = id_for(6);
  ::unlink((input + gone + "-H").c_str());
  std::string bytes = sw::testing::file_bytes(input + truncated + "-H");
  write(input + truncated + "-H", bytes.substr(0, bytes.size() / 3));
  bytes = sw::testing::file_bytes(input + binary + "-H");
  bytes[bytes.find('\n') + 3] = '\0';
  write(input + binary + "-H", bytes);
  ::unlink((input + no_data + "-D").c_str());
  // A -H far bigger than one read buffer: one more (valid) header of 40 KB.
  std::string text = "X-Big: " + std::string(40000, 'a') + "\n";
  write(input + big + "-H", sw::testing::file_bytes(input + big + "-H") + std::to_string(text.size()) + "  " + text);
  bytes = sw::testing::file_bytes(input + other + "-H");
  write(input + other + "-H", id_for(7) + "-H" + bytes.substr(bytes.find('\n')));

  for (bool sizes : {true, false}) {
    MessageReader reader(options(sizes));
    MessageReader plain({IoMode::syscalls, sizes});
    std::map<std::string, int> dirs;
    int fd = ::open((spool + "/input").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::map<std::string, Seen> ours, theirs;
    for (auto* r : {&reader, &plain}) {
      auto& into = r == &reader ? ours : theirs;
      for (size_t begin = 0; begin < locations.size(); begin += r->batch_size()) {
        std::vector<ReadRequest> batch;
        for (size_t i = begin; i < std::min(locations.size(), begin + r->batch_size()); ++i)
          batch.push_back({fd, &locations[i]});
        r->read_batch(batch, [&](size_t i, const ReadResult& res, const SpoolHeader& h) {
          bool ok = res.outcome == ReadOutcome::ok;
          into[batch[i].location->id] = {res.outcome, res.reason, ok ? h.sender : "", res.body_size,
                                         ok ? h.recipients.size() : 0};
        });
      }
    }
    ::close(fd);
    EXPECT_EQ(ours, theirs) << "sizes " << sizes;
    EXPECT_EQ(ours.at(gone).outcome, ReadOutcome::vanished);
    EXPECT_EQ(ours.at(truncated).outcome, ReadOutcome::unreadable);
    EXPECT_EQ(ours.at(binary).outcome, ReadOutcome::unreadable);
    EXPECT_EQ(ours.at(other).reason, "-H names another message: " + id_for(7));
    EXPECT_EQ(ours.at(big).outcome, ReadOutcome::ok) << ours.at(big).reason;
    if (sizes) {
      EXPECT_EQ(ours.at(no_data).reason, "missing -D file");
      EXPECT_EQ(ours.at(id_for(9)).body_size, ours.at(id_for(8)).body_size);
      EXPECT_GT(ours.at(id_for(9)).body_size, 0);
    } else {
      // The listing saw the -D: without sizes it is not looked at again.
      EXPECT_EQ(ours.at(no_data).outcome, ReadOutcome::ok);
    }
  }
  // Listed after the -D went away: missing even when sizes are not wanted.
  auto relisted = read_all(spool, options(false));
  EXPECT_EQ(relisted.at(no_data).reason, "missing -D file");
  EXPECT_EQ(relisted.count(gone), 0u);
}

// The readers run as root: a -H that is a symbolic link (to a valid -H elsewhere, or to any
// file root can read) is not read through, on either path.
TEST_P(SpoolReader, ASymbolicLinkHeaderIsNotRead) {
  TempDir dir("sw-reader");
  std::string spool = clone_spool(dir, 3);
  const std::string linked = spool + "/input/" + id_for(1) + "-H", elsewhere = dir.path + "/elsewhere-H";
  ASSERT_EQ(::rename(linked.c_str(), elsewhere.c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), linked.c_str()), 0);
  auto seen = read_all(spool, options());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen.at(id_for(1)).outcome, ReadOutcome::unreadable);
  EXPECT_EQ(seen.at(id_for(1)).reason, "-H is a symbolic link: not read");
  EXPECT_EQ(seen.at(id_for(0)).outcome, ReadOutcome::ok);
  EXPECT_EQ(seen.at(id_for(2)).outcome, ReadOutcome::ok);
}

// One message found by id, flat or split; a spool that cannot be looked into says so rather
// than "not there" (a restore must not write a message back on that answer).
TEST(LocateMessage, FindsByIdAndSaysWhenItCannotLook) {
  TempDir dir("sw-locate");
  std::string spool = clone_spool(dir, 3);
  std::string why;
  auto found = locate_message(spool, id_for(1), &why);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->header_path(), spool + "/input/" + id_for(1) + "-H");
  EXPECT_FALSE(locate_message(spool, "1vXyZa-000999-ZZ", &why));
  EXPECT_EQ(why, "") << "not there, and nothing in the way";
  std::string looped = dir.path + "/looped";
  ASSERT_EQ(::mkdir(looped.c_str(), 0700), 0);
  ASSERT_EQ(::symlink((looped + "/input").c_str(), (looped + "/input").c_str()), 0);
  EXPECT_FALSE(locate_message(looped, id_for(1), &why));
  EXPECT_NE(why.find(looped + "/input/" + id_for(1) + "-H: "), std::string::npos) << why;
}

INSTANTIATE_TEST_SUITE_P(Paths, SpoolReader, ::testing::Values(IoMode::syscalls, IoMode::io_uring),
                         [](const auto& info) { return info.param == IoMode::io_uring ? "io_uring" : "syscalls"; });

// Where io_uring is forbidden (seccomp in containers, io_uring_disabled) the automatic mode
// falls back to plain calls and still reads everything; the io_uring mode says why it cannot.
TEST(SpoolReaderFallback, IoUringForbiddenBySeccomp) {
  TempDir dir("sw-reader");
  std::string spool = clone_spool(dir, 100);
  auto expected = read_all(spool, {IoMode::syscalls, true});
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program = {sizeof filter / sizeof filter[0], filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
      ::_exit(10);
    MessageReader forced({IoMode::io_uring, true});
    if (forced.uses_io_uring() || forced.io_uring_error().find("not permitted") == std::string::npos) ::_exit(11);
    bool used = true;
    auto seen = read_all(spool, {IoMode::automatic, true}, &used);
    if (used) ::_exit(12);
    ::_exit(seen == expected ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 seccomp, 11 io_uring not refused, 12 not fallen back, 13 results differ";
}

// The scanner threads each get a reader; both paths give the same counts.
class CountingSink : public ScanSink {
 public:
  void on_message(const MessageLocation&, const SpoolHeader& header, int64_t body_size) override {
    ++messages;
    bytes += body_size;
    recipients += header.recipients.size();
  }
  void on_unreadable(const MessageLocation&, std::string_view) override { ++unreadable; }
  size_t messages = 0, unreadable = 0, recipients = 0;
  int64_t bytes = 0;
};

TEST(SpoolScanner, BothPathsOnTwoThreads) {
  TempDir dir("sw-reader");
  std::string spool = clone_spool(dir, 500);
  ::unlink((spool + "/input/" + id_for(10) + "-D").c_str());
  SpoolListing listing = list_spool(spool);
  std::map<IoMode, std::pair<ScanCounts, CountingSink>> results;
  for (IoMode mode : {IoMode::syscalls, IoMode::automatic}) {
    CountingSink a, b;
    ScanCounts counts = scan_messages(listing, {&a, &b}, {mode, true});
    a.messages += b.messages, a.unreadable += b.unreadable, a.recipients += b.recipients, a.bytes += b.bytes;
    results[mode] = {counts, a};
  }
  const auto& [plain_counts, plain] = results[IoMode::syscalls];
  const auto& [auto_counts, automatic] = results[IoMode::automatic];
  EXPECT_EQ(plain_counts.io_uring_threads, 0u);
  MessageReader probe;
  EXPECT_EQ(auto_counts.io_uring_threads, probe.uses_io_uring() ? 2u : 0u);
  EXPECT_EQ(plain.messages, 499u);
  EXPECT_EQ(plain.unreadable, 1u);
  EXPECT_EQ(automatic.messages, plain.messages);
  EXPECT_EQ(automatic.unreadable, plain.unreadable);
  EXPECT_EQ(automatic.recipients, plain.recipients);
  EXPECT_EQ(automatic.bytes, plain.bytes);
  EXPECT_GT(plain.bytes, 0);
}

}  // namespace
}  // namespace sw::spool

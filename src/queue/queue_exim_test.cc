// Tests against spools written by a real Exim (testing/eximlab: Debian's exim4 with a private
// config, spool and daemons): summary and selection agree with `exim -bp`, freeze goes through
// exim, remove quarantines first and restore puts messages back byte for byte so Exim then
// delivers them.
// Designated initializers name only the fields a test cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "queue/actions.h"
#include "queue/quarantine.h"
#include "queue/report_format.h"
#include "queue/selection.h"
#include "queue/summary.h"
#include "eximlab.h"
#include "queue/exim_runner.h"
#include "spool/spool_location.h"
#include "spool/spool_scanner.h"

namespace sw::queue {
namespace {

// The queue tests' view of a lab: messages queued without delivery (-odq), by local sendmail
// or by SMTP on stdin with the client address and AUTH id given on the command line; remote
// recipients (*.defer.test) defer when a queue run tries them.
class QueueLab {
 public:
  explicit QueueLab(bool split_spool) : lab_({.pid = true, .split_spool = split_spool, .acl_includes = {}}) {}

  std::string dir() const { return lab_.dir(); }
  std::string spool_dir() const { return lab_.spool_dir(); }
  std::string mainlog() const { return lab_.mainlog(); }
  std::string config() const { return lab_.dir() + "/server.conf"; }
  static std::string binary() { return find_exim_binary(""); }

  std::string exim(const std::string& args) {
    std::vector<std::string> argv;
    std::istringstream words(args);
    for (std::string word; words >> word;) argv.push_back(word);
    return lab_.exim(argv);
  }

  // Local sendmail submission; returns the new message's id (read from the spool).
  std::string queue_local(const std::string& sender, const std::vector<std::string>& recipients,
                          const std::string& message) {
    std::vector<std::string> argv = {binary(), "-C", config(), "-odq", "-oi", "-f", sender};
    argv.insert(argv.end(), recipients.begin(), recipients.end());
    std::set<std::string> before;
    for (const auto& m : spool::list_messages(spool_dir())) before.insert(m.id);
    auto result = sw::testing::run_command(argv, message);
    if (result.exit_code != 0) throw std::runtime_error("exim -odq failed: " + result.out + result.err);
    for (const auto& m : spool::list_messages(spool_dir()))
      if (!before.count(m.id)) return m.id;
    throw std::runtime_error("no new message in the spool: " + result.out + result.err);
  }

  // SMTP on stdin from client_ip with this AUTH id (may be empty); returns the id.
  std::string queue_smtp(const std::string& auth_id, const std::string& client_ip, const std::string& helo,
                         const std::string& sender, const std::vector<std::string>& recipients,
                         const std::string& message) {
    std::string session = "EHLO " + helo + "\r\nMAIL FROM:<" + sender + ">\r\n";
    for (const std::string& r : recipients) session += "RCPT TO:<" + r + ">\r\n";
    session += "DATA\r\n";
    std::istringstream lines(message);
    for (std::string line; std::getline(lines, line);) session += (line.starts_with(".") ? "." : "") + line + "\r\n";
    session += ".\r\nQUIT\r\n";
    std::vector<std::string> argv = {binary(),
                                     "-C",
                                     config(),
                                     "-odq",
                                     "-bs",
                                     "-oMa",
                                     client_ip + ".2525",
                                     "-oMr",
                                     auth_id.empty() ? "esmtp" : "esmtpa"};
    if (!auth_id.empty()) argv.insert(argv.end(), {"-oMai", auth_id, "-oMaa", "PLAIN"});
    std::string output = sw::testing::run_command(argv, session).out;
    static const std::regex accepted(R"(250 OK id=(\S+))");
    std::smatch match;
    if (!std::regex_search(output, match, accepted)) throw std::runtime_error("SMTP submission failed: " + output);
    return match[1];
  }

  // From now on every remote recipient is redirected to a lab mailbox, delivered into mbox().
  void allow_delivery() {
    std::ofstream(lab_.dir() + "/routers.inc") << "deliver_everything:\n  driver = redirect\n"
                                                  "  domains = ! +local_domains\n  data = "
                                               << kMailbox << "\n";
  }
  std::string mbox() const { return lab_.dir() + "/mail/" + kMailbox; }

 private:
  static constexpr const char* kMailbox = "sales@acme-shop.example";
  sw::testing::EximLab lab_;
};

std::string slurp(const std::string& path) { return sw::testing::read_file(path); }

#define SKIP_WITHOUT_EXIM()                                          \
  do {                                                               \
    std::string why;                                                 \
    if (!sw::testing::EximLab::available(&why)) GTEST_SKIP() << why; \
  } while (0)

std::string message(const std::string& subject, const std::string& extra_headers = "") {
  return "Subject: " + subject + "\n" + extra_headers + "\nHello,\n.leading dot line\nbye\n";
}

// Ids `exim -bp` lists, with whether it shows them frozen.
std::map<std::string, bool> exim_listing(QueueLab& exim) {
  std::map<std::string, bool> ids;
  std::string listing = exim.exim("-bp");
  static const std::regex line(R"(^\s*\d+[mhd]\s+\S+\s+(\S{16}|\S{23}) <[^>]*>(.*)$)");
  std::istringstream lines(listing);
  for (std::string text; std::getline(lines, text);) {
    std::smatch m;
    if (std::regex_match(text, m, line)) ids[m[1]] = m[2].str().find("*** frozen ***") != std::string::npos;
  }
  return ids;
}

QueueReport summarise_with(const std::string& spool_dir, const Thresholds& t, int64_t now, spool::IoMode io,
                           bool sizes) {
  auto messages = spool::list_messages(spool_dir);
  std::vector<SummaryAccumulator> accumulators(2, SummaryAccumulator(now, t));
  spool::ScanCounts counts = spool::scan_messages(messages, {&accumulators[0], &accumulators[1]}, {io, sizes});
  accumulators[0].merge(accumulators[1]);
  accumulators[0].vanished = counts.vanished;
  return build_report(accumulators[0], t, 50);
}

// The summary through io_uring (where the kernel allows it) and through plain system calls,
// with and without body sizes: everything but body_bytes must be identical.
QueueReport summarise(const std::string& spool_dir, const Thresholds& t) {
  const int64_t now = ::time(nullptr);
  QueueReport plain = summarise_with(spool_dir, t, now, spool::IoMode::syscalls, true);
  QueueReport batched = summarise_with(spool_dir, t, now, spool::IoMode::automatic, true);
  QueueReport no_sizes = summarise_with(spool_dir, t, now, spool::IoMode::automatic, false);
  EXPECT_EQ(report_to_json(batched).dump(), report_to_json(plain).dump());
  EXPECT_EQ(no_sizes.body_bytes, 0u);
  EXPECT_EQ(no_sizes.body_bytes_known, plain.messages == 0);
  EXPECT_TRUE(plain.body_bytes_known);
  if (plain.messages > 0) {
    EXPECT_GT(plain.body_bytes, 0u);
  }
  no_sizes.body_bytes = plain.body_bytes;
  no_sizes.body_bytes_known = plain.body_bytes_known;
  EXPECT_EQ(report_to_json(no_sizes).dump(), report_to_json(plain).dump());
  return plain;
}

struct Population {
  std::set<std::string> spammer, locals, many;
};

Population fill(QueueLab& exim) {
  Population p;
  for (int i = 0; i < 12; ++i)
    p.spammer.insert(exim.queue_smtp("spammer@cust.example", "2001:db8::66", "pc.example", "spam@cust.example",
                                     {"v" + std::to_string(i) + "@far.defer.test"}, message("cheap pills")));
  for (int i = 0; i < 3; ++i)
    p.locals.insert(
        exim.queue_local("web@shop.example", {"a@x.defer.test"},
                         message("order " + std::to_string(i), "X-PHP-Script: shop.example/x.php for 1.2.3.4\n")));
  std::vector<std::string> crowd;
  for (int i = 0; i < 25; ++i) crowd.push_back("c" + std::to_string(i) + "@crowd.defer.test");
  p.many.insert(exim.queue_smtp("bulk@cust.example", "192.0.2.9", "bulk.example", "bulk@cust.example", crowd,
                                message("newsletter")));
  return p;
}

class RealSpool : public ::testing::TestWithParam<bool> {};

TEST_P(RealSpool, SummaryAndSelectionAgreeWithExim) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(/*split_spool=*/GetParam());
  Population p = fill(exim);
  auto listed = exim_listing(exim);
  ASSERT_EQ(listed.size(), 16u);

  Thresholds t;
  t.dominant_floor = 5;
  QueueReport report = summarise(exim.spool_dir(), t);
  EXPECT_EQ(report.messages, listed.size());
  EXPECT_EQ(report.unreadable, 0u);
  EXPECT_EQ(report.recipients, 12u + 3u + 25u);
  const auto& auth = report.top_actors[size_t(ActorKind::auth_account)];
  ASSERT_FALSE(auth.empty());
  EXPECT_EQ(auth[0].key, "spammer@cust.example");
  EXPECT_EQ(auth[0].messages, 12u);
  EXPECT_EQ(report.top_actors[size_t(ActorKind::client_ip)][0].key, "2001:db8::66");
  EXPECT_EQ(report.top_actors[size_t(ActorKind::script)][0].key, "shop.example/x.php");
  bool dominant = false, many = false;
  for (const Finding& f : report.findings) {
    dominant |= f.kind == "dominant_actor" && f.actor == "spammer@cust.example";
    many |= f.kind == "many_recipients" && f.actor == "bulk@cust.example" &&
            f.ids == std::vector<std::string>(p.many.begin(), p.many.end());
  }
  EXPECT_TRUE(dominant);
  EXPECT_TRUE(many);

  std::string error;
  auto selection = compile_selection({.auth_id = "spammer@cust.example", .client_ip = "2001:db8::/32"}, &error);
  ASSERT_TRUE(selection) << error;
  SelectionResult selected = select_messages(exim.spool_dir(), *selection, ::time(nullptr));
  std::set<std::string> ids;
  for (const auto& m : selected.messages) ids.insert(m.location.id);
  EXPECT_EQ(ids, p.spammer);
  for (const std::string& id : ids) EXPECT_TRUE(listed.count(id));
  if (GetParam()) {
    for (const auto& m : selected.messages) EXPECT_EQ(m.location.input_dir.back(), m.location.id[5]);
  }
}

TEST_P(RealSpool, FreezeMatchingGoesThroughExim) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  std::string error;
  auto selection = compile_selection({.sender = "web@shop.example"}, &error);
  ProcessEximRunner runner(QueueLab::binary(), exim.config());
  FreezeMatchingResult result = freeze_matching(exim.spool_dir(), *selection, runner, ::time(nullptr));
  EXPECT_EQ(result.matched, 3u);
  ASSERT_EQ(result.outcomes.size(), 3u);
  for (const auto& o : result.outcomes) EXPECT_TRUE(o.ok) << o.detail;
  for (const auto& [id, frozen] : exim_listing(exim)) EXPECT_EQ(frozen, p.locals.count(id) == 1) << id;
  // A second run finds them already frozen and does nothing.
  FreezeMatchingResult again = freeze_matching(exim.spool_dir(), *selection, runner, ::time(nullptr));
  EXPECT_EQ(again.already_frozen, 3u);
  EXPECT_TRUE(again.outcomes.empty());
}

struct FileState {
  std::string sha256;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

std::map<std::string, FileState> spool_files(const std::string& spool_dir, const std::set<std::string>& ids) {
  std::map<std::string, FileState> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(spool_dir)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename();
    for (const std::string& id : ids) {
      if (!name.starts_with(id)) continue;
      struct stat st;
      ::stat(entry.path().c_str(), &st);
      files[entry.path()] = {sha256_file_hex(entry.path()), st.st_mode, st.st_uid, st.st_gid};
    }
  }
  return files;
}

TEST_P(RealSpool, RemoveThenRestoreIsByteIdenticalAndEximDelivers) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  exim.exim("-q");  // one delivery attempt each: defers write msglogs and retry data
  auto before = spool_files(exim.spool_dir(), p.spammer);
  ASSERT_GE(before.size(), 3 * p.spammer.size());  // -H, -D, msglog

  std::string error;
  auto selection = compile_selection({.auth_id = "spammer@*"}, &error);
  SelectionResult selected = select_messages(exim.spool_dir(), *selection, ::time(nullptr));
  std::vector<spool::MessageLocation> targets;
  for (const auto& m : selected.messages) targets.push_back(m.location);
  ProcessEximRunner runner(QueueLab::binary(), exim.config());
  std::string state = exim.dir() + "/state";
  RemoveResult removed =
      quarantine_and_remove(targets, state, exim.spool_dir(), "auth-id=spammer@*", "test", ::time(nullptr), runner);
  ASSERT_TRUE(removed.error.empty()) << removed.error;
  EXPECT_EQ(removed.removed, p.spammer.size());
  EXPECT_TRUE(spool_files(exim.spool_dir(), p.spammer).empty());
  auto listed = exim_listing(exim);
  for (const std::string& id : p.spammer) EXPECT_FALSE(listed.count(id));
  EXPECT_EQ(listed.size(), 4u);

  RestoreResult restored = restore_batch(state, removed.manifest.batch, exim.spool_dir());
  EXPECT_TRUE(restored.error.empty()) << restored.error;
  EXPECT_EQ(restored.restored, p.spammer.size());
  auto after = spool_files(exim.spool_dir(), p.spammer);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [path, state_before] : before) {
    ASSERT_TRUE(after.count(path)) << path;
    EXPECT_EQ(after[path].sha256, state_before.sha256) << path;
    EXPECT_EQ(after[path].mode, state_before.mode) << path;
    EXPECT_EQ(after[path].uid, state_before.uid) << path;
    EXPECT_EQ(after[path].gid, state_before.gid) << path;
  }
  // A second restore must not overwrite what is queued again.
  EXPECT_EQ(restore_batch(state, removed.manifest.batch, exim.spool_dir()).restored, 0u);

  exim.allow_delivery();
  exim.exim("-qff");
  std::string log = slurp(exim.mainlog());
  std::string mbox = slurp(exim.mbox());
  for (const std::string& id : p.spammer) {
    EXPECT_NE(log.find(id + " Completed"), std::string::npos) << id;
    EXPECT_NE(mbox.find(id), std::string::npos) << id;  // the Received: header names the id
  }
  EXPECT_NE(mbox.find("\n.leading dot line\n"), std::string::npos);
  EXPECT_TRUE(spool_files(exim.spool_dir(), p.spammer).empty());
}

TEST_P(RealSpool, CorruptFilesAreReportedAndNeverSelected) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  auto locations = spool::list_messages(exim.spool_dir());
  ASSERT_EQ(locations.size(), 16u);
  std::vector<std::string> broken;
  auto corrupt = [&](const spool::MessageLocation& where, const std::string& header_bytes) {
    std::ofstream(where.header_path(), std::ios::binary | std::ios::trunc) << header_bytes;
    broken.push_back(where.id);
  };
  std::string good = slurp(locations[0].header_path());
  corrupt(locations[0], good.substr(0, good.size() / 2));                           // truncated
  corrupt(locations[1], locations[1].id + "-H\nroot\n<a@b>\n1 0\nXX\n1\nx@y\n\n");  // wrong owner line
  std::string absurd = slurp(locations[2].header_path());
  absurd.replace(absurd.find("\nXX\n") + 4, 2, "99999\n");
  corrupt(locations[2], absurd);
  std::string binary = slurp(locations[3].header_path());
  binary[binary.find('\n') + 3] = '\0';
  corrupt(locations[3], binary);
  ::unlink(locations[4].data_path().c_str());  // missing -D
  broken.push_back(locations[4].id);

  QueueReport report = summarise(exim.spool_dir(), Thresholds());
  EXPECT_EQ(report.messages, 16u - broken.size());
  EXPECT_EQ(report.unreadable, broken.size());
  std::set<std::string> reported;
  for (const auto& u : report.unreadable_messages) reported.insert(u.id);
  EXPECT_EQ(reported, std::set<std::string>(broken.begin(), broken.end()));

  std::string error;
  auto everything_old = compile_selection({.younger_than = "1d"}, &error);
  SelectionResult selected = select_messages(exim.spool_dir(), *everything_old, ::time(nullptr));
  EXPECT_EQ(selected.messages.size(), 16u - broken.size());
  EXPECT_EQ(selected.skipped_unreadable, broken.size());
  auto named = compile_selection({.ids = {broken[0]}}, &error);
  SelectionResult by_id = select_messages(exim.spool_dir(), *named, ::time(nullptr));
  ASSERT_EQ(by_id.messages.size(), 1u);
  EXPECT_FALSE(by_id.messages[0].readable);
}

// A symbolic link planted in the spool (here a message's -D pointing at another file, a
// msglog pointing at another) is not copied through: the message is neither quarantined nor
// removed, and the note says why.
TEST_P(RealSpool, RemoveFollowsNoSymbolicLinkInTheSpool) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  exim.exim("-q");  // msglogs
  std::vector<spool::MessageLocation> targets;
  for (const auto& m : spool::list_messages(exim.spool_dir()))
    if (p.spammer.count(m.id)) targets.push_back(m);
  ASSERT_GE(targets.size(), 3u);
  const std::string secret = exim.dir() + "/secret";
  std::ofstream(secret) << "root's bytes\n";
  ASSERT_EQ(::unlink(targets[0].data_path().c_str()), 0);
  ASSERT_EQ(::symlink(secret.c_str(), targets[0].data_path().c_str()), 0);
  ASSERT_EQ(::unlink(targets[1].msglog_path().c_str()), 0);
  ASSERT_EQ(::symlink(secret.c_str(), targets[1].msglog_path().c_str()), 0);

  ProcessEximRunner runner(QueueLab::binary(), exim.config());
  std::string state = exim.dir() + "/state";
  RemoveResult removed =
      quarantine_and_remove(targets, state, exim.spool_dir(), "test", "test", ::time(nullptr), runner);
  ASSERT_TRUE(removed.error.empty()) << removed.error;
  EXPECT_EQ(removed.removed, targets.size() - 2);
  EXPECT_EQ(removed.failed, 2u);
  for (const QuarantinedMessage& m : removed.manifest.messages) {
    bool linked = m.id == targets[0].id || m.id == targets[1].id;
    EXPECT_EQ(m.removed, !linked) << m.id;
    if (linked) {
      EXPECT_NE(m.note.find("is a symbolic link or lies behind one: not followed"), std::string::npos) << m.note;
      EXPECT_TRUE(m.files.empty() || m.files.back().role != "H") << "not quarantined";
    }
  }
  for (const auto& entry : std::filesystem::directory_iterator(removed.batch_dir)) {
    if (entry.path().filename() != "manifest.json") {
      EXPECT_NE(slurp(entry.path()), "root's bytes\n") << entry.path();
    }
  }
  auto listed = exim_listing(exim);
  EXPECT_TRUE(listed.count(targets[0].id));
  EXPECT_TRUE(listed.count(targets[1].id));
}

// A message whose -D file is gone while its -H is queued is "missing" its body; one gone whole
// (delivered since it was selected) "vanished". Neither is removed, and each says so once.
TEST_P(RealSpool, AbsentSpoolFilesAreNamedForWhatHappened) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  std::vector<spool::MessageLocation> targets;
  for (const auto& m : spool::list_messages(exim.spool_dir()))
    if (p.spammer.count(m.id)) targets.push_back(m);
  ASSERT_GE(targets.size(), 3u);
  ASSERT_EQ(::unlink(targets[0].data_path().c_str()), 0);
  ASSERT_EQ(::unlink(targets[1].data_path().c_str()), 0);
  ASSERT_EQ(::unlink(targets[1].header_path().c_str()), 0);
  ProcessEximRunner runner(QueueLab::binary(), exim.config());
  RemoveResult removed =
      quarantine_and_remove(targets, exim.dir() + "/state", exim.spool_dir(), "test", "test", ::time(nullptr), runner);
  ASSERT_TRUE(removed.error.empty()) << removed.error;
  EXPECT_EQ(removed.failed, 2u);
  for (const QuarantinedMessage& m : removed.manifest.messages) {
    if (m.id == targets[0].id) {
      EXPECT_EQ(m.note, "not removed: " + targets[0].data_path() + " is missing");
    }
    if (m.id == targets[1].id) {
      EXPECT_EQ(m.note,
                "not removed: " + targets[1].data_path() + " vanished (delivered or removed since it was selected)");
    }
  }
}

std::string spamwarden_binary() { return std::string(SW_BINARY_DIR) + "/spamwarden"; }

sw::testing::CommandResult spamwarden(std::vector<std::string> args) {
  args.insert(args.begin(), spamwarden_binary());
  return sw::testing::run_command(args);
}

// The one batch under state/quarantine.
std::string only_batch(const std::string& state) {
  std::vector<std::string> batches;
  for (const auto& entry : std::filesystem::directory_iterator(state + "/quarantine"))
    batches.push_back(entry.path().filename());
  return batches.size() == 1 ? batches[0] : "";
}

// `queue --spool DIR` without the config that owns DIR would run `exim -Mrm/-Mf` with Exim's
// default config, on its default spool: ids read in one spool, acted on in another. Every
// action refuses that (exit 3) before touching anything; with the lab's config it works.
TEST_P(RealSpool, ActionsRefuseASpoolThatIsNotTheirExims) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  const std::string state = exim.dir() + "/state";
  const std::vector<std::string> where = {"queue", "--spool", exim.spool_dir()};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), where.begin(), where.end());
    return spamwarden(args);
  };
  for (const std::vector<std::string>& action :
       {std::vector<std::string>{"remove", "--yes", "--all", "--state-dir", state},
        std::vector<std::string>{"freeze", "--all", "--state-dir", state},
        std::vector<std::string>{"thaw", "--all", "--state-dir", state}}) {
    auto r = run(action);
    EXPECT_EQ(r.exit_code, 3) << action[0] << r.out << r.err;
    EXPECT_NE(r.err.find("refused: " + exim.spool_dir() + " is not the spool of the Exim that would act"),
              std::string::npos)
        << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(state + "/quarantine")) << "nothing copied";
  auto listed = exim_listing(exim);
  EXPECT_EQ(listed.size(), 16u);
  for (const auto& [id, frozen] : listed) EXPECT_FALSE(frozen) << id;

  auto dry = run({"remove", "--auth-id", "spammer@*", "--state-dir", state, "--exim-config", exim.config()});
  EXPECT_NE(dry.out.find("subject cheap pills\n"), std::string::npos) << dry.out;
  auto removed =
      run({"remove", "--yes", "--auth-id", "spammer@*", "--state-dir", state, "--exim-config", exim.config()});
  EXPECT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_EQ(exim_listing(exim).size(), 4u);
  for (const std::string& id : p.spammer)  // what --yes removed, by id, sender and subject
    EXPECT_NE(removed.out.find("removed " + id + " spam@cust.example subject cheap pills\n"), std::string::npos)
        << removed.out;
  const std::string batch = only_batch(state);
  // restore: into a spool that is not the Exim's, refused; by default into the Exim's own.
  auto wrong = spamwarden({"queue", "restore", batch, "--state-dir", state, "--spool", exim.spool_dir()});
  EXPECT_EQ(wrong.exit_code, 3) << wrong.out << wrong.err;
  EXPECT_EQ(exim_listing(exim).size(), 4u);
  auto restored = spamwarden({"queue", "restore", batch, "--state-dir", state, "--exim-config", exim.config()});
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(exim_listing(exim).size(), 16u);
}

// A removal killed (kill -9) right after exim -Mrm leaves a manifest that records no removal:
// the audit log already holds the intent, and restore goes by the spool and puts the mail back.
TEST_P(RealSpool, ARemovalKilledAfterEximIsRestoredAndAudited) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  const std::string state = exim.dir() + "/state", killer = exim.dir() + "/exim-then-kill";
  std::ofstream(killer) << "#!/bin/sh\n\"" << QueueLab::binary() << "\" \"$@\"; rc=$?\n"
                        << "for a; do [ \"$a\" = -Mrm ] && kill -9 $PPID; done\nexit $rc\n";
  std::filesystem::permissions(killer, std::filesystem::perms::owner_all);
  auto removed = spamwarden({"queue", "remove", "--yes", "--auth-id", "spammer@*", "--state-dir", state, "-C",
                             exim.config(), "--exim", killer});
  EXPECT_NE(removed.exit_code, 0) << removed.out << removed.err;
  ASSERT_EQ(exim_listing(exim).size(), 4u) << "exim removed them before the kill";
  const std::string batch = only_batch(state);
  const std::string audit = slurp(state + "/audit.jsonl");
  EXPECT_NE(audit.find("\"stage\":\"intent\""), std::string::npos) << audit;
  EXPECT_NE(audit.find(batch), std::string::npos) << audit;
  EXPECT_NE(audit.find(*p.spammer.begin()), std::string::npos) << audit;

  auto restored = spamwarden({"queue", "restore", batch, "--state-dir", state, "-C", exim.config()});
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("restored 12 message(s)"), std::string::npos) << restored.out;
  EXPECT_EQ(exim_listing(exim).size(), 16u);
}

// A message the batch could not keep, that is no longer queued, makes restore fail loudly.
// Removes the spammer's mail through the command, then lets `edit` change the batch's
// manifest (a run that was killed, a removal exim refused) before the restore under test.
std::string removed_then_edited(QueueLab& exim, const std::string& state,
                                const std::function<void(nlohmann::json&)>& edit) {
  EXPECT_EQ(
      spamwarden({"queue", "remove", "--yes", "--auth-id", "spammer@*", "--state-dir", state, "-C", exim.config()})
          .exit_code,
      0);
  const std::string batch = only_batch(state), manifest_path = state + "/quarantine/" + batch + "/manifest.json";
  auto manifest = nlohmann::json::parse(slurp(manifest_path));
  edit(manifest);
  std::ofstream(manifest_path) << manifest.dump(2);
  return batch;
}

TEST_P(RealSpool, RestoreFailsForAMessageNeitherQueuedNorQuarantined) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  const std::string state = exim.dir() + "/state";
  std::string lost_id;
  std::string batch = removed_then_edited(exim, state, [&](nlohmann::json& manifest) {
    auto& lost = manifest["messages"][0];
    lost_id = lost["id"];
    lost["removed"] = false;  // no answer recorded: the run was killed while exim ran
    lost["files"] = nlohmann::json::array();
    lost["note"] = "";
  });
  auto restored = spamwarden({"queue", "restore", batch, "--state-dir", state, "-C", exim.config()});
  EXPECT_NE(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.err.find(lost_id + ": not in the queue and not quarantined"), std::string::npos) << restored.err;
  EXPECT_EQ(exim_listing(exim).size(), 15u);
}

// A message exim refused to remove (locked by a delivery) stayed queued; gone now, Exim
// delivered it, and restoring it would deliver it twice: it is skipped, and says why.
TEST_P(RealSpool, ARemovalThatDidNotHappenIsNotUndone) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  const std::string state = exim.dir() + "/state";
  std::string refused_id;
  size_t batch_size = 0;
  std::string batch = removed_then_edited(exim, state, [&](nlohmann::json& manifest) {
    auto& refused = manifest["messages"][0];
    refused_id = refused["id"];
    refused["removed"] = false;
    refused["note"] = "not removed: Message " + refused_id + " is locked";
    batch_size = manifest["messages"].size();
  });
  size_t queued = exim_listing(exim).size();
  auto restored = spamwarden({"queue", "restore", batch, "--state-dir", state, "-C", exim.config()});
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE((restored.out + restored.err).find(refused_id + ": not restored: the removal did not happen"),
            std::string::npos)
      << restored.out << restored.err;
  EXPECT_EQ(exim_listing(exim).size(), queued + batch_size - 1);
}

// An intent the audit log cannot record stops the removal before exim runs: nothing is removed.
TEST_P(RealSpool, AnIntentThatCannotBeRecordedRemovesNothing) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  std::vector<spool::MessageLocation> targets;
  for (const auto& m : spool::list_messages(exim.spool_dir()))
    if (p.spammer.count(m.id)) targets.push_back(m);
  ProcessEximRunner runner(QueueLab::binary(), exim.config());
  auto refuse = [](const Manifest&, const std::vector<std::string>&, std::string* error) {
    *error = "audit log full";
    return false;
  };
  RemoveResult removed = quarantine_and_remove(targets, exim.dir() + "/state", exim.spool_dir(), "test", "test",
                                               ::time(nullptr), runner, refuse);
  EXPECT_EQ(removed.error, "audit log full");
  EXPECT_EQ(removed.removed, 0u);
  EXPECT_EQ(removed.failed, targets.size());
  for (const QuarantinedMessage& m : removed.manifest.messages)
    EXPECT_EQ(m.note, "not removed: stopped before exim ran") << m.id;
  EXPECT_EQ(exim_listing(exim).size(), 16u);
}

// When the manifest cannot be rewritten after exim -Mrm, the removal says so and restore works.
TEST_P(RealSpool, AManifestUnwritableAfterTheRemovalIsAnErrorAndRestoreStillWorks) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  std::string error;
  auto selection = compile_selection({.auth_id = "spammer@*"}, &error);
  std::vector<spool::MessageLocation> targets;
  for (const auto& m : select_messages(exim.spool_dir(), *selection, ::time(nullptr)).messages)
    targets.push_back(m.location);
  ProcessEximRunner runner(QueueLab::binary(), exim.config());
  const std::string state = exim.dir() + "/state";
  std::vector<std::string> announced;
  auto block_manifest = [&](const Manifest& m, const std::vector<std::string>& ids, std::string*) {
    announced = ids;
    std::string dir = batch_directory(state, m.batch);
    std::filesystem::rename(dir + "/manifest.json", dir + "/saved.json");
    std::filesystem::create_directories(dir + "/manifest.json/full");  // no rename can replace it
    return true;
  };
  RemoveResult removed = quarantine_and_remove(targets, state, exim.spool_dir(), "auth-id=spammer@*", "test",
                                               ::time(nullptr), runner, block_manifest);
  EXPECT_TRUE(removed.error.empty()) << removed.error;
  EXPECT_FALSE(removed.manifest_error.empty());
  EXPECT_EQ(announced.size(), p.spammer.size());
  ASSERT_EQ(exim_listing(exim).size(), 4u);
  std::string dir = batch_directory(state, removed.manifest.batch);
  std::filesystem::remove_all(dir + "/manifest.json");
  std::filesystem::rename(dir + "/saved.json", dir + "/manifest.json");
  RestoreResult restored = restore_batch(state, removed.manifest.batch, exim.spool_dir());
  EXPECT_TRUE(restored.error.empty()) << restored.error;
  EXPECT_EQ(restored.restored, p.spammer.size());
  EXPECT_EQ(restored.notes.size(), p.spammer.size());
  EXPECT_EQ(exim_listing(exim).size(), 16u);
}

// The "undo with" line is a command that works as printed: it names the state directory, spool
// and Exim of the removal. A removal that matches nothing makes no batch and offers no undo.
TEST_P(RealSpool, UndoLineRestoresAsPrintedAndAnEmptyRemovalOffersNone) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  const std::string state = exim.dir() + "/elsewhere";
  const std::vector<std::string> where = {"queue", "--spool", exim.spool_dir(), "--exim-config", exim.config()};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), where.begin(), where.end());
    return spamwarden(args);
  };
  auto none = run({"remove", "--yes", "--auth-id", "nobody@nowhere.example", "--state-dir", state});
  EXPECT_EQ(none.exit_code, 0) << none.out << none.err;
  EXPECT_NE(none.out.find("none match"), std::string::npos) << none.out;
  EXPECT_EQ(none.out.find("undo with"), std::string::npos) << none.out;
  EXPECT_FALSE(std::filesystem::exists(state + "/quarantine")) << "an empty batch was made";

  auto removed = run({"remove", "--yes", "--auth-id", "spammer@*", "--state-dir", state});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  ASSERT_EQ(exim_listing(exim).size(), 4u);
  size_t at = removed.out.find("undo with: ");
  ASSERT_NE(at, std::string::npos) << removed.out;
  std::string undo = removed.out.substr(at + 11, removed.out.find('\n', at) - at - 11);
  EXPECT_NE(undo.find("--state-dir"), std::string::npos) << undo;
  undo.replace(0, std::string("spamwarden").size(), spamwarden_binary());
  auto restored = sw::testing::run_command({"sh", "-c", undo});
  EXPECT_EQ(restored.exit_code, 0) << undo << "\n" << restored.out << restored.err;
  EXPECT_EQ(exim_listing(exim).size(), 16u);
}

// A batch made with a relative --spool records absolute paths, so it can be restored from
// any working directory.
TEST_P(RealSpool, ABatchFromARelativeSpoolRestoresAnywhere) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  Population p = fill(exim);
  const std::string state = exim.dir() + "/state";
  auto removed = sw::testing::run_command(
      {"sh", "-c",
       "cd \"$1\" && exec \"$2\" queue --spool spool -C \"$3\" remove --yes --auth-id 'spammer@*' "
       "--state-dir state",
       "sh", exim.dir(), spamwarden_binary(), exim.config()});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  const std::string batch = only_batch(state);
  std::string manifest = slurp(state + "/quarantine/" + batch + "/manifest.json");
  EXPECT_NE(manifest.find("\"spool_dir\": \"" + exim.spool_dir() + "\""), std::string::npos) << manifest;
  auto restored = spamwarden({"queue", "restore", batch, "--state-dir", state, "-C", exim.config()});
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("restored 12 message(s)"), std::string::npos) << restored.out;
  EXPECT_EQ(exim_listing(exim).size(), 16u);
}

// From the command line: a batch that is not root's alone is refused with exit 3 and a
// message naming the path and the reason; once it is root's again it restores.
TEST_P(RealSpool, RestoreRefusesABatchOthersCouldHaveWritten) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  fill(exim);
  const std::string state = exim.dir() + "/state";
  auto removed =
      spamwarden({"queue", "-C", exim.config(), "remove", "--yes", "--auth-id", "spammer@*", "--state-dir", state});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  const std::string batch = only_batch(state), batch_dir = state + "/quarantine/" + batch;
  auto restore = [&] { return spamwarden({"queue", "restore", batch, "--state-dir", state, "-C", exim.config()}); };
  ASSERT_EQ(::chown(batch_dir.c_str(), 65534, 65534), 0);
  auto foreign = restore();
  EXPECT_EQ(foreign.exit_code, 3);
  EXPECT_NE(foreign.err.find("refused: " + batch_dir + " is owned by uid 65534, not by uid 0"), std::string::npos)
      << foreign.err;
  ASSERT_EQ(::chown(batch_dir.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod((batch_dir + "/manifest.json").c_str(), 0620), 0);
  auto writable = restore();
  EXPECT_EQ(writable.exit_code, 3);
  EXPECT_NE(writable.err.find("refused: " + batch_dir + "/manifest.json is writable by group or others (mode 620)"),
            std::string::npos)
      << writable.err;
  EXPECT_EQ(exim_listing(exim).size(), 4u);
  ASSERT_EQ(::chmod((batch_dir + "/manifest.json").c_str(), 0600), 0);
  EXPECT_EQ(restore().exit_code, 0);
  EXPECT_EQ(exim_listing(exim).size(), 16u);
}

// Subjects of 50 KB and 100 KB, as a script may queue them: `queue list --subject` once died
// there (std::regex recursed per character). A pattern that hits the match limit on a message
// names it on stderr, exits 2, and freeze leaves that message alone.
TEST_P(RealSpool, HostileSubjectsNeitherCrashNorGetActedOnBlindly) {
  SKIP_WITHOUT_EXIM();
  QueueLab exim(GetParam());
  auto queue = [&](const std::string& subject) {
    return exim.queue_local("web@shop.example", {"a@x.defer.test"}, message(subject));
  };
  const std::string plain = queue("hello " + std::string(50'000, 'x'));
  const std::string wanted = queue("hello " + std::string(50'000, 'x') + " zzz");
  const std::string catastrophic = queue(std::string(100'000, 'a') + "!");
  const std::string small = queue("aaa");
  const std::vector<std::string> where = {"queue", "--spool", exim.spool_dir(), "-C", exim.config()};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), where.begin(), where.end());
    return spamwarden(args);
  };
  auto hello = run({"list", "--subject", "hello.*zzz"});
  EXPECT_EQ(hello.exit_code, 0) << hello.err;
  EXPECT_EQ(hello.out, wanted + "\n");

  auto listed = run({"list", "--subject", "(a+)+$"});
  EXPECT_EQ(listed.exit_code, 2) << listed.err;
  EXPECT_EQ(listed.out, small + "\n");
  EXPECT_NE(listed.err.find("1 message not checked: the pattern hit the match limit on it (" + catastrophic + ")"),
            std::string::npos)
      << listed.err;

  auto frozen = run({"freeze", "--subject", "(a+)+$", "--state-dir", exim.dir() + "/state"});
  EXPECT_EQ(frozen.exit_code, 2) << frozen.out << frozen.err;
  EXPECT_NE(frozen.err.find("not checked"), std::string::npos) << frozen.err;
  auto after = exim_listing(exim);
  EXPECT_TRUE(after.at(small));
  EXPECT_FALSE(after.at(catastrophic)) << "a message the pattern could not check is never acted on";
  EXPECT_FALSE(after.at(plain));
  EXPECT_FALSE(after.at(wanted));
}

// Ids in the spool now that were not in `before`.
std::set<std::string> new_ids(const std::string& spool_dir, std::set<std::string>& before) {
  std::set<std::string> added;
  for (const auto& m : spool::list_messages(spool_dir))
    if (before.insert(m.id).second) added.insert(m.id);
  return added;
}

std::set<std::string> id_lines(const std::string& text) {
  std::set<std::string> ids;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) ids.insert(line);
  return ids;
}

// One user, two scripts in two directories, and another user's script of the same file name,
// all queued (every recipient defers). The log names a script by its directory, the spool by
// "UID:file.php": the `logs` report's next step must select that script's queued mail and no
// other, and `queue list --script DIR` must select it too, or say why it cannot.
class ScriptsOnRealExim : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_WITHOUT_EXIM(); }
};

TEST_F(ScriptsOnRealExim, LogsHintAndScriptDirectorySelectTheScriptsQueuedMail) {
  sw::testing::EximLab lab({.pid = true, .split_spool = false, .acl_includes = {}});
  const std::string form = "/home/userx1/public_html/wp-content/plugins/contact-form";
  const std::vector<std::string> queued = {"--rcpts-per-msg", "1..1", "--reject-pct", "0", "--defer-pct", "100"};
  auto play = [&](std::vector<std::string> args) {
    args.insert(args.end(), queued.begin(), queued.end());
    lab.play("script-burst", args);
  };
  std::set<std::string> seen;
  play({"--user", "userx1", "--dir", form, "--script", "mailer.php", "--count", "30"});
  std::set<std::string> burst = new_ids(lab.spool_dir(), seen);
  play({"--user", "userx1", "--dir", "/home/userx1/public_html/shop", "--script", "order.php", "--count", "4"});
  play({"--user", "userx2", "--script", "mailer.php", "--count", "4"});
  lab.settle();
  ASSERT_EQ(burst.size(), 30u);
  ASSERT_EQ(new_ids(lab.spool_dir(), seen).size(), 8u);

  auto logs = spamwarden({"logs", "--json", "--no-cache", "--burst-recipients", "20", lab.mainlog()});
  ASSERT_EQ(logs.exit_code, 1) << logs.err;
  nlohmann::json report = nlohmann::json::parse(logs.out), hint;
  for (const auto& f : report.at("findings"))
    if (f.at("kind") == "spamming_script" && f.at("actor") == form) hint = f.at("queue_selection");
  ASSERT_TRUE(hint.is_array()) << logs.out;
  std::vector<std::string> list = {"queue", "list", "--spool", lab.spool_dir()};
  for (const auto& option : hint) list.push_back(option.get<std::string>());
  auto by_hint = spamwarden(list);
  EXPECT_EQ(by_hint.exit_code, 0) << by_hint.err;
  EXPECT_EQ(id_lines(by_hint.out), burst) << "the hint " << hint.dump() << " selects other mail, or not all";

  auto by_directory = spamwarden({"queue", "list", "--spool", lab.spool_dir(), "--script", form});
  EXPECT_EQ(by_directory.exit_code, 0) << by_directory.err;
  EXPECT_EQ(id_lines(by_directory.out), burst);

  // A directory this machine does not have: nothing can be compared, and that is said, not silent.
  auto elsewhere = spamwarden({"queue", "list", "--spool", lab.spool_dir(), "--script", "/home/gone/public_html"});
  EXPECT_EQ(elsewhere.exit_code, 1) << elsewhere.err;
  EXPECT_EQ(elsewhere.out, "");
  EXPECT_NE(elsewhere.err.find("the spool records scripts as UID:file.php"), std::string::npos) << elsewhere.err;
  EXPECT_NE(elsewhere.err.find("use --login USER"), std::string::npos) << elsewhere.err;
}

// Every object key in a JSON document, at any depth.
void collect_keys(const nlohmann::json& j, std::set<std::string>& keys) {
  if (j.is_object())
    for (const auto& [key, value] : j.items()) {
      keys.insert(key);
      collect_keys(value, keys);
    }
  if (j.is_array())
    for (const auto& value : j) collect_keys(value, keys);
}

// The keys the commands used to spell each their own way; the vocabulary is actor_type, actor,
// local_user, auth_account.
void expect_one_vocabulary(const nlohmann::json& j, const std::string& command) {
  std::set<std::string> keys;
  collect_keys(j, keys);
  for (const char* old : {"key", "actor_kind", "login", "related_user", "auth_id"})
    EXPECT_FALSE(keys.count(old)) << command << " still says \"" << old << "\"";
}

// One incident (a script burst of userx1) through logs, queue, queue list, watch and holds:
// the same type names, the same JSON keys for type and key, and the same local user.
TEST_F(ScriptsOnRealExim, OneIncidentHasOneVocabularyInEveryCommandsJson) {
  sw::testing::EximLab lab({.pid = true, .split_spool = false, .acl_includes = {}});
  const std::string dir = "/home/userx1/public_html";
  lab.play("script-burst",
           {"--user", "userx1", "--count", "25", "--rcpts-per-msg", "1..1", "--reject-pct", "0", "--defer-pct", "100"});
  lab.settle();

  auto logs = spamwarden({"logs", "--json", "--no-cache", "--burst-recipients", "20", lab.mainlog()});
  nlohmann::json lj = nlohmann::json::parse(logs.out);
  expect_one_vocabulary(lj, "logs");
  ASSERT_FALSE(lj.at("findings").empty()) << logs.out;
  const nlohmann::json& finding = lj.at("findings")[0];
  EXPECT_EQ(finding.at("actor_type"), "script");
  EXPECT_EQ(finding.at("actor"), dir);
  EXPECT_EQ(finding.at("local_user"), "userx1");
  EXPECT_EQ(lj.at("actors").at("local_user").at(0).at("actor"), "userx1");

  auto queue = spamwarden({"queue", "--json", "--spool", lab.spool_dir(), "--dominant-min", "10"});
  nlohmann::json qj = nlohmann::json::parse(queue.out);
  expect_one_vocabulary(qj, "queue");
  EXPECT_EQ(qj.at("actors").at("local_user").at(0).at("actor"), "userx1");
  EXPECT_EQ(qj.at("actors").at("local_user").size(), 1u) << "only who ran sendmail, as logs counts";
  EXPECT_EQ(qj.at("actors").at("script").at(0).at("local_user"), "userx1") << "whose script, as logs and holds say";
  EXPECT_EQ(qj.at("top_sender"), "local_user:userx1");
  std::set<std::string> types;
  for (const auto& f : qj.at("findings")) types.insert(f.at("actor_type").get<std::string>());
  EXPECT_TRUE(types.count("local_user") && types.count("script")) << queue.out;

  auto list = spamwarden({"queue", "list", "--json", "--spool", lab.spool_dir(), "--login", "userx1"});
  nlohmann::json listed = nlohmann::json::parse(list.out);
  expect_one_vocabulary(listed, "queue list");
  ASSERT_EQ(listed.size(), 25u);
  EXPECT_EQ(listed[0].at("local_user"), "userx1");
  EXPECT_EQ(listed[0].at("auth_account"), "");

  const std::string config = lab.dir() + "/sw.toml";
  std::ofstream(config) << "[paths]\nlog = \"" << lab.mainlog() << "\"\nspool = \"" << lab.spool_dir()
                        << "\"\nexim_config = \"" << lab.dir() << "/server.conf\"\nstate_dir = \"" << lab.dir()
                        << "/state\"\n[watch]\nmetrics = \"\"\nfreeze_queued = false\n";
  auto watch = spamwarden({"watch", "--config", config, "--from-start", "--exit-at-end"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  auto holds = spamwarden({"holds", "--json", "--config", config});
  nlohmann::json hj = nlohmann::json::parse(holds.out);
  expect_one_vocabulary(hj, "holds");
  std::map<std::string, nlohmann::json> held;  // "type:key" -> hold
  for (const auto& incident : hj.at("incidents"))
    for (const auto& h : incident.at("holds"))
      held[h.at("actor_type").get<std::string>() + ":" + h.at("actor").get<std::string>()] = h;
  ASSERT_TRUE(held.count("script:" + dir)) << holds.out;
  EXPECT_EQ(held["script:" + dir].at("local_user"), "userx1");
  EXPECT_TRUE(held.count("local_user:userx1")) << holds.out;
}

// Spam forged as from j.doe, accepted, then bounced to j.doe: `logs` (from the log) and `queue`
// (from the spool) name the same address, count the same bounces and give the same selection
// and cleanup; the selection, run, lists those bounces.
TEST_F(ScriptsOnRealExim, BackscatterHasOneKeyInLogsAndQueue) {
  sw::testing::EximLab lab({.pid = true, .split_spool = false, .acl_includes = {}});
  const std::string victim = "j.doe@victim-corp.defer.test";
  lab.play("backscatter", {"--victim", victim, "--count", "30"});
  lab.settle();
  auto finding_of = [](const nlohmann::json& report) {
    for (const auto& f : report.at("findings"))
      if (f.at("kind") == "backscatter") return f;
    return nlohmann::json();
  };
  auto logs = spamwarden({"logs", "--json", "--no-cache", lab.mainlog()});
  nlohmann::json in_log = finding_of(nlohmann::json::parse(logs.out));
  auto queue = spamwarden({"queue", "--json", "--spool", lab.spool_dir()});
  nlohmann::json in_queue = finding_of(nlohmann::json::parse(queue.out));
  ASSERT_FALSE(in_log.is_null()) << logs.out;
  ASSERT_FALSE(in_queue.is_null()) << queue.out;
  EXPECT_EQ(in_log.at("actor"), victim);
  EXPECT_EQ(in_queue.at("actor"), victim) << "the queue names the address the bounces go to, as logs does";
  EXPECT_EQ(in_queue.at("actor_type"), in_log.at("actor_type"));
  EXPECT_EQ(in_log.at("messages"), 30);
  EXPECT_EQ(in_queue.at("messages"), 30);
  EXPECT_EQ(in_queue.at("queue_selection"), in_log.at("queue_selection"));
  EXPECT_EQ(in_queue.at("cleanup"), in_log.at("cleanup"));
  EXPECT_EQ(in_log.at("bounces_from_elsewhere"), 0) << "made here, of spam Exim accepted";
  EXPECT_EQ(in_queue.at("bounces_from_elsewhere"), 0);
  std::vector<std::string> list = {"queue", "list", "--spool", lab.spool_dir()};
  for (const auto& option : in_log.at("queue_selection")) list.push_back(option.get<std::string>());
  auto selected = spamwarden(list);
  EXPECT_EQ(selected.exit_code, 0) << selected.err;
  EXPECT_EQ(id_lines(selected.out).size(), 30u) << selected.out;
}

// A user's own mail given up (exim -Mg) bounces back to it, and its mailbox here cannot take
// the bounces (a directory where the file should be): Exim's msglog of each bounce shows the
// attempt into that mailbox, written as Exim 4.96 writes it (no flag). Neither `logs` nor
// `queue` calls that backscatter, nor prints a cleanup that would remove the user's bounces.
TEST(BouncesOnRealExim, AUsersOwnBouncesDeferredIntoItsMailboxAreNoBackscatter) {
  SKIP_WITHOUT_EXIM();
  QueueLab lab(false);
  const std::string user = "alice@lab.example", mailbox = lab.dir() + "/mail/" + user;
  std::filesystem::remove_all(mailbox);
  std::filesystem::create_directory(mailbox);
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i)
    ids.push_back(lab.queue_smtp(user, "127.0.0.54", "alice-laptop", user,
                                 {"friend" + std::to_string(i) + "@slowmail.defer.test"}, message("Hi")));
  std::string give_up = "-Mg";
  for (const std::string& id : ids) give_up += " " + id;
  lab.exim(give_up);  // the bounces, each tried into the mailbox
  lab.exim("-q");
  auto finding_for = [&](const nlohmann::json& report) {
    for (const auto& f : report.at("findings"))
      if (f.at("kind") == "backscatter" && f.at("actor") == user) return f;
    return nlohmann::json();
  };
  auto queue = spamwarden({"queue", "--json", "--spool", lab.spool_dir()});
  nlohmann::json report = nlohmann::json::parse(queue.out);
  ASSERT_EQ(report.at("bounces"), 30) << queue.out;
  EXPECT_TRUE(finding_for(report).is_null()) << queue.out;
  auto logs = spamwarden({"logs", "--json", "--no-cache", lab.mainlog()});
  EXPECT_TRUE(finding_for(nlohmann::json::parse(logs.out)).is_null()) << logs.out;
}

INSTANTIATE_TEST_SUITE_P(FlatAndSplit, RealSpool, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "split" : "flat"; });

}  // namespace
}  // namespace sw::queue

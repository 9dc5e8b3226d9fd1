// The command line as an admin types it, through the real binary: numbers that make no sense
// are refused with exit 2 (3, UNKNOWN, for the monitoring plugin), never read as something else.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include "base/file_lock.h"
#include "base/temp_dir.h"

namespace {

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// `logs` keeps its summary cache under a state directory: this binary's own, never the host's.
std::string with_private_state(const std::string& args) {
  static sw::TempDir state("sw-cli-state");
  if (args.rfind("logs ", 0) != 0 || args.find("--state-dir") != std::string::npos) return args;
  return "logs --state-dir " + state.path + args.substr(4);
}

// as_nobody: run as uid/gid 65534 (root bypasses file modes).
Outcome run(const std::string& args, bool as_nobody = false) {
  std::string command = (as_nobody ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "") +
                        std::string(SW_BINARY_DIR) + "/spamwarden " + with_private_state(args) + " 2>&1";
  Outcome r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) r.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

TEST(CommandLine, LogsRefusesNumbersThatMakeNoSense) {
  for (const char* bad : {"--top -1", "--top x", "--threads 99999", "--threads -2", "--window -5", "--window 0",
                          "--burst-share 2.5", "--failed-logins -3", "--failed-logins 0", "--burst-factor 0"}) {
    Outcome r = run(std::string("logs ") + bad + " /dev/null");
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.output;
    EXPECT_NE(r.output.find(std::string(bad).substr(0, std::string(bad).find(' '))), std::string::npos)
        << "the message names the option: " << r.output;
  }
  Outcome ok = run("logs --top 0 --threads 1 --window 600 --burst-share 0.3 --burst-factor 2.5 /dev/null");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

TEST(CommandLine, LogsRefusesAnEmptyTimeRangeAndSaysWhenNothingFellInside) {
  Outcome r = run("logs --since 2026-10-26 --until 2026-10-25 /dev/null");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("is not before --until"), std::string::npos) << r.output;

  std::string log = ::testing::TempDir() + "command-line-mainlog";
  std::ofstream(log) << "2026-10-25 10:00:00 1vYQHI-0003Yc-Mw <= a@b.example H=(pc) [192.0.2.7]:4000 P=esmtp S=900\n"
                        "2026-10-25 10:00:01 1vYQHI-0003Yc-Mw Completed\n";
  Outcome late = run("logs --since 2030-01-01 " + log);
  EXPECT_EQ(late.exit_code, 0) << late.output;
  EXPECT_NE(late.output.find("period: none (2 lines, all outside --since/--until)"), std::string::npos) << late.output;
  Outcome all = run("logs " + log);
  EXPECT_NE(all.output.find("period: 2026-10-25 10:00:00 to 2026-10-25 10:00:01"), std::string::npos) << all.output;
  // --access-logs takes one path: the main log after it is still the main log.
  Outcome after = run("logs --no-cache --access-logs /nonexistent/access.log --access-logs /dev/null " + log);
  EXPECT_EQ(after.exit_code, 0) << after.output;
  EXPECT_NE(after.output.find("period: 2026-10-25 10:00:00"), std::string::npos) << after.output;

  // The same log twice (a copy of it, or the file itself) is warned about, but the report is
  // made: exit 0 (no findings), not 2. The file itself is read once.
  std::string hour = ::testing::TempDir() + "command-line-hour", copy = hour + ".copy";
  for (const std::string& path : {hour, copy})
    std::ofstream(path) << "2026-10-25 10:00:00 1vYQHI-0003Yc-Mw <= a@b.example H=(pc) [192.0.2.7]:4000 P=esmtp S=900\n"
                           "2026-10-25 11:00:00 1vYQHI-0003Yc-Mw Completed\n";
  Outcome copied = run("logs " + hour + " " + copy);
  EXPECT_EQ(copied.exit_code, 0) << copied.output;
  EXPECT_NE(copied.output.find(" overlaps "), std::string::npos) << copied.output;
  Outcome twice = run("logs --json " + hour + " " + hour);
  EXPECT_EQ(twice.exit_code, 0) << twice.output;
  EXPECT_NE(twice.output.find(hour + " given twice: read once"), std::string::npos) << twice.output;
  EXPECT_EQ(twice.output.find(" overlaps "), std::string::npos) << twice.output;
  EXPECT_NE(twice.output.find("\n \"messages\": 1,"), std::string::npos) << "counted once\n" << twice.output;
  Outcome missing = run("logs " + log + " /nonexistent/mainlog");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
}

// "What happened in the last two hours": --since takes a duration back from now, on the
// log's clock (local time, as Exim writes it).
TEST(CommandLine, LogsSinceADurationCountsBackFromNow) {
  auto local = [](std::time_t t) {
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return std::string(buf);
  };
  std::time_t now = std::time(nullptr);
  std::string log = ::testing::TempDir() + "command-line-recent";
  std::ofstream(log) << local(now - 3 * 3600)
                     << " 1vYQHI-0003Yc-Mw <= old@b.example H=(pc) [192.0.2.7]:4000 P=esmtp S=9\n"
                     << local(now - 1800) << " 1vYQHI-0003Yd-Mw <= new@b.example H=(pc) [192.0.2.8]:4000 P=esmtp S=9\n";
  Outcome recent = run("logs --json --since 2h " + log);
  EXPECT_EQ(recent.exit_code, 0) << recent.output;
  EXPECT_NE(recent.output.find("new@b.example"), std::string::npos) << recent.output;
  EXPECT_EQ(recent.output.find("old@b.example"), std::string::npos) << recent.output;
  Outcome older = run("logs --json --until 1h " + log);
  EXPECT_NE(older.output.find("old@b.example"), std::string::npos) << older.output;
  EXPECT_EQ(older.output.find("new@b.example"), std::string::npos) << older.output;
  for (const char* bad : {"2026", "-2h", "2x", "0h"}) {
    Outcome r = run(std::string("logs --since ") + bad + " " + log);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("cannot read time"), std::string::npos) << bad << ": " << r.output;
  }
}

// The wrong log given by mistake must not read as "nothing found" (exit 0) to cron.
// A mailer started by one request sends for hours before its densest window: the web requests
// are read from its first message on, so the request that started it names the attacker.
TEST(CommandLine, LogsReadsTheWebRequestsFromTheScriptsFirstMessage) {
  std::string dir = "/home/userx1/public_html/wp-content/uploads";
  std::string main_log = ::testing::TempDir() + "command-line-long-mailer", access = main_log + ".access";
  std::ofstream out(main_log);
  std::tm start{};
  start.tm_year = 126, start.tm_mon = 11, start.tm_mday = 1, start.tm_hour = 10;
  std::time_t t0 = timegm(&start);
  int i = 0;
  for (std::time_t t = t0; t < t0 + 4 * 3600; t += std::max<std::time_t>(2, 120 - (t - t0) / 120), ++i) {
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
    std::string id = fmt::format("1xA{:03}-{:06}-zz", i % 1000, i);
    out << ts << " cwd=" << dir << " 3 args: /usr/sbin/sendmail -t -i\n"
        << ts << " " << id << " <= userx1@server.example U=userx1 P=local S=2345 T=\"Invoice\" for a" << i
        << "@gmail.example b" << i << "@yahoo.example\n"
        << ts << " " << id << " Completed\n";
  }
  out.close();
  std::ofstream(access) << "198.51.100.23 - - [01/Dec/2026:09:59:55 +0100] \"POST /wp-content/uploads/wp-conf.php "
                           "HTTP/1.1\" 200 12 \"-\" \"python-requests/2.31\"\n";
  Outcome r = run("logs --no-progress --no-cache --access-logs " + access + " " + main_log);
  EXPECT_NE(r.output.find("(the script's sending from 2026-12-01 10:00:00 to "), std::string::npos) << r.output;
  size_t block = r.output.find("block these callers of /wp-content/uploads/wp-conf.php");
  ASSERT_NE(block, std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" 198.51.100.23 ", block), std::string::npos) << r.output;
}

// A mailer that sends evenly for two hours, driven by a POST every 40 seconds throughout: its
// calls after the densest hour are its sending, not a steady caller's margin.
TEST(CommandLine, LogsBlocksTheDriverOfAMailerThatSendsForHours) {
  std::string dir = "/home/userx1/public_html/wp-content/uploads";
  std::string main_log = ::testing::TempDir() + "command-line-even-mailer", access = main_log + ".access";
  std::ofstream out(main_log), calls(access);
  std::tm start{};
  start.tm_year = 126, start.tm_mon = 11, start.tm_mday = 1, start.tm_hour = 10;
  std::time_t t0 = timegm(&start);
  for (int i = 0; i < 1800; ++i) {
    std::time_t t = t0 + i * 4;
    char ts[32], at[40];
    std::strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
    std::string id = fmt::format("1xC{:03}-{:06}-zz", i % 1000, i);
    out << ts << " cwd=" << dir << " 3 args: /usr/sbin/sendmail -t -i\n"
        << ts << " " << id << " <= userx1@server.example U=userx1 P=local S=2345 T=\"Invoice\" for a" << i
        << "@gmail.example\n"
        << ts << " " << id << " Completed\n";
    if (i % 10 == 0) {
      std::strftime(at, sizeof at, "%d/%b/%Y:%H:%M:%S +0100", std::gmtime(&t));  // the same wall clock
      calls << "198.51.100.23 - - [" << at << "] \"POST /wp-content/uploads/wp-conf.php HTTP/1.1\" 200 12 \"-\" "
            << "\"python-requests/2.31\"\n";
    }
  }
  out.close(), calls.close();
  Outcome r = run("logs --no-progress --no-cache --access-logs " + access + " " + main_log);
  size_t block = r.output.find("block these callers of /wp-content/uploads/wp-conf.php");
  ASSERT_NE(block, std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" 198.51.100.23 ", block), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("): steady"), std::string::npos) << r.output;
}

// A main log with zones (log_timezone) read from stdin: its times are UTC, and so is the access
// log's time taken, as for a file.
TEST(CommandLine, LogsOnStdinWithZonesComparesTheAccessLogInUtc) {
  std::string main_log = ::testing::TempDir() + "command-line-zoned", access = main_log + ".access";
  std::ofstream out(main_log);
  for (int i = 0; i < 150; ++i) {
    std::string ts = fmt::format("2026-12-01 10:{:02}:{:02} +0100", i * 4 / 60, i * 4 % 60);
    std::string id = fmt::format("1xB{:03}-{:06}-zz", i, i);
    out << ts << " cwd=/home/userx1/public_html/wp-content/uploads 3 args: /usr/sbin/sendmail -t -i\n"
        << ts << " " << id << " <= userx1@server.example U=userx1 P=local S=2345 T=\"Invoice\" for a" << i
        << "@gmail.example b" << i << "@yahoo.example c" << i << "@hotmail.example\n"
        << ts << " " << id << " Completed\n";
  }
  out.close();
  std::ofstream(access) << "198.51.100.23 - - [01/Dec/2026:10:01:30 +0100] \"POST /wp-content/uploads/wp-conf.php "
                           "HTTP/1.1\" 200 12 \"-\" \"python-requests/2.31\"\n";
  for (const std::string& input : {main_log, "- < " + main_log}) {
    Outcome r = run("logs --no-progress --no-cache --access-logs " + access + " " + input);
    EXPECT_NE(r.output.find("  1 requests in 1 access log(s)"), std::string::npos) << input << "\n" << r.output;
  }
}

TEST(CommandLine, LogsExitsTwoOnAFileThatIsNoMainLog) {
  std::string log = ::testing::TempDir() + "command-line-postfix";
  std::ofstream(log) << "Nov 23 10:00:00 mx postfix/smtpd[123]: connect from unknown[192.0.2.1]\n";
  Outcome r = run("logs " + log);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("is an Exim main-log line"), std::string::npos) << r.output;
  // One actor's story says the same, rather than "not seen" (exit 1) as if the log had none.
  Outcome story = run("logs --actor auth:alice@shop.example " + log);
  EXPECT_EQ(story.exit_code, 2) << story.output;
  EXPECT_NE(story.output.find("is an Exim main-log line"), std::string::npos) << story.output;
  std::string exim = ::testing::TempDir() + "command-line-exim";
  std::ofstream(exim) << "junk first\n2026-10-25 10:00:00 1vYQHI-0003Yc-Mw <= a@b.example H=(pc) [192.0.2.7]:4000 "
                         "P=esmtp S=900\njunk last\n";
  EXPECT_EQ(run("logs --actor auth:alice@shop.example " + exim).exit_code, 1) << "a main log without the actor";
}

// An ip: key as it is pasted from a log line, with brackets or a port, finds the client; Exim on
// a dual-stack socket logs an IPv4 client as ::ffff:IPv4, which a plain IPv4 key finds too. What
// is no address is refused (exit 2), not answered "not seen".
TEST(CommandLine, LogsActorIpKeysAsPastedAndMapped) {
  std::string log = ::testing::TempDir() + "command-line-mapped";
  std::ofstream(log) << "2026-10-25 10:00:00 1vYQHI-0003Yc-Mw <= a@b.example H=(pc) [::ffff:192.0.2.99]:4000 "
                        "P=esmtp S=900 for c@d.example\n";
  for (const char* key : {"192.0.2.99", "::ffff:192.0.2.99", "[::ffff:192.0.2.99]:4000", "192.0.2.99:4000"}) {
    Outcome r = run(fmt::format("logs --actor 'ip:{}' {}", key, log));
    EXPECT_EQ(r.exit_code, 0) << key << "\n" << r.output;
    EXPECT_NE(r.output.find("1 messages"), std::string::npos) << key << "\n" << r.output;
  }
  EXPECT_EQ(run("logs --actor ip:192.0.2.98 " + log).exit_code, 1);
  for (const char* bad : {"1.2.3", "foo", "192.0.2.99/33"}) {
    Outcome r = run(fmt::format("logs --actor 'ip:{}' {}", bad, log));
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.output;
    EXPECT_NE(r.output.find("not an address or a range"), std::string::npos) << r.output;
  }
}

// A damaged gzip is read up to the damage, from a file or from stdin: the report covers it,
// stderr names the file and where it stopped, and the exit code is 2 (read in part).
TEST(CommandLine, LogsReadsADamagedGzipUpToTheDamageAndExitsTwo) {
  std::string text;
  for (int i = 0; i < 3000; ++i)
    text += "2026-10-25 10:" + std::to_string(10 + i % 50) + ":00 1vYQHI-" + std::to_string(100000 + i) + "-Mw <= a" +
            std::to_string(i * 7919 % 10007) + "@b.example H=(pc) [192.0.2.7]:4000 P=esmtp S=900\n";
  std::string plain = ::testing::TempDir() + "command-line-damaged", gz = plain + ".gz";
  std::ofstream(plain) << text;
  ASSERT_EQ(std::system(("gzip -c " + plain + " > " + gz).c_str()), 0);
  std::ifstream in(gz, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(gz, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 50);
  for (std::string args : {"logs --json " + gz, "logs --json - < " + gz}) {
    Outcome r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("ends inside a member at compressed byte"), std::string::npos) << args << "\n" << r.output;
    size_t at = r.output.find("\n \"messages\": ");
    ASSERT_NE(at, std::string::npos) << r.output;
    EXPECT_GT(std::stoul(r.output.substr(at + 14)), 2900u) << "what was read before the damage is reported";
  }
}

TEST(CommandLine, QueueRefusesBadNumbersAndTheCheckSaysUnknown) {
  for (const char* bad : {"--top -2", "--threads -2", "--dominant-share 7", "--min-recipients -1"}) {
    Outcome r = run(std::string("queue --spool /nonexistent ") + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.output;
  }
  for (const char* bad : {"-w -5", "-c x", "--share-warning 150", "--frozen-critical -1"}) {
    Outcome r = run(std::string("queue check --spool /nonexistent ") + bad);
    EXPECT_EQ(r.exit_code, 3) << bad << "\n" << r.output;
  }
  Outcome list = run("queue list --spool /nonexistent --sender check --top -1");
  EXPECT_EQ(list.exit_code, 2) << "'check' as a value is not the check subcommand\n" << list.output;
}

// A queue that cannot be read is never an empty queue: the check says UNKNOWN with the reason,
// the summary and list fail. Input directories listable by root only, read as nobody.
TEST(CommandLine, AnUnreadableQueueIsAnErrorNotAnEmptyQueue) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to read as nobody";
  sw::TempDir d("sw-cli-spool");
  const std::string fixture = std::string(SW_SOURCE_DIR) + "/src/spool/testdata/real-4.96/flat/input";
  for (const char* layout : {"flat", "split"}) {
    std::string input = d.path + "/" + layout + "/input", listed = std::string(layout) == "flat" ? input : input + "/b";
    std::filesystem::create_directories(listed);
    std::filesystem::copy(fixture, listed);
    std::filesystem::permissions(listed, std::filesystem::perms(0711));  // traversable, not listable
  }
  ASSERT_EQ(::chmod(d.path.c_str(), 0755), 0);
  for (const char* layout : {"flat", "split"}) {
    const std::string spool = d.path + "/" + layout;
    Outcome check = run("queue check --spool " + spool, true);
    EXPECT_EQ(check.exit_code, 3) << check.output;
    EXPECT_NE(check.output.find("QUEUE UNKNOWN - cannot read " + spool + "/input"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("Permission denied"), std::string::npos) << check.output;
    Outcome summary = run("queue --spool " + spool, true);
    EXPECT_EQ(summary.exit_code, 3) << summary.output;
    EXPECT_NE(summary.output.find("cannot read " + spool + "/input"), std::string::npos) << summary.output;
    Outcome list = run("queue list --spool " + spool, true);
    EXPECT_EQ(list.exit_code, 3) << list.output;
    EXPECT_NE(list.output.find("could not read the queue"), std::string::npos) << list.output;
  }
  // A spool nobody cannot traverse is named as such, not as one without input/.
  ASSERT_EQ(::chmod((d.path + "/flat").c_str(), 0700), 0);
  Outcome closed = run("queue check --spool " + d.path + "/flat", true);
  EXPECT_EQ(closed.exit_code, 3) << closed.output;
  EXPECT_NE(closed.output.find("cannot read " + d.path + "/flat/input: Permission denied"), std::string::npos)
      << closed.output;
}

// A dry run lists what --yes would remove: a message move_frozen_messages put in Finput/, which
// exim cannot act on, is named on stderr as skipped, not listed as "would remove".
TEST(CommandLine, QueueRemoveDryRunListsOnlyWhatItWouldRemove) {
  sw::TempDir d("sw-cli-finput");
  const std::string fixture = std::string(SW_SOURCE_DIR) + "/src/spool/testdata/real-4.96/flat/input";
  std::filesystem::create_directories(d.path + "/input");
  std::filesystem::copy(fixture, d.path + "/Finput");
  Outcome moved = run("queue remove --all --spool " + d.path + " --state-dir " + d.path + "/state");
  EXPECT_EQ(moved.output.find("would remove"), std::string::npos) << moved.output;
  EXPECT_NE(moved.output.find("is in Finput/ (moved frozen); exim cannot act on it, skipped"), std::string::npos)
      << moved.output;
  EXPECT_NE(moved.output.find("dry run: 0 message(s)"), std::string::npos) << moved.output;
  std::filesystem::copy(fixture, d.path + "/input");
  Outcome queued = run("queue remove --all --spool " + d.path + " --state-dir " + d.path + "/state");
  EXPECT_NE(queued.output.find("would remove"), std::string::npos) << queued.output;
  EXPECT_EQ(queued.output.find("dry run: 0 message(s)"), std::string::npos) << queued.output;
}

// `watch` on a state directory: one at a time, and only where it can write its hold lists.
struct WatchDirs {
  sw::TempDir dir{"sw-watch-cli"};
  std::string log = dir.path + "/mainlog", state = dir.path + "/state";
  WatchDirs() {
    // A script burst well past the limits, with +pid: a run that can place holds prints "held".
    std::ofstream out(log);
    for (int i = 0; i < 30; ++i) {
      int pid = 1000 + i;
      out << fmt::format(
          "2026-11-22 10:00:07 [{}] cwd=/home/userx1/public_html 3 args: /usr/sbin/sendmail -t -i\n"
          "2026-11-22 10:00:07 [{}] 1tA{:03}-000{:03}-AB <= userx1@host.example U=userx1 P=local S=500 "
          "for r{}@d.example\n",
          pid, pid, i, i, i);
    }
  }
  std::string args(const std::string& state_dir) const {
    return "watch --config /dev/null --log " + log + " --state-dir " + state_dir + " --spool " + dir.path +
           "/no-spool --exim /bin/false";
  }
};

// A `watch` running in the background; killed (by its pid) when the test ends.
struct BackgroundWatch {
  pid_t pid = -1;
  std::string err;
  explicit BackgroundWatch(const WatchDirs& d) : err(d.dir.path + "/first.err") {
    std::string command = std::string(SW_BINARY_DIR) + "/spamwarden " + d.args(d.state);
    pid = ::fork();
    if (pid == 0) {
      if (!std::freopen(err.c_str(), "w", stderr)) _exit(126);
      ::execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), nullptr);
      _exit(127);
    }
  }
  // True once the watch says it is following the log.
  bool wait_until_watching() const {
    for (int i = 0; i < 100; ++i) {
      std::ifstream in(err);
      std::stringstream text;
      text << in.rdbuf();
      if (text.str().find("watching ") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  int kill(int signal) {
    if (pid <= 0) return -1;
    ::kill(pid, signal);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
  ~BackgroundWatch() { kill(SIGKILL); }
};

TEST(CommandLine, WatchRefusesASecondWatchOnTheSameStateDir) {
  WatchDirs d;
  BackgroundWatch first(d);
  ASSERT_TRUE(first.wait_until_watching());
  Outcome second = run(d.args(d.state) + " --from-start --exit-at-end");
  EXPECT_EQ(second.exit_code, 3) << second.output;
  EXPECT_NE(
      second.output.find(fmt::format("another spamwarden watch (pid {}) holds {}/watch.lock", first.pid, d.state)),
      std::string::npos)
      << second.output;
  EXPECT_EQ(second.output.find("held "), std::string::npos) << second.output;
  // The kernel drops the lock with its holder, however it ends.
  first.kill(SIGKILL);
  Outcome after = run(d.args(d.state) + " --from-start --exit-at-end");
  EXPECT_EQ(after.exit_code, 0) << after.output;
  EXPECT_NE(after.output.find("held script:/home/userx1/public_html"), std::string::npos) << after.output;
}

TEST(CommandLine, WatchExitsThreeOnAStateDirItCannotWrite) {
  WatchDirs d;
  // Under a regular file: the directory cannot be made.
  std::ofstream(d.dir.path + "/file") << "x";
  Outcome under_file = run(d.args(d.dir.path + "/file/state") + " --from-start --exit-at-end");
  EXPECT_EQ(under_file.exit_code, 3) << under_file.output;
  EXPECT_NE(under_file.output.find("cannot create " + d.dir.path + "/file/state: Not a directory"), std::string::npos)
      << under_file.output;
  EXPECT_EQ(under_file.output.find("held "), std::string::npos) << under_file.output;

  // There, but not writable for the user watch runs as (root ignores mode bits: run as nobody).
  std::string readonly = d.dir.path + "/readonly";
  ASSERT_EQ(::mkdir(readonly.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(d.dir.path.c_str(), 0755), 0);
  Outcome denied = run(d.args(readonly) + " --from-start --exit-at-end", ::geteuid() == 0);
  EXPECT_EQ(denied.exit_code, 3) << denied.output;
  EXPECT_NE(denied.output.find("cannot write in " + readonly + ": Permission denied"), std::string::npos)
      << denied.output;
  EXPECT_EQ(denied.output.find("held "), std::string::npos) << denied.output;
}

// A mistyped subcommand is named as one, with the ones there are.
TEST(CommandLine, UnknownSubcommandsAreNamed) {
  Outcome sub = run("queue lst");
  EXPECT_EQ(sub.exit_code, 2) << sub.output;
  EXPECT_NE(sub.output.find("unknown subcommand 'lst' (one of: list, freeze"), std::string::npos) << sub.output;
  Outcome top = run("lst");
  EXPECT_EQ(top.exit_code, 2) << top.output;
  EXPECT_NE(top.output.find("unknown command 'lst' (one of: logs, queue"), std::string::npos) << top.output;
}

// --help speaks to an admin: no parser type notes ("FLOAT:a share from 0 to 1=0.5"); range
// errors in words, not "Value 2 not in range 0.000000 to 1.000000".
TEST(CommandLine, HelpAndRangeErrorsAreWords) {
  for (const char* command : {"logs --help", "queue --help", "queue check --help", "watch --help", "release --help"}) {
    Outcome help = run(command);
    EXPECT_EQ(help.exit_code, 0) << command;
    for (const char* note : {"FLOAT", "UINT", "INT:", "TEXT:", ":a share", "=0."})
      EXPECT_EQ(help.output.find(note), std::string::npos) << command << " shows '" << note << "'\n" << help.output;
  }
  EXPECT_NE(run("queue --help").output.find("(default 0.3)"), std::string::npos);
  Outcome share = run("queue --dominant-share 2");
  EXPECT_EQ(share.exit_code, 2);
  EXPECT_NE(share.output.find("'2' is not a share from 0 to 1"), std::string::npos) << share.output;
  EXPECT_EQ(share.output.find("0.000000"), std::string::npos) << share.output;
  Outcome threads = run("logs --threads 999 /dev/null");
  EXPECT_NE(threads.output.find("'999' is not 0 (automatic) to 256 threads"), std::string::npos) << threads.output;
}

// A monitoring plugin's first stdout line is what the dashboard shows: a bad command line is
// an UNKNOWN line there, not only words on stderr; a warning level above the critical one is
// refused.
TEST(CommandLine, QueueCheckUsageErrorsPrintAnUnknownLine) {
  for (const char* bad : {"queue check --bogus", "queue check -w x", "queue check -w 100 -c 50",
                          "queue check --frozen-warning 9 --frozen-critical 3"}) {
    std::string command = std::string(SW_BINARY_DIR) + "/spamwarden " + bad + " 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::array<char, 4096> buf{};
    std::string out;
    for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), n);
    int status = ::pclose(pipe);
    EXPECT_EQ(WEXITSTATUS(status), 3) << bad;
    EXPECT_EQ(out.find("QUEUE UNKNOWN - "), 0u) << bad << ": stdout was '" << out << "'";
  }
}

// A fresh install: `holds` says nothing is held and creates nothing; `release` says the actor is
// not held; `config check` on a directory is an error, not "ok".
TEST(CommandLine, FreshInstallCreatesNothingAndConfigCheckRefusesADirectory) {
  sw::TempDir d;
  std::string state = d.path + "/state";
  Outcome holds = run("holds --config /dev/null --state-dir " + state);
  EXPECT_EQ(holds.exit_code, 0) << holds.output;
  EXPECT_EQ(holds.output, "nothing held\n");
  Outcome json = run("holds --json --config /dev/null --state-dir " + state);
  EXPECT_NE(json.output.find("\"incidents\": []"), std::string::npos) << json.output;
  Outcome release = run("release user:nobody --config /dev/null --state-dir " + state);
  EXPECT_EQ(release.exit_code, 2) << release.output;
  EXPECT_NE(release.output.find("local_user:nobody is not held"), std::string::npos) << release.output;
  EXPECT_FALSE(std::filesystem::exists(state)) << "a read-only look created the state directory";
  Outcome check = run("config check " + d.path);
  EXPECT_EQ(check.exit_code, 2) << check.output;
  EXPECT_NE(check.output.find("is a directory, not a config file"), std::string::npos) << check.output;
}

TEST(CommandLine, LogsRefusesDaysThatDoNotExist) {
  for (const char* day : {"2026-02-30", "2026-11-00", "2026-04-31", "2026-02-29"}) {
    Outcome r = run(std::string("logs --since ") + day + " /dev/null");
    EXPECT_EQ(r.exit_code, 2) << day << "\n" << r.output;
    EXPECT_NE(r.output.find("cannot read time"), std::string::npos) << r.output;
  }
}

// One meaning per flag: --config is spamwarden's TOML everywhere (queue reads its [paths]),
// --exim-config is Exim's.
TEST(CommandLine, QueueConfigIsSpamwardensTomlAndEximConfigIsExims) {
  sw::TempDir d;
  std::filesystem::create_directories(d.path + "/spool/input");
  std::ofstream(d.path + "/sw.toml") << "[paths]\nspool = \"" << d.path << "/spool\"\n";
  Outcome listed = run("queue list --config " + d.path + "/sw.toml --auth-id x");
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  Outcome summary = run("queue --config " + d.path + "/sw.toml");
  EXPECT_EQ(summary.exit_code, 0) << summary.output;
  EXPECT_NE(summary.output.find(d.path + "/spool"), std::string::npos) << summary.output;
  Outcome missing = run("queue --config " + d.path + "/absent.toml");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("cannot read"), std::string::npos) << missing.output;
  Outcome exim = run("queue --exim-config " + d.path + "/absent.conf");
  EXPECT_NE(exim.output.find("absent.conf"), std::string::npos) << "--exim-config is read as Exim's\n" << exim.output;
}

// An input that could not be read does not hide findings in the rest (exit 1), and without
// findings the report never says "No findings" of the whole log (exit 2).
TEST(CommandLine, LogsUnreadableInputNeitherHidesFindingsNorClaimsNone) {
  std::string log = std::string(SW_SOURCE_DIR) + "/src/eximlog/testdata/real-4.96-pid.log";
  Outcome with_findings = run("logs " + log + " /nonexistent/mainlog");
  EXPECT_EQ(with_findings.exit_code, 1) << with_findings.output;
  EXPECT_NE(with_findings.output.find("FINDINGS"), std::string::npos) << with_findings.output;
  EXPECT_NE(with_findings.output.find("cannot open /nonexistent/mainlog"), std::string::npos);
  sw::TempDir d;
  std::ofstream(d.path + "/small.log")
      << "2026-11-22 15:52:42 [13660] 1xV9ru-0003YK-2v <= a@b.example H=(x) [127.0.0.51]:54287 P=esmtpa "
         "A=dovecot_login:a@b.example S=549 id=1@b.example T=\"Hi\" for c@d.example\n";
  Outcome none = run("logs " + d.path + "/small.log /nonexistent/mainlog");
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_EQ(none.output.find("No findings:"), std::string::npos) << none.output;
  EXPECT_NE(none.output.find("No findings in what could be read"), std::string::npos) << none.output;
}

// A state directory that is not there yet is made, as serve makes it, and the model goes inside:
// not into a file of the directory's name, which serve could then not use.
TEST(CommandLine, LearnMakesAStateDirectoryNotThereYet) {
  sw::TempDir d;
  std::string state = d.path + "/new/state", mail = std::string(SW_SOURCE_DIR) + "/src/classify/testdata/";
  Outcome learned = run("learn --spam --config /dev/null --state-dir " + state + " " + mail + "attachment_spam.eml");
  EXPECT_EQ(learned.exit_code, 0) << learned.output;
  EXPECT_TRUE(std::filesystem::is_directory(state)) << learned.output;
  EXPECT_TRUE(std::filesystem::exists(state + "/content-model.bin")) << learned.output;
  Outcome again = run("learn --spam --config /dev/null --state-dir " + state + " " + mail + "attachment_spam.eml");
  EXPECT_NE(again.output.find("1 already learned"), std::string::npos) << again.output;
}

// Another learn writes the model (its lock holds no listener's address): this one is refused,
// exit 3 as for any environment that fails it, and writes nothing.
TEST(CommandLine, LearnIsRefusedWhileAnotherLearnWrites) {
  sw::TempDir d;
  std::string state = d.path + "/state", error;
  std::optional<sw::FileLock::Holder> holder;
  std::filesystem::create_directories(state);
  auto other = sw::FileLock::try_take(state + "/content-model.lock", "", &holder, &error);
  ASSERT_TRUE(other) << error;
  Outcome refused = run("learn --ham --config /dev/null --state-dir " + state + " " + std::string(SW_SOURCE_DIR) +
                        "/src/classify/testdata/plain_ham.eml");
  EXPECT_EQ(refused.exit_code, 3) << refused.output;
  EXPECT_NE(refused.output.find("is being written by pid " + std::to_string(::getpid())), std::string::npos)
      << refused.output;
  EXPECT_FALSE(std::filesystem::exists(state + "/content-model.bin"));
}

// A state directory whose model lock is held by a "serve" at `sock`, and the learn command that
// goes through it; listen() opens that socket.
struct LockHeldByServe {
  LockHeldByServe() {
    std::filesystem::create_directories(state);
    std::optional<sw::FileLock::Holder> holder;
    std::string error;
    lock = sw::FileLock::try_take(state + "/content-model.lock", "spamd " + sock, &holder, &error);
    EXPECT_TRUE(lock) << error;
  }
  int listen() const {
    int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::snprintf(un.sun_path, sizeof un.sun_path, "%s", sock.c_str());
    EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
    EXPECT_EQ(::listen(listener, 4), 0);
    return listener;
  }
  sw::TempDir d;
  std::string state = d.path + "/state", sock = d.path + "/spamd.sock";
  std::string mail = std::string(SW_SOURCE_DIR) + "/src/classify/testdata/";
  std::string learn_two = "learn --spam --config /dev/null --state-dir " + state + " " + mail + "attachment_spam.eml " +
                          mail + "big5_images_spam.eml";
  std::unique_ptr<sw::FileLock> lock;
};

// Reads a request to its end and writes `reply`.
void answer_one(int fd, std::string_view reply) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
  (void)!::write(fd, reply.data(), reply.size());
  ::close(fd);
}

// A serve holds the model's lock: learn sends it the messages. When it stops answering part way
// (killed: what it took since its last save is gone), learn says so and claims nothing learned;
// a holder whose listener is not there is said to be one.
TEST(CommandLine, LearnThroughAServeThatStopsAnsweringClaimsNothing) {
  LockHeldByServe held;
  Outcome nobody_there = run(held.learn_two);
  EXPECT_EQ(nobody_there.exit_code, 3) << nobody_there.output;
  EXPECT_NE(nobody_there.output.find("which does not answer on " + held.sock), std::string::npos)
      << nobody_there.output;
  EXPECT_EQ(nobody_there.output.find("which saves the model"), std::string::npos) << nobody_there.output;

  // One TELL answered, then the listener is gone.
  int listener = held.listen();
  std::thread serve([&] {
    answer_one(::accept(listener, nullptr, nullptr), "SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n");
    ::close(listener);
    ::unlink(held.sock.c_str());
  });
  Outcome stopped = run(held.learn_two);
  serve.join();
  EXPECT_EQ(stopped.exit_code, 3) << stopped.output;
  EXPECT_NE(stopped.output.find("stopped answering after 1 of 2 messages"), std::string::npos) << stopped.output;
  EXPECT_NE(stopped.output.find("run this learn again"), std::string::npos) << stopped.output;
  EXPECT_EQ(stopped.output.find("learned 1 spam message"), std::string::npos) << stopped.output;
}

// A serve that takes TELLs only from other users (EX_NOPERM): learn stops at the first message
// and says why and what to do, instead of "does not answer".
TEST(CommandLine, LearnThroughAServeThatRefusesThisUserSaysSo) {
  LockHeldByServe held;
  int listener = held.listen();
  int connections = 0;
  std::thread serve([&] {
    pollfd p{listener, POLLIN, 0};
    // The first connection may come late (a sanitizer build on a busy machine starts slowly);
    // then until learn has sent all it will.
    for (int wait_ms = 60000; ::poll(&p, 1, wait_ms) > 0; wait_ms = 1500) {
      ++connections;
      answer_one(::accept(listener, nullptr, nullptr), "SPAMD/1.1 77 EX_NOPERM\r\n");
    }
  });
  Outcome refused = run(held.learn_two);
  serve.join();
  ::close(listener);
  EXPECT_EQ(refused.exit_code, 3) << refused.output;
  EXPECT_NE(refused.output.find("which refused: the spamd listener " + held.sock +
                                " takes TELLs only from the users in [serve] spamd_tell_users"),
            std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("nothing learned (" + std::string(::geteuid() ? "run learn as root, or " : "") +
                                "add this user to spamd_tell_users"),
            std::string::npos)
      << refused.output;
  EXPECT_EQ(connections, 1);
}

}  // namespace

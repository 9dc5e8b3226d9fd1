// `spamwarden serve` as real processes: two instances sharing one real redis-server, Redis killed
// under them, and a real Postfix (testing/postfixlab) asking serve at end of data.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "base/file_lock.h"
#include "eximlab.h"
#include "postfixlab.h"
#include "redislab.h"

namespace {

using sw::testing::CommandResult;
using sw::testing::free_loopback_port;
using sw::testing::PostfixLab;
using sw::testing::read_file;
using sw::testing::RedisLab;

// One `spamwarden serve` with a Postfix listener on 127.0.0.1; stopped by PID.
class ServeProcess {
 public:
  // serve_toml: lines added to [serve] (counters, the content filter's listener); user: whom
  // serve runs as once it has bound its sockets.
  ServeProcess(const std::string& dir, const std::string& serve_toml, const std::string& user = "root")
      : dir_(dir), port_(free_loopback_port()) {
    std::filesystem::create_directories(dir + "/spool/input");
    std::ofstream(dir + "/serve.toml") << "[paths]\nstate_dir = \"" << dir << "/state\"\nspool = \"" << dir
                                       << "/spool\"\n[serve]\nsocket = \"" << dir << "/serve.sock\"\n"
                                       << "listen = \"127.0.0.1:" << port_ << "\"\nuser = \"" << user
                                       << "\"\nhold = false\n"
                                       << serve_toml << "\n[serve.limits.auth_account]\n"
                                       << "windows = [{ seconds = 3600, messages = 10 }]\n";
    pid_ = fork();
    if (pid_ == 0) {
      std::string log = dir + "/serve.log", bin = std::string(SW_BINARY_DIR) + "/spamwarden";
      freopen(log.c_str(), "w", stderr);
      execl(bin.c_str(), bin.c_str(), "serve", "--config", (dir + "/serve.toml").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 500 && !answers(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~ServeProcess() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  std::string log() const { return read_file(dir_ + "/serve.log"); }

  // One Postfix policy request on a fresh connection; the reply's action line, "" on failure.
  std::string ask(const std::string& attributes) const {
    int fd = connect_port();
    if (fd < 0) return "";
    std::string request = "request=smtpd_access_policy\n" + attributes + "\n", reply;
    if (write(fd, request.data(), request.size()) < 0) return close(fd), "";
    char buf[512];
    for (ssize_t n; reply.find("\n\n") == std::string::npos && (n = read(fd, buf, sizeof buf)) > 0;)
      reply.append(buf, n);
    close(fd);
    return reply.substr(0, reply.find('\n'));
  }

 private:
  int connect_port() const {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    close(fd);
    return -1;
  }
  bool answers() const {
    int fd = connect_port();
    if (fd >= 0) close(fd);
    return fd >= 0;
  }
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

std::string end_of_message(const std::string& account) {
  return "protocol_state=END-OF-MESSAGE\nprotocol_name=ESMTP\nclient_address=203.0.113.5\nclient_name=c.example\n"
         "helo_name=c.example\nsender=" +
         account + "\nrecipient=r@remote.example\nrecipient_count=1\nsasl_method=PLAIN\nsasl_username=" + account +
         "\n";
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sw-fleet.XXXXXX";
    path = mkdtemp(tmpl);
    std::filesystem::permissions(path, std::filesystem::perms(0755));
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

#define SKIP_UNLESS_ROOT_AND_REDIS()                                 \
  do {                                                               \
    std::string why;                                                 \
    if (geteuid() != 0) GTEST_SKIP() << "serve's user is root here"; \
    if (!RedisLab::available(&why)) GTEST_SKIP() << why;             \
  } while (0)

TEST(ServeFleetOnRealRedis, TwoInstancesAndOneRedisEnforceOneLimitJointly) {
  SKIP_UNLESS_ROOT_AND_REDIS();
  RedisLab redis;
  TempDir tmp;
  std::string counters = "counters = \"redis\"\nredis = \"" + redis.address() + "\"";
  ServeProcess a(tmp.path + "/a", counters), b(tmp.path + "/b", counters);
  int passed = 0, deferred = 0;
  for (int i = 0; i < 30; ++i) {
    std::string reply = (i % 2 ? b : a).ask(end_of_message("sales@acme.example"));
    if (reply == "action=DUNNO") ++passed;
    if (reply.starts_with("action=DEFER")) ++deferred;
  }
  EXPECT_EQ(passed, 10) << a.log() << b.log();
  EXPECT_EQ(deferred, 20);
  EXPECT_EQ(a.ask(end_of_message("other@acme.example")), "action=DUNNO");
}

TEST(ServeFleetOnRealRedis, RedisKilledEachInstanceCountsLocallySaysSoAndNeverBlocksMail) {
  SKIP_UNLESS_ROOT_AND_REDIS();
  RedisLab redis;
  TempDir tmp;
  std::string counters = "counters = \"redis\"\nredis = \"" + redis.address() + "\"";
  ServeProcess a(tmp.path + "/a", counters), b(tmp.path + "/b", counters);
  ASSERT_EQ(a.ask(end_of_message("shop@acme.example")), "action=DUNNO");
  redis.kill();  // SIGKILL by PID
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) {  // under the limit on each server's own counters: accepted
    EXPECT_EQ((i % 2 ? b : a).ask(end_of_message("shop@acme.example")), "action=DUNNO");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_NE(a.log().find("shared counters unreachable: counting locally"), std::string::npos) << a.log();
  EXPECT_NE(b.log().find("shared counters unreachable: counting locally"), std::string::npos) << b.log();
  // The limit still holds per server meanwhile: 11 more on a alone cross it there.
  std::string last;
  for (int i = 0; i < 11; ++i) last = a.ask(end_of_message("burst@acme.example"));
  EXPECT_TRUE(last.starts_with("action=DEFER")) << last;

  redis.start();
  std::string reply;
  for (int i = 0; i < 100 && a.log().find("shared counters reachable again") == std::string::npos; ++i) {
    reply = a.ask(end_of_message("later@acme.example"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(a.log().find("shared counters reachable again"), std::string::npos) << a.log();
}

TEST(ServeOnPostfixLab, AnAccountOverItsLimitIsDeferredByPostfix) {
  std::string why;
  if (!PostfixLab::available(&why)) GTEST_SKIP() << why;
  TempDir tmp;
  ServeProcess serve(tmp.path + "/serve", "counters = \"local\"");
  sw::testing::PostfixLabOptions options;
  options.sasl = true;
  options.main_cf = {"smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:" +
                     std::to_string(serve.port())};
  PostfixLab postfix(options);
  int queued = 0, deferred = 0;
  for (int i = 0; i < 13; ++i) {
    CommandResult r = sw::testing::run_command({"swaks", "--server", postfix.server(), "--from", "sales@acme.example",
                                                "--to", "rcpt@remote.example", "--auth", "PLAIN", "--auth-user",
                                                "sales@acme.example", "--auth-password", "secret", "--timeout", "20"});
    if (r.out.find("250 2.0.0 Ok: queued") != std::string::npos) ++queued;
    if (r.out.find("<** 450 4.7.1") != std::string::npos) ++deferred;
  }
  EXPECT_EQ(queued, 10) << read_file(postfix.maillog()) << serve.log();
  EXPECT_EQ(deferred, 3);
  EXPECT_NE(read_file(postfix.maillog()).find("END-OF-MESSAGE from localhost[127.0.0.1]: 450 4.7.1"), std::string::npos)
      << read_file(postfix.maillog());
}

// spamc against serve's spamd listener: TELL teaches the model in the daemon, CHECK answers from
// it, and the model learned over TELL is on disk once serve stops.
TEST(ServeWithContentFilter, SpamcTellsAndChecksThroughServe) {
  if (geteuid() != 0) GTEST_SKIP() << "serve's user is root here";
  if (system("command -v spamc >/dev/null 2>&1") != 0) GTEST_SKIP() << "no spamc";
  TempDir tmp;
  int spamd_port = free_loopback_port();
  std::string data = std::string(SW_SOURCE_DIR) + "/src/classify/testdata/";
  std::string port = std::to_string(spamd_port);
  {
    ServeProcess serve(tmp.path + "/a", "spamd_listen = \"127.0.0.1:" + std::to_string(spamd_port) + "\"");
    auto run = [&](std::vector<std::string> args, const std::string& file) {
      std::vector<std::string> argv{"spamc", "-d", "127.0.0.1", "-p", port};
      argv.insert(argv.end(), args.begin(), args.end());
      return sw::testing::run_command(argv, read_file(data + file));
    };
    // Untrained, nothing is spam: spamc -c exits 0 and prints score/threshold.
    CommandResult before = run({"-c"}, "attachment_spam.eml");
    EXPECT_EQ(before.exit_code, 0) << before.out << serve.log();
    EXPECT_EQ(before.out.substr(0, 4), "0.0/") << before.out;
    for (const char* f : {"attachment_spam.eml", "big5_images_spam.eml"})
      EXPECT_EQ(run({"-L", "spam"}, f).exit_code, 0) << serve.log();
    for (const char* f : {"plain_ham.eml", "latin1_ham.eml", "html_only_ham.eml"})
      EXPECT_EQ(run({"-L", "ham"}, f).exit_code, 0) << serve.log();
    CommandResult spam = run({"-c"}, "attachment_spam.eml");
    EXPECT_EQ(spam.exit_code, 1) << spam.out << serve.log();  // spamc -c: 1 means spam
    EXPECT_EQ(run({"-c"}, "plain_ham.eml").exit_code, 0);
    EXPECT_NE(serve.log().find("content filter on"), std::string::npos) << serve.log();
  }
  EXPECT_TRUE(std::filesystem::exists(tmp.path + "/a/state/content-model.bin"));
}

// `spamwarden learn AS --config CONFIG` on test messages (src/classify/testdata).
CommandResult learn_test_mail(const std::string& config, const std::string& as, const std::vector<std::string>& files) {
  std::vector<std::string> argv{std::string(SW_BINARY_DIR) + "/spamwarden", "learn", as, "--config", config};
  for (const auto& f : files) argv.push_back(std::string(SW_SOURCE_DIR) + "/src/classify/testdata/" + f);
  return sw::testing::run_command(argv);
}

// A running serve owns the model file and saves what TELL teaches over it: `spamwarden learn`
// with the same state directory sends its messages to that serve (the model lock says where)
// instead of writing a file serve would overwrite, so what spamc taught and what learn taught
// are both in the file serve saves when it stops.
TEST(ServeWithContentFilter, LearnWhileServeRunsGoesThroughItAndNothingIsLost) {
  if (geteuid() != 0) GTEST_SKIP() << "serve's user is root here";
  if (system("command -v spamc >/dev/null 2>&1") != 0) GTEST_SKIP() << "no spamc";
  TempDir tmp;
  int spamd_port = free_loopback_port();
  std::string data = std::string(SW_SOURCE_DIR) + "/src/classify/testdata/";
  std::string config = tmp.path + "/a/serve.toml", bin = std::string(SW_BINARY_DIR) + "/spamwarden";
  auto learn = [&](const std::string& as, std::vector<std::string> files) {
    return learn_test_mail(config, as, files);
  };
  auto spamc = [&](std::vector<std::string> args, const std::string& file) {
    std::vector<std::string> argv{"spamc", "-d", "127.0.0.1", "-p", std::to_string(spamd_port)};
    argv.insert(argv.end(), args.begin(), args.end());
    return sw::testing::run_command(argv, read_file(data + file));
  };
  {
    ServeProcess serve(tmp.path + "/a", "spamd_listen = \"127.0.0.1:" + std::to_string(spamd_port) + "\"");
    for (const char* f : {"plain_ham.eml", "latin1_ham.eml", "html_only_ham.eml"})
      ASSERT_EQ(spamc({"-L", "ham"}, f).exit_code, 0) << serve.log();
    CommandResult learned = learn("--spam", {"attachment_spam.eml", "big5_images_spam.eml"});
    ASSERT_EQ(learned.exit_code, 0) << learned.out << learned.err << serve.log();
    EXPECT_NE(learned.out.find("learned 2 spam messages"), std::string::npos) << learned.out;
    EXPECT_NE(learned.out.find("through the running spamwarden serve"), std::string::npos) << learned.out;
    CommandResult again = learn("--spam", {"attachment_spam.eml"});
    EXPECT_NE(again.out.find("1 already learned"), std::string::npos) << again.out;
    EXPECT_EQ(spamc({"-c"}, "attachment_spam.eml").exit_code, 1) << serve.log();  // serve scans with them
    CommandResult forgot = learn("--forget", {"latin1_ham.eml"});
    EXPECT_NE(forgot.out.find("forgot 1 message"), std::string::npos) << forgot.out << forgot.err;
  }
  // serve stopped and saved: learn writes the file itself now, and finds everything in it.
  CommandResult after = learn("--spam", {"attachment_spam.eml", "big5_images_spam.eml"});
  ASSERT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_NE(after.out.find("(2 already learned, not counted again); the model now knows 2 spam and 2 ham"),
            std::string::npos)
      << after.out;
}

// serve runs as another user (Exim's, by default) in a state directory root keeps (systemd's
// StateDirectory): the model file is replaced by a rename there, so nothing TELL teaches could
// be saved. serve says so at start and refuses TELL, and learn and `serve --check` say why,
// rather than report mail learned that the next restart loses.
TEST(ServeWithContentFilter, AStateDirectoryServeCannotWriteRefusesTell) {
  if (geteuid() != 0) GTEST_SKIP() << "serve starts as root here";
  TempDir tmp;
  std::filesystem::create_directories(tmp.path + "/a/state");  // root's, 0755
  int spamd_port = free_loopback_port();
  std::string config = tmp.path + "/a/serve.toml";
  {
    ServeProcess serve(tmp.path + "/a", "spamd_listen = \"127.0.0.1:" + std::to_string(spamd_port) + "\"", "nobody");
    // Said once privileges are dropped, which may come just after the listeners answer.
    for (int i = 0; i < 500 && serve.log().find("state is not writable by nobody") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_NE(serve.log().find("state is not writable by nobody"), std::string::npos) << serve.log();
    CommandResult learned = learn_test_mail(config, "--spam", {"attachment_spam.eml"});
    EXPECT_EQ(learned.exit_code, 3) << learned.out << learned.err << serve.log();  // kFailure
    EXPECT_NE(learned.err.find("cannot save the model"), std::string::npos) << learned.err;
    EXPECT_NE(learned.err.find("nothing learned"), std::string::npos) << learned.err;
  }
  CommandResult check =
      sw::testing::run_command({std::string(SW_BINARY_DIR) + "/spamwarden", "serve", "--check", "--config", config});
  EXPECT_NE(check.out.find("warning: " + tmp.path + "/a/state is not writable by nobody"), std::string::npos)
      << check.out << check.err;
  std::filesystem::permissions(tmp.path + "/a/state", std::filesystem::perms(0777));
  check =
      sw::testing::run_command({std::string(SW_BINARY_DIR) + "/spamwarden", "serve", "--check", "--config", config});
  EXPECT_EQ(check.out.find("is not writable"), std::string::npos) << check.out;
}

// A serve whose model cannot be read runs without the content filter, and leaves the model's
// lock: learn then says what is wrong with the file, and writes a new one once it is gone,
// instead of sending the messages to a listener that was never started.
TEST(ServeWithContentFilter, AModelItCannotReadIsLeftToLearn) {
  if (geteuid() != 0) GTEST_SKIP() << "serve's user is root here";
  TempDir tmp;
  std::filesystem::create_directories(tmp.path + "/a/state");
  std::ofstream(tmp.path + "/a/state/content-model.bin") << "not a model\n";
  std::string mail = std::string(SW_SOURCE_DIR) + "/src/classify/testdata/plain_ham.eml";
  std::string config = tmp.path + "/a/serve.toml", bin = std::string(SW_BINARY_DIR) + "/spamwarden";
  auto learn = [&] { return sw::testing::run_command({bin, "learn", "--ham", "--config", config, mail}); };
  ServeProcess serve(tmp.path + "/a", "spamd_socket = \"" + tmp.path + "/a/spamd.sock\"");
  ASSERT_NE(serve.log().find("content filter off"), std::string::npos) << serve.log();
  CommandResult damaged = learn();
  EXPECT_NE(damaged.exit_code, 0);
  EXPECT_NE(damaged.err.find("is not a spamwarden content model"), std::string::npos) << damaged.out << damaged.err;
  std::filesystem::remove(tmp.path + "/a/state/content-model.bin");
  CommandResult fresh = learn();
  ASSERT_EQ(fresh.exit_code, 0) << fresh.out << fresh.err << serve.log();
  EXPECT_NE(fresh.out.find("the model now knows 0 spam and 1 ham"), std::string::npos) << fresh.out;
}

// A serve that starts while a learn holds the model's lock does not wait for it (its policy
// listeners start at once) and saves nothing over the file that learn writes. Once the lock is
// free it takes it and reads the file that learn wrote (nothing was taught here meanwhile); from
// then on learn goes through it, and nothing either taught is lost when serve stops.
TEST(ServeWithContentFilter, AServeStartedWhileALearnWritesTakesTheLockLaterAndLosesNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "serve's user is root here";
  if (system("command -v spamc >/dev/null 2>&1") != 0) GTEST_SKIP() << "no spamc";
  TempDir tmp;
  std::string state = tmp.path + "/a/state", sock = tmp.path + "/a/spamd.sock", error;
  std::optional<sw::FileLock::Holder> holder;
  std::string data = std::string(SW_SOURCE_DIR) + "/src/classify/testdata/";
  std::string config = tmp.path + "/a/serve.toml", bin = std::string(SW_BINARY_DIR) + "/spamwarden";
  auto learn = [&](const std::string& as, std::vector<std::string> files) {
    return learn_test_mail(config, as, files);
  };
  auto spamc = [&](std::vector<std::string> args, const std::string& file) {
    std::vector<std::string> argv{"spamc", "-U", sock};
    argv.insert(argv.end(), args.begin(), args.end());
    return sw::testing::run_command(argv, read_file(data + file));
  };
  std::filesystem::create_directories(state);
  auto learning = sw::FileLock::try_take(state + "/content-model.lock", "", &holder, &error);  // as a learn holds it
  ASSERT_TRUE(learning) << error;
  {
    auto started = std::chrono::steady_clock::now();
    ServeProcess serve(tmp.path + "/a", "spamd_socket = \"" + sock + "\"");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << serve.log();
    EXPECT_EQ(serve.ask(end_of_message("shop@acme.example")), "action=DUNNO") << serve.log();  // not waiting
    EXPECT_EQ(spamc({"-c"}, "attachment_spam.eml").out.substr(0, 4), "0.0/");  // the model as it read it: empty
    // What that learn writes meanwhile (two spam, one ham), renamed into place as learn does.
    std::string other = tmp.path + "/other";
    for (auto [as, file] :
         {std::pair{"--spam", "attachment_spam.eml"}, {"--spam", "big5_images_spam.eml"}, {"--ham", "plain_ham.eml"}}) {
      CommandResult r = sw::testing::run_command({bin, "learn", as, "--state-dir", other, data + file});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    std::filesystem::rename(other + "/content-model.bin", state + "/content-model.bin");
    learning.reset();  // that learn is done: serve takes the lock within a second or so
    for (int i = 0; i < 50 && sw::FileLock::read_holder(state + "/content-model.lock").note.empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; i < 20 && serve.log().find("the file read again") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_NE(serve.log().find("the file read again"), std::string::npos) << serve.log();
    EXPECT_NE(spamc({"-c"}, "attachment_spam.eml").out.substr(0, 4), "0.0/") << serve.log();  // scans with it
    CommandResult through = learn("--ham", {"latin1_ham.eml"});
    EXPECT_NE(through.out.find("through the running spamwarden serve"), std::string::npos) << through.out;
    ASSERT_EQ(spamc({"-L", "ham"}, "html_only_ham.eml").exit_code, 0) << serve.log();
  }
  CommandResult spam = learn("--spam", {"attachment_spam.eml", "big5_images_spam.eml"});
  CommandResult ham = learn("--ham", {"plain_ham.eml", "latin1_ham.eml", "html_only_ham.eml"});
  EXPECT_NE(spam.out.find("(2 already learned"), std::string::npos) << spam.out << spam.err;
  EXPECT_NE(ham.out.find("(3 already learned"), std::string::npos) << ham.out << ham.err;
}

// Two servers with content_model = "redis": what spamc teaches one (TELL), and what
// `spamwarden learn` teaches the fleet, the other scores with within a few seconds; a server
// started later starts from the fleet's model, not an empty one.
TEST(ServeWithContentFilter, AFleetSharesOneContentModelThroughRedis) {
  SKIP_UNLESS_ROOT_AND_REDIS();
  if (system("command -v spamc >/dev/null 2>&1") != 0) GTEST_SKIP() << "no spamc";
  RedisLab redis;
  TempDir tmp;
  std::string data = std::string(SW_SOURCE_DIR) + "/src/classify/testdata/";
  auto fleet_toml = [&](int spamd_port) {
    return "content_model = \"redis\"\nredis = \"" + redis.address() +
           "\"\nspamd_listen = \"127.0.0.1:" + std::to_string(spamd_port) + "\"";
  };
  auto spamc = [&](int port, std::vector<std::string> args, const std::string& file) {
    std::vector<std::string> argv{"spamc", "-d", "127.0.0.1", "-p", std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    return sw::testing::run_command(argv, read_file(data + file));
  };
  // The score spamc -c prints ("12.3/5.0") once every server has given the same one, not
  // `before`, for 2.5 s (each syncs every second and refits a sync after the journal settles),
  // or "" after 15 s.
  auto agreed_score = [&](std::vector<int> ports, const std::string& before = "") {
    std::string last;
    for (int i = 0, same = 0; i < 150; ++i) {
      std::string first = spamc(ports[0], {"-c"}, "attachment_spam.eml").out;
      bool all = true;
      for (int port : ports) all &= spamc(port, {"-c"}, "attachment_spam.eml").out == first;
      all &= first != before;
      same = all && first == last ? same + 1 : 0;
      last = all ? first : "";
      if (same == 25) return first;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::string();
  };
  int port_a = free_loopback_port(), port_b = free_loopback_port(), metrics_a = free_loopback_port();
  ServeProcess a(tmp.path + "/a", fleet_toml(port_a) + "\nmetrics = \"127.0.0.1:" + std::to_string(metrics_a) + "\""),
      b(tmp.path + "/b", fleet_toml(port_b));
  for (const char* f : {"attachment_spam.eml", "big5_images_spam.eml"})
    ASSERT_EQ(spamc(port_a, {"-L", "spam"}, f).exit_code, 0) << a.log();
  ASSERT_EQ(spamc(port_a, {"-L", "ham"}, "plain_ham.eml").exit_code, 0) << a.log();
  std::string taught = agreed_score({port_a, port_b});
  EXPECT_NE(taught, "") << a.log() << b.log();
  EXPECT_NE(taught.substr(0, 4), "0.0/") << taught;
  std::string metrics =
      sw::testing::run_command({"curl", "-s", "http://127.0.0.1:" + std::to_string(metrics_a) + "/metrics"}).out;
  EXPECT_NE(metrics.find("spamwarden_content_spam_learned 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("spamwarden_content_journal_reachable 1\n"), std::string::npos) << metrics;

  // `spamwarden learn` with the same config teaches the fleet through the journal.
  std::ofstream(tmp.path + "/learn.toml") << "[paths]\nstate_dir = \"" << tmp.path << "/learner\"\n[serve]\n"
                                          << fleet_toml(port_a) << "\n";
  std::filesystem::create_directories(tmp.path + "/learner");
  CommandResult learned =
      sw::testing::run_command({std::string(SW_BINARY_DIR) + "/spamwarden", "learn", "--ham", "--config",
                                tmp.path + "/learn.toml", data + "latin1_ham.eml", data + "html_only_ham.eml"});
  ASSERT_EQ(learned.exit_code, 0) << learned.out << learned.err;
  EXPECT_NE(learned.out.find("the model now knows 2 spam and 3 ham"), std::string::npos) << learned.out;
  std::string relearned = agreed_score({port_a, port_b}, taught);
  EXPECT_NE(relearned, "") << a.log() << b.log();
  EXPECT_NE(relearned, taught);

  // A server started now starts from the fleet's model and scores as the others do.
  int port_c = free_loopback_port();
  ServeProcess c(tmp.path + "/c", fleet_toml(port_c));
  EXPECT_EQ(agreed_score({port_a, port_b, port_c}), relearned) << c.log();
  EXPECT_NE(c.log().find("2 spam, 3 ham learned, the fleet's model in Redis"), std::string::npos) << c.log();

  // Redis gone: a TELL is an error spamc exits with (75: try again), never "already learned";
  // scanning goes on with each server's copy.
  redis.kill();
  CommandResult refused = spamc(port_a, {"-L", "spam"}, "plain_ham.eml");
  EXPECT_NE(refused.exit_code, 0) << refused.out << refused.err << a.log();
  EXPECT_EQ(spamc(port_b, {"-c"}, "attachment_spam.eml").out, relearned);
}

}  // namespace

// spamd_bench: the content filter through the spamd protocol, and a load generator for any
// spamd-protocol server (spamwarden's, SpamAssassin's spamd, rspamd's legacy port).
//
//   spamd_bench serve --train LIST --base DIR --listen ADDR        # trains in memory, then serves
//   spamd_bench load --address ADDR --list LIST --base DIR [--clients N] [--rounds R]
//                    [--protocol spamc|rspamc] [--scores FILE]
//   spamd_bench scan --train LIST --list LIST --base DIR [--rounds R] [--scores FILE]
//
// load sends every listed message (R times) over N concurrent connections, one request per
// connection as Exim does (REPORT SPAMC/1.2 + half-close, or CHECK RSPAMC/1.3), and prints
// "messages seconds msgs_per_s failures"; --scores writes "label score threshold" per message.
// scan is the same scan in-process on one thread, no protocol: "messages cpu_us_per_message";
// its --scores carry every digit, so two builds' files differ only if a change moved a score.
#include <arpa/inet.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "classify/scanner.h"
#include "daemon/spamd_listener.h"
#include "daemon/spamd_session.h"

namespace {

struct Listed {
  bool spam;
  std::string raw;
};

std::vector<Listed> read_list(const std::string& list, const std::string& base) {
  std::vector<Listed> out;
  std::ifstream in(list);
  for (std::string line; std::getline(in, line);) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::ifstream file(base + "/" + line.substr(tab + 1), std::ios::binary);
    std::ostringstream bytes;
    bytes << file.rdbuf();
    out.push_back({line.substr(0, tab) == "spam", bytes.str()});
  }
  return out;
}

int connect_to(const std::string& address) {
  if (address.starts_with("/")) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strncpy(un.sun_path, address.c_str(), sizeof un.sun_path - 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0) return fd;
    ::close(fd);
    return -1;
  }
  size_t colon = address.rfind(':');
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &in.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) == 0) return fd;
  ::close(fd);
  return -1;
}

// One request as Exim sends it; the score and threshold read back as Exim reads them.
bool scan_once(const std::string& address, const std::string& message, bool rspamc, double* score, double* threshold) {
  int fd = connect_to(address);
  if (fd < 0) return false;
  std::string request =
      rspamc ? "CHECK RSPAMC/1.3\r\nContent-length: " + std::to_string(message.size()) +
                   "\r\nQueue-Id: 1bench-000000-00\r\nFrom: <a@b.example>\r\nRecipient-Number: 1\r\n"
                   "Rcpt: <c@d.example>\r\n\r\n"
             : "REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: " + std::to_string(message.size()) + "\r\n\r\n";
  request += message;
  bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  if (!rspamc) ::shutdown(fd, SHUT_WR);
  std::string reply;
  char buffer[8192];
  while (ok) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  char version[8], flag[8];
  double reject = 0;
  if (rspamc) {
    return sscanf(reply.c_str(), "RSPAMD/%7s 0 EX_OK\r\nMetric: default; %7s %lf / %lf / %lf", version, flag, score,
                  threshold, &reject) == 5;
  }
  return sscanf(reply.c_str(), "SPAMD/%7s 0 EX_OK\r\nSpam: %*s ; %lf / %lf", version, score, threshold) == 3;
}

std::map<std::string, std::string> options(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 2; i + 1 < argc; i += 2) out[argv[i]] = argv[i + 1];
  return out;
}

std::unique_ptr<sw::classify::Scanner> trained(std::map<std::string, std::string>& o) {
  auto scanner = sw::classify::Scanner::in_memory();
  auto start = std::chrono::steady_clock::now();
  std::vector<Listed> train = read_list(o["--train"], o["--base"]);
  for (const Listed& m : train) scanner->learn(m.raw, m.spam);
  scanner->refit();  // as `spamwarden learn` and serve's save do: the regression fitted on every example
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "trained on %zu messages in %.2f s\n", train.size(), seconds);
  return scanner;
}

double thread_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int scan(std::map<std::string, std::string> o) {
  auto scanner = trained(o);
  std::vector<Listed> messages = read_list(o["--list"], o["--base"]);
  int rounds = o.count("--rounds") ? std::stoi(o["--rounds"]) : 1;
  std::vector<sw::classify::Verdict> verdicts(messages.size());
  double start = thread_cpu_seconds();
  for (int r = 0; r < rounds; ++r)
    for (size_t i = 0; i < messages.size(); ++i) verdicts[i] = scanner->scan(messages[i].raw);
  double cpu = thread_cpu_seconds() - start;
  size_t total = messages.size() * size_t(rounds);
  std::printf("%zu %.1f\n", total, cpu * 1e6 / double(total ? total : 1));
  if (o.count("--scores")) {
    std::FILE* out = std::fopen(o["--scores"].c_str(), "w");
    if (!out) return 1;
    for (size_t i = 0; i < messages.size(); ++i) {
      std::fprintf(out, "%s %.17g %.17g", messages[i].spam ? "spam" : "ham", verdicts[i].score, verdicts[i].threshold);
      for (const auto& reason : verdicts[i].reasons) std::fprintf(out, " %s=%.17g", reason.name.c_str(), reason.weight);
      std::fprintf(out, "\n");
    }
    std::fclose(out);
  }
  return 0;
}

int serve(std::map<std::string, std::string> o) {
  auto scanner = trained(o);
  sw::daemon::SpamdEngine engine;
  engine.scan = [&scanner](std::string_view message) { return scanner->scan(message); };
  engine.learn = [&scanner](std::string_view message, bool spam) { return scanner->learn(message, spam); };
  sw::daemon::SpamdSessionFactory factory(engine);
  std::string error;
  auto listener = sw::daemon::SpamdListener::start(o["--listen"], factory, {}, &error);
  if (!listener) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int signal = 0;
  sigwait(&set, &signal);
  return 0;
}

int load(std::map<std::string, std::string> o) {
  std::vector<Listed> messages = read_list(o["--list"], o["--base"]);
  int clients = o.count("--clients") ? std::stoi(o["--clients"]) : 8;
  int rounds = o.count("--rounds") ? std::stoi(o["--rounds"]) : 1;
  size_t limit = o.count("--max") ? std::stoul(o["--max"]) : messages.size();
  messages.resize(std::min(limit, messages.size()));
  bool rspamc = o["--protocol"] == "rspamc";
  std::vector<double> scores(messages.size(), NAN), thresholds(messages.size(), NAN);
  std::atomic<size_t> next{0}, failures{0};
  size_t total = messages.size() * size_t(rounds);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < total;) {
        size_t m = i % messages.size();
        double score = 0, threshold = 0;
        if (!scan_once(o["--address"], messages[m].raw, rspamc, &score, &threshold)) {
          ++failures;
          continue;
        }
        scores[m] = score;
        thresholds[m] = threshold;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu %.3f %.1f %zu\n", total, seconds, double(total) / seconds, failures.load());
  if (o.count("--scores")) {
    std::ofstream out(o["--scores"]);
    for (size_t i = 0; i < messages.size(); ++i) {
      out << (messages[i].spam ? "spam" : "ham") << ' ' << scores[i] << ' ' << thresholds[i] << '\n';
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "serve") return serve(options(argc, argv));
  if (mode == "load") return load(options(argc, argv));
  if (mode == "scan") return scan(options(argc, argv));
  std::fprintf(stderr, "usage: spamd_bench serve|load|scan --option value ...\n");
  return 2;
}

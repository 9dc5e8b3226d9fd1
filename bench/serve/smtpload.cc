// smtpload: a bounded SMTP load generator for bench/serve/e2e.sh (a real Exim on loopback).
//
//   smtpload --target 127.0.0.1:PORT [--source 127.0.0.20] [--clients K] [--messages N] [--per-session M]
//            [--duration S] [--helo NAME] [--from ADDR] [--rcpt ADDR] [--rcpts R] [--size BYTES]
//            [--auth USER:PASS] [--label NAME]
//
// K threads, each a blocking SMTP client (no pipelining): connect from the source address, EHLO,
// optionally AUTH PLAIN, then M messages per session (MAIL, R x RCPT, DATA, body, ".") and QUIT,
// until N messages were tried in all or S seconds passed. A refused MAIL, RCPT or DATA (4xx/5xx)
// counts the message as refused, RSET, and the session goes on, as a sending tool would. Output:
// one line of key=value: messages/s tried and accepted, p50/p99/max latency of an accepted message
// (MAIL to the final 250, µs), refusals (4xx/5xx), errors (lost connections), and the time from
// the first message to the first refusal, and that reply as the rest of the line. "%n" in
// --from/--rcpt becomes the message's number.
// Targets and sources outside 127.0.0.0/8 are refused: nothing leaves the machine.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string target, source = "127.0.0.1", helo = "mx.bench-sender.example", from = "bench%n@bench-sender.example";
  std::string rcpt = "sink@lab.example", auth, label;
  int clients = 4, per_session = 1, rcpts = 1, size = 1000;
  long messages = 1000;
  double duration = 20;
};

[[noreturn]] void usage(const std::string& why) {
  fprintf(stderr, "smtpload: %s\n", why.c_str());
  exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value for " + a);
    std::string v = argv[++i];
    if (a == "--target") o.target = v;
    else if (a == "--source") o.source = v;
    else if (a == "--helo") o.helo = v;
    else if (a == "--from") o.from = v;
    else if (a == "--rcpt") o.rcpt = v;
    else if (a == "--auth") o.auth = v;
    else if (a == "--label") o.label = v;
    else if (a == "--clients") o.clients = std::stoi(v);
    else if (a == "--per-session") o.per_session = std::stoi(v);
    else if (a == "--rcpts") o.rcpts = std::stoi(v);
    else if (a == "--size") o.size = std::stoi(v);
    else if (a == "--messages") o.messages = std::stol(v);
    else if (a == "--duration") o.duration = std::stod(v);
    else usage("unknown option " + a);
  }
  if (o.target.empty()) usage("--target is required");
  if (o.clients < 1 || o.clients > 256 || o.per_session < 1 || o.rcpts < 1 || o.rcpts > 100 || o.messages < 1 ||
      o.size < 0 || o.size > 10'000'000 || o.duration <= 0)
    usage("bad --clients/--per-session/--rcpts/--messages/--size/--duration");
  if (!o.auth.empty() && o.auth.find(':') == std::string::npos) usage("--auth USER:PASS");
  return o;
}

sockaddr_in loopback(const std::string& ip, int port, const char* what) {
  if (port < 0 || port > 65535) usage(std::string(what) + ": bad port");
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &in.sin_addr) != 1) usage(std::string(what) + ": not an IPv4 address: " + ip);
  if ((ntohl(in.sin_addr.s_addr) >> 24) != 127) usage(std::string(what) + ": refusing an address outside 127.0.0.0/8");
  return in;
}

sockaddr_in target_address(const std::string& target) {
  size_t colon = target.rfind(':');
  if (colon == std::string::npos) usage("--target must be IP:PORT");
  return loopback(target.substr(0, colon), atoi(target.c_str() + colon + 1), "--target");
}

std::string base64(const std::string& in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[v >> 18 & 63], out += kAlphabet[v >> 12 & 63];
    out += i + 1 < in.size() ? kAlphabet[v >> 6 & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string numbered(std::string text, long n) {
  for (size_t at = text.find("%n"); at != std::string::npos; at = text.find("%n", at))
    text.replace(at, 2, std::to_string(n));
  return text;
}

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What every client adds up; one lock, taken once per message.
struct Totals {
  std::mutex lock;
  std::vector<int64_t> latencies;
  long accepted = 0, refused = 0, errors = 0, sessions = 0;
  int64_t first_refusal_us = -1;
  std::string first_refusal;
};

// One blocking SMTP connection. A reply is read up to its last line ("250 ..." after "250-...").
class Session {
 public:
  ~Session() { close_fd(); }

  bool open(const sockaddr_in& target, const sockaddr_in& source) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{30, 0};
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) return false;
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) return false;
    return reply() == 220;
  }

  // Sends `line` (CRLF added) and returns the reply's code, 0 when the connection is gone.
  int command(const std::string& line) { return send(line + "\r\n") ? reply() : 0; }

  bool send(const std::string& data) {
    for (size_t done = 0; done < data.size();) {
      ssize_t n = write(fd_, data.data() + done, data.size() - done);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  int reply() {
    for (;;) {
      size_t eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        last_ = line;
        if (line.size() >= 4 && line[3] == '-') continue;
        return line.size() >= 3 ? atoi(line.substr(0, 3).c_str()) : 0;
      }
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n <= 0) return 0;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  const std::string& last() const { return last_; }
  void close_fd() {
    if (fd_ >= 0) close(fd_), fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string buffer_, last_;
};

class Load {
 public:
  explicit Load(const Options& o)
      : o_(o), target_(target_address(o.target)), source_(loopback(o.source, 0, "--source")) {
    body_ = "Subject: bench\r\nFrom: <bench@bench-sender.example>\r\nTo: <" + o.rcpt + ">\r\n\r\n";
    while (static_cast<int>(body_.size()) < o.size)
      body_ += "The quick brown fox jumps over the lazy dog 0123456789.\r\n";
    body_ += ".\r\n";
  }

  void run() {
    begin_ = now_us();
    deadline_ = begin_ + static_cast<int64_t>(o_.duration * 1e6);
    std::vector<std::thread> threads;
    for (int i = 0; i < o_.clients; ++i) threads.emplace_back([this] { client(); });
    for (std::thread& t : threads) t.join();
    elapsed_us_ = now_us() - begin_;
  }

  void report() {
    std::vector<int64_t>& l = totals_.latencies;
    std::sort(l.begin(), l.end());
    auto pct = [&](double p) { return l.empty() ? 0 : l[std::min(l.size() - 1, static_cast<size_t>(p * l.size()))]; };
    double secs = elapsed_us_ / 1e6;
    long tried = totals_.accepted + totals_.refused;
    printf(
        "label=%s clients=%d per_session=%d msgs_s=%.1f accepted_s=%.1f p50_us=%lld p99_us=%lld max_us=%lld "
        "tried=%ld accepted=%ld refused=%ld errors=%ld sessions=%ld secs=%.2f first_refusal_ms=%.1f "
        "first_refusal=%s\n",
        o_.label.empty() ? "-" : o_.label.c_str(), o_.clients, o_.per_session, tried / secs, totals_.accepted / secs,
        static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.99)),
        static_cast<long long>(l.empty() ? 0 : l.back()), tried, totals_.accepted, totals_.refused, totals_.errors,
        totals_.sessions, secs, totals_.first_refusal_us < 0 ? -1.0 : totals_.first_refusal_us / 1000.0,
        totals_.first_refusal.empty() ? "-" : totals_.first_refusal.c_str());
  }

 private:
  // Claims the next message number, or -1 when the count or the time is used up.
  long claim() {
    if (now_us() >= deadline_) return -1;
    long n = next_++;
    return n < o_.messages ? n : -1;
  }

  void client() {
    for (long n = claim(); n >= 0;) {
      Session s;
      bool ok = s.open(target_, source_) && s.command("EHLO " + o_.helo) == 250;
      if (ok && !o_.auth.empty()) {
        size_t colon = o_.auth.find(':');
        std::string plain = std::string(1, '\0') + o_.auth.substr(0, colon) + '\0' + o_.auth.substr(colon + 1);
        ok = s.command("AUTH PLAIN " + base64(plain)) == 235;
      }
      if (!ok) {
        error();
        n = claim();
        continue;
      }
      count_session();
      for (int i = 0; i < o_.per_session && n >= 0; ++i, n = claim()) {
        if (!message(s, n)) {
          error();
          n = claim();
          break;
        }
      }
      s.command("QUIT");
    }
  }

  // One message; false when the connection is gone (the message is then an error, not a refusal).
  bool message(Session& s, long n) {
    int64_t start = now_us();
    int code = s.command("MAIL FROM:<" + numbered(o_.from, n) + ">");
    int accepted_rcpts = 0;
    for (int r = 0; r < o_.rcpts && code == 250; ++r) {
      int rc = s.command("RCPT TO:<" + numbered(o_.rcpt, n * o_.rcpts + r) + ">");
      if (rc == 0) return false;
      if (rc == 250 || rc == 251) ++accepted_rcpts;
      else if (r == 0) code = rc;  // remember why, if none is accepted
    }
    if (code == 250 && accepted_rcpts == 0) code = 550;
    if (code == 250) code = s.command("DATA");
    if (code == 354) code = s.send(body_) ? s.reply() : 0;
    if (code == 0) return false;
    if (code != 250) {
      refusal(s.last());
      return s.command("RSET") == 250;
    }
    std::lock_guard<std::mutex> hold(totals_.lock);
    totals_.latencies.push_back(now_us() - start);
    ++totals_.accepted;
    return true;
  }

  void refusal(const std::string& reply) {
    std::lock_guard<std::mutex> hold(totals_.lock);
    ++totals_.refused;
    if (totals_.first_refusal_us >= 0) return;
    totals_.first_refusal_us = now_us() - begin_;
    totals_.first_refusal = reply;
  }

  void error() {
    std::lock_guard<std::mutex> hold(totals_.lock);
    ++totals_.errors;
  }
  void count_session() {
    std::lock_guard<std::mutex> hold(totals_.lock);
    ++totals_.sessions;
  }

  const Options& o_;
  sockaddr_in target_, source_;
  std::string body_;
  std::atomic<long> next_{0};
  int64_t begin_ = 0, deadline_ = 0, elapsed_us_ = 0;
  Totals totals_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  Load load(o);
  load.run();
  load.report();
  return 0;
}

// policyload: one load generator for every policy daemon in bench/serve (single thread, epoll).
//
//   policyload --target 127.0.0.1:10023|unix:/path --mode persistent|exim|close --clients K
//              [--requests N] [--duration S] [--keys N] [--seed S] [--sasl-pct P] [--pid DAEMON_PID]
//              [--format postfix|exim] [--stage rcpt|data] [--rate R] [--label NAME]
//
// Modes: persistent = one connection per client, requests back to back (Postfix); exim = a new
// connection per request: connect, write, shutdown(SHUT_WR), read to EOF (Exim's ${readsocket});
// close = a new connection per request, closed after the reply without a half-close.
// Requests are 700-byte RCPT-stage Postfix policy requests (--format exim: the one-line request of
// serve's Exim snippets, "v1 stage=rcpt ...", reply one line; --stage data: the end-of-message
// request with one recipient, where rate limits count), keys drawn uniformly from [0, keys)
// with a seeded xorshift; --rate paces the starts (requests/s in total) for latency at a given load. Output: one line
// of key=value (req/s, p50/p99/max latency in µs, errors, the daemon tree's CPU µs per request from /proc, its peak
// RSS, reply actions). TCP targets outside 127.0.0.0/8 are refused.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string target, mode = "persistent", format = "postfix", stage = "rcpt", label;
  double rate = 0;
  int clients = 1, sasl_pct = 25;
  long requests = 50000, keys = 100000;
  double duration = 10;
  uint64_t seed = 42;
  int pid = 0;
};

[[noreturn]] void usage(const char* why) {
  fprintf(stderr, "policyload: %s\n", why);
  exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    std::string v = argv[++i];
    if (a == "--target") o.target = v;
    else if (a == "--mode") o.mode = v;
    else if (a == "--label") o.label = v;
    else if (a == "--format") o.format = v;
    else if (a == "--stage") o.stage = v;
    else if (a == "--rate") o.rate = std::stod(v);
    else if (a == "--clients") o.clients = std::stoi(v);
    else if (a == "--requests") o.requests = std::stol(v);
    else if (a == "--duration") o.duration = std::stod(v);
    else if (a == "--keys") o.keys = std::stol(v);
    else if (a == "--seed") o.seed = std::stoull(v);
    else if (a == "--sasl-pct") o.sasl_pct = std::stoi(v);
    else if (a == "--pid") o.pid = std::stoi(v);
    else usage(("unknown option " + a).c_str());
  }
  if (o.target.empty()) usage("--target is required");
  if (o.mode != "persistent" && o.mode != "exim" && o.mode != "close") usage("--mode: persistent, exim or close");
  if (o.format != "postfix" && o.format != "exim") usage("--format: postfix or exim");
  if (o.stage != "rcpt" && o.stage != "data") usage("--stage: rcpt or data");
  if (o.clients < 1 || o.clients > 1000 || o.keys < 1 || o.requests < 1) usage("bad --clients/--keys/--requests");
  return o;
}

// Target address; only loopback TCP or a Unix socket.
struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
};

Target resolve(const std::string& target) {
  Target t;
  if (target.starts_with("unix:")) {
    auto* un = reinterpret_cast<sockaddr_un*>(&t.addr);
    std::string path = target.substr(5);
    if (path.size() >= sizeof un->sun_path) usage("unix path too long");
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path.c_str(), path.size() + 1);
    t.len = sizeof(sockaddr_un), t.family = AF_UNIX;
    return t;
  }
  size_t colon = target.rfind(':');
  if (colon == std::string::npos) usage("--target must be IP:PORT or unix:PATH");
  auto* in = reinterpret_cast<sockaddr_in*>(&t.addr);
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<uint16_t>(std::stoi(target.substr(colon + 1))));
  if (inet_pton(AF_INET, target.substr(0, colon).c_str(), &in->sin_addr) != 1) usage("--target: not an IPv4 address");
  if ((ntohl(in->sin_addr.s_addr) >> 24) != 127) usage("refusing a target outside 127.0.0.0/8");
  t.len = sizeof(sockaddr_in);
  return t;
}

uint64_t xorshift(uint64_t& s) {
  s ^= s << 13, s ^= s >> 7, s ^= s << 17;
  return s;
}

// A key fixes client IP (198.18.0.0/15), names, sender, recipient and whether it authenticated.
std::string request_for(long key, const Options& o) {
  unsigned a = static_cast<unsigned>(key * 2654435761u);
  bool sasl = static_cast<int>(a % 100) < o.sasl_pct, unknown = (a / 100) % 10 == 0;
  char ip[32], name[96], buf[2048];
  std::string user = sasl ? "user" + std::to_string(key) + "@example.org" : "";
  snprintf(ip, sizeof ip, "198.%u.%u.%u", static_cast<unsigned>(18 + (key >> 16 & 1)),
           static_cast<unsigned>(key >> 8 & 255), static_cast<unsigned>(key & 255));
  snprintf(name, sizeof name, "mta%ld.mail%ld.example.net", key, key % 10);
  bool data = o.stage == "data";
  if (o.format == "exim") {
    std::string rcpt =
        data ? "rcpts=1" : "rcpt=r" + std::to_string(key % 5000) + "@dom" + std::to_string(key % 10) + ".example.org";
    snprintf(buf, sizeof buf, "v1 stage=%s ip=%s helo=%s sender=s%ld@d%ld.example %s%s%s\n", data ? "data" : "rcpt", ip,
             unknown ? "localhost" : name, key, key % 1000, rcpt.c_str(), sasl ? " auth=" : "", user.c_str());
    return buf;
  }
  snprintf(buf, sizeof buf,
           "request=smtpd_access_policy\nprotocol_state=%s\nprotocol_name=ESMTP\nclient_address=%s\n"
           "client_name=%s\nclient_port=%ld\nreverse_client_name=%s\nserver_address=127.0.0.1\nserver_port=25\n"
           "helo_name=%s\nsender=s%ld@d%ld.example\nrecipient=r%ld@dom%ld.example.org\nrecipient_count=%d\n"
           "queue_id=\ninstance=%lx.1.0\nsize=182044\netrn_domain=\nstress=\nsasl_method=%s\nsasl_username=%s%s\n"
           "sasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
           "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\n"
           "policy_context=\ncompatibility_level=3.6\nmail_version=3.7.11\n\n",
           data ? "END-OF-MESSAGE" : "RCPT", ip, unknown ? "unknown" : name, 20000 + key % 40000,
           unknown ? "unknown" : name, unknown ? "localhost" : name, key, key % 1000, key % 5000, key % 10,
           data ? 1 : 0, key, sasl ? "PLAIN" : "", "", user.c_str());
  return buf;
}

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU ticks (user+system, with reaped children) and peak RSS over a process and its descendants.
struct TreeUsage {
  long long ticks = 0;
  long peak_rss_kb = 0;
  int procs = 0;
};

// Busy jiffies of the whole machine (all tenants), from /proc/stat.
long long machine_busy() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  long long v[8] = {}, busy = 0;
  stat >> cpu;
  for (int i = 0; i < 8; ++i) stat >> v[i], busy += (i == 3 || i == 4) ? 0 : v[i];
  return busy;
}

TreeUsage tree_usage(int root) {
  TreeUsage u;
  if (root <= 0) return u;
  std::map<int, int> parent;
  std::map<int, std::pair<long long, long>> usage;
  DIR* d = opendir("/proc");
  while (dirent* e = d ? readdir(d) : nullptr) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    size_t rp = text.rfind(')');
    if (rp == std::string::npos) continue;
    std::istringstream rest(text.substr(rp + 2));
    std::string f[20];
    for (auto& s : f) rest >> s;  // state ppid ... (fields 3..22)
    parent[pid] = atoi(f[1].c_str());
    long long ticks = atoll(f[11].c_str()) + atoll(f[12].c_str()) + atoll(f[13].c_str()) + atoll(f[14].c_str());
    std::ifstream status("/proc/" + std::string(e->d_name) + "/status");
    long hwm = 0;
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("VmHWM:")) hwm = atol(line.c_str() + 6);
    }
    usage[pid] = {ticks, hwm};
  }
  if (d) closedir(d);
  for (auto& [pid, use] : usage) {
    for (int p = pid, hops = 0; p > 1 && hops < 64; p = parent[p], ++hops) {
      if (p != root) continue;
      u.ticks += use.first, u.peak_rss_kb = std::max(u.peak_rss_kb, use.second), ++u.procs;
      break;
    }
  }
  return u;
}

struct Client {
  int fd = -1;
  bool connected = false;
  std::string out, in;
  size_t written = 0;
  int64_t started = 0;
};

class Load {
 public:
  Load(const Options& o, const Target& t) : o_(o), t_(t), rng_(o.seed ? o.seed : 1) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    clients_.resize(static_cast<size_t>(o.clients));
  }

  void run() {
    int64_t begin = now_us(), end = begin + static_cast<int64_t>(o_.duration * 1e6);
    for (size_t i = 0; i < clients_.size(); ++i) pending_.push_back(i);
    epoll_event events[256];
    while (finished_ + errors_ < o_.requests && now_us() < end) {
      std::vector<size_t> starting;
      starting.swap(pending_);
      int64_t now = now_us();
      for (size_t i : starting) {
        if (o_.rate > 0 && issued_ >= (now - begin) * o_.rate / 1e6) pending_.push_back(i);  // not yet due
        else start_request(i);
      }
      int n = epoll_wait(ep_, events, 256, pending_.empty() ? 100 : (o_.rate > 0 ? 1 : 0));
      for (int i = 0; i < n; ++i) step(events[i].data.u32, events[i].events);
    }
    elapsed_us_ = now_us() - begin;
  }

  void report(const TreeUsage& before, const TreeUsage& after, long long machine_jiffies) {
    std::sort(latencies_.begin(), latencies_.end());
    auto pct = [&](double p) {
      return latencies_.empty() ? 0 : latencies_[std::min(latencies_.size() - 1, size_t(p * latencies_.size()))];
    };
    double secs = elapsed_us_ / 1e6, rate = finished_ / secs;
    long long cpu_us = (after.ticks - before.ticks) * 1'000'000 / sysconf(_SC_CLK_TCK);
    std::string actions;
    for (auto& [a, n] : actions_) actions += (actions.empty() ? "" : ",") + a + ":" + std::to_string(n);
    printf(
        "label=%s mode=%s clients=%d req_s=%.0f p50_us=%lld p99_us=%lld max_us=%lld ok=%ld errors=%ld secs=%.2f "
        "cpu_us_req=%.1f daemon_cpu_s=%.2f machine_cores=%.2f procs=%d peak_rss_mb=%.1f actions=%s\n",
        o_.label.empty() ? "-" : o_.label.c_str(), o_.mode.c_str(), o_.clients, rate, static_cast<long long>(pct(0.5)),
        static_cast<long long>(pct(0.99)), static_cast<long long>(latencies_.empty() ? 0 : latencies_.back()),
        finished_, errors_, secs, finished_ ? double(cpu_us) / finished_ : 0.0, cpu_us / 1e6,
        double(machine_jiffies) / sysconf(_SC_CLK_TCK) / secs, after.procs, after.peak_rss_kb / 1024.0,
        actions.empty() ? "-" : actions.c_str());
  }

 private:
  bool persistent() const { return o_.mode == "persistent"; }

  void start_request(size_t i) {
    if (issued_ >= o_.requests) return;
    ++issued_;
    Client& c = clients_[i];
    c.out = request_for(static_cast<long>(xorshift(rng_) % static_cast<uint64_t>(o_.keys)), o_);
    c.written = 0, c.in.clear(), c.started = now_us();
    if (c.fd >= 0) return arm(i, EPOLLOUT, EPOLL_CTL_MOD);
    c.fd = socket(t_.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t_.family == AF_INET) {
      int one = 1;
      setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int r = connect(c.fd, reinterpret_cast<const sockaddr*>(&t_.addr), t_.len);
    if (r != 0 && errno != EINPROGRESS && errno != EAGAIN) return fail(i);
    arm(i, EPOLLOUT, EPOLL_CTL_ADD);
  }

  void arm(size_t i, uint32_t events, int op) {
    epoll_event e{};
    e.events = events;
    e.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep_, op, clients_[i].fd, &e);
  }

  void close_client(size_t i) {
    Client& c = clients_[i];
    if (c.fd >= 0) close(c.fd), c.fd = -1;
  }

  void fail(size_t i) {
    ++errors_;
    close_client(i);
    pending_.push_back(i);  // the next request starts from the loop, not recursively
  }

  void done(size_t i) {
    Client& c = clients_[i];
    latencies_.push_back(now_us() - c.started);
    ++finished_;
    size_t at = o_.format == "exim" ? 0 : c.in.find("action=");
    size_t skip = o_.format == "exim" ? 0 : 7;
    std::string action =
        at == std::string::npos ? "?" : c.in.substr(at + skip, c.in.find_first_of(" \n", at) - at - skip);
    ++actions_[action];
    if (!persistent()) close_client(i);
    pending_.push_back(i);
  }

  void step(size_t i, uint32_t events) {
    Client& c = clients_[i];
    if (c.written < c.out.size()) {
      if (events & (EPOLLERR | EPOLLHUP)) return fail(i);
      ssize_t n = write(c.fd, c.out.data() + c.written, c.out.size() - c.written);
      if (n < 0) return errno == EAGAIN ? void() : fail(i);
      c.written += static_cast<size_t>(n);
      if (c.written < c.out.size()) return;
      if (o_.mode == "exim") shutdown(c.fd, SHUT_WR);
      return arm(i, EPOLLIN, EPOLL_CTL_MOD);
    }
    char buf[4096];
    for (;;) {
      ssize_t n = read(c.fd, buf, sizeof buf);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        const char* end = o_.format == "exim" ? "\n" : "\n\n";
        if (o_.mode != "exim" && c.in.find(end) != std::string::npos) return done(i);
        continue;
      }
      if (n < 0 && errno == EAGAIN) return;
      // EOF (or error): the Exim-style end of a reply; anything else lost its reply.
      if (o_.mode == "exim" && n == 0 && !c.in.empty()) return done(i);
      return fail(i);
    }
  }

  const Options& o_;
  const Target& t_;
  uint64_t rng_;
  int ep_;
  std::vector<Client> clients_;
  std::vector<size_t> pending_;
  std::vector<int64_t> latencies_;
  std::map<std::string, long> actions_;
  long issued_ = 0, finished_ = 0, errors_ = 0;
  int64_t elapsed_us_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  Target t = resolve(o.target);
  signal(SIGPIPE, SIG_IGN);
  TreeUsage before = tree_usage(o.pid);
  long long busy = machine_busy();
  Load load(o, t);
  load.run();
  busy = machine_busy() - busy;
  load.report(before, tree_usage(o.pid), busy);
  return 0;
}

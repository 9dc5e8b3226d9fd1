// A concurrent stub resolver on c-ares: thousands of queries in flight (bounded), one configurable
// server list (ip:port), timeouts and retries, and an outcome that tells an answer from NXDOMAIN,
// NODATA, SERVFAIL, REFUSED and a timeout, so no caller can mistake a failed lookup for a clean one.
//
//   Resolver resolver({.servers = {"127.0.0.1:5353"}});
//   resolver.query("example.com", RecordType::txt, [](const Answer& a) { ... may query again ... });
//   resolver.run();  // returns when every query, including those made by callbacks, has finished
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit/dns_message.h"

namespace sw::audit::dns {

enum class Outcome { answer, nxdomain, nodata, servfail, refused, timeout, error };

std::string_view outcome_name(Outcome outcome);
// NXDOMAIN and NODATA are answers about the name; everything else says the lookup failed.
inline bool lookup_failed(Outcome o) { return o != Outcome::answer && o != Outcome::nxdomain && o != Outcome::nodata; }

struct Answer {
  Outcome outcome = Outcome::error;
  std::vector<std::string> records;  // see ParsedAnswer
  bool capped = false;               // TXT longer than the cap: the text was cut
  std::string detail;                // c-ares' message for failures
};

struct ResolverOptions {
  std::vector<std::string> servers;  // "127.0.0.1:53", "[::1]:53"; empty: /etc/resolv.conf
  std::chrono::milliseconds timeout{2000};
  int tries = 2;
  int max_in_flight = 200;
  size_t max_txt_bytes = 64 * 1024;  // per answer
};

class Resolver {
 public:
  using Callback = std::function<void(const Answer&)>;
  // Throws std::runtime_error for a bad server address or when c-ares cannot start.
  explicit Resolver(ResolverOptions options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Queues a query; its callback runs from run(). Queries beyond max_in_flight wait their turn.
  void query(std::string name, RecordType type, Callback callback);
  void run();
  uint64_t queries_sent() const { return sent_; }

  struct Pending;  // one query waiting or in flight

 private:
  void start(std::unique_ptr<Pending> pending);
  void finished(Pending* pending, int status, const unsigned char* abuf, int alen);
  void wait_and_process();
  static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_socket_state(void* data, int fd, int readable, int writable);

  ResolverOptions options_;
  void* channel_ = nullptr;  // ares_channel
  std::deque<std::unique_ptr<Pending>> waiting_;
  int in_flight_ = 0;
  uint64_t sent_ = 0;
  std::vector<std::pair<int, short>> sockets_;  // fd, poll events
};

}  // namespace sw::audit::dns

// dnslab.h - DNS servers for tests, in a private network and mount namespace.
//
// The test process (root) moves itself into a new network+mount namespace the first time a lab is
// made: only its own loopback exists there and /etc/resolv.conf is bind-mounted to
// "nameserver 127.0.0.1", so neither the host's resolver nor the network is ever asked. ctest runs
// every test in its own process, so the namespace lives exactly as long as the test.
//
//   sw::testing::DnsLab lab;                                    // the namespace, a scratch dir
//   lab.start_dnsmasq({"txt-record=example.test,v=spf1 -all"});  // 127.0.0.1:53
//   lab.start_testns(testns_entries, 5300);                      // ldns-testns: SERVFAIL, silence, huge answers
//   resolver options: {.servers = {lab.dnsmasq_server()}}
//
// Servers are stopped by their PIDs in the destructor. Call DnsLab::available() first and
// GTEST_SKIP() when it says no (not root, or dnsmasq / ldns-testns missing).
#pragma once
#include <string>
#include <sys/types.h>
#include <vector>

namespace sw::testing {

class DnsLab {
 public:
  DnsLab();  // enters the namespace (once per process); throws std::runtime_error on failure
  ~DnsLab();
  DnsLab(const DnsLab&) = delete;
  DnsLab& operator=(const DnsLab&) = delete;

  static bool available(std::string* why = nullptr);

  // dnsmasq with these config lines (no leading "--"), on 127.0.0.1:port, queries logged.
  void start_dnsmasq(const std::vector<std::string>& config_lines, int port = 53);
  // ldns-testns with this data file text (ENTRY_BEGIN ... ENTRY_END) on 127.0.0.1:port.
  void start_testns(const std::string& entries, int port = 5300);

  std::string dnsmasq_server() const { return "127.0.0.1:" + std::to_string(dnsmasq_port_); }
  std::string testns_server() const { return "127.0.0.1:" + std::to_string(testns_port_); }
  const std::string& dir() const { return dir_; }
  std::string dnsmasq_log() const;  // the queries dnsmasq saw

  // One ldns-testns entry: a reply with `rcode` (NOERROR, SERVFAIL, REFUSED, NXDOMAIN) and answer
  // RRs in zone-file form; sleep_seconds > 0 delays the reply (a timeout for short-timeout clients).
  static std::string testns_entry(const std::string& qname, const std::string& qtype, const std::string& rcode,
                                  const std::vector<std::string>& answers = {}, int sleep_seconds = 0);

 private:
  pid_t spawn(const std::vector<std::string>& argv, const std::string& log);
  std::string dir_;
  std::vector<pid_t> pids_;
  int dnsmasq_port_ = 0;
  int testns_port_ = 0;
};

}  // namespace sw::testing

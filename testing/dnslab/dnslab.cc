#include "dnslab.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sw::testing {
namespace {

std::string errno_text(const std::string& what) { return "dnslab: " + what + ": " + std::strerror(errno); }

bool on_path(const char* name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

void bring_up_loopback() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) throw std::runtime_error(errno_text("socket"));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  close(fd);
  if (!ok) throw std::runtime_error(errno_text("bring up lo"));
}

// Once per process: a private network (only lo) and private mounts with our resolv.conf.
void enter_namespace(const std::string& dir) {
  static bool entered = false;
  if (entered) return;
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) throw std::runtime_error(errno_text("unshare(NEWNET|NEWNS)"));
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) throw std::runtime_error(errno_text("mount"));
  std::string resolv = dir + "/resolv.conf";
  std::ofstream(resolv) << "nameserver 127.0.0.1\n";
  if (mount(resolv.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) {
    throw std::runtime_error(errno_text("bind-mount /etc/resolv.conf"));
  }
  bring_up_loopback();
  entered = true;
}

// True once something listens on UDP 127.0.0.1:port in this namespace (read from /proc, no probe).
bool udp_listening(int port) {
  char loopback[32], any[32];
  std::snprintf(loopback, sizeof loopback, " 0100007F:%04X ", port);
  std::snprintf(any, sizeof any, " 00000000:%04X ", port);  // ldns-testns binds the wildcard address
  std::ifstream udp("/proc/net/udp");
  std::string line;
  while (std::getline(udp, line)) {
    if (line.find(loopback) != std::string::npos || line.find(any) != std::string::npos) return true;
  }
  return false;
}

void wait_listening(int port, pid_t pid, const std::string& log) {
  for (int i = 0; i < 200; ++i) {
    if (udp_listening(port)) return;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      throw std::runtime_error("dnslab: DNS server exited at start: " + text.str());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  throw std::runtime_error("dnslab: DNS server not listening on port " + std::to_string(port) + " after 5 s");
}

}  // namespace

bool DnsLab::available(std::string* why) {
  std::string reason;
  if (geteuid() != 0) reason = "needs root (unshare of the network and mount namespaces)";
  else if (!on_path("dnsmasq")) reason = "dnsmasq (dnsmasq-base) not installed";
  else if (!on_path("ldns-testns")) reason = "ldns-testns (ldnsutils) not installed";
  if (why) *why = reason;
  return reason.empty();
}

DnsLab::DnsLab() {
  char tmpl[] = "/tmp/sw-dnslab-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error(errno_text("mkdtemp"));
  dir_ = tmpl;
  enter_namespace(dir_);
}

DnsLab::~DnsLab() {
  for (pid_t pid : pids_) kill(pid, SIGTERM);
  for (pid_t pid : pids_) {
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (i == 50) kill(pid, SIGKILL);
    }
  }
  if (!getenv("SW_DNSLAB_KEEP")) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

pid_t DnsLab::spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(errno_text("fork"));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no server behind
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  pids_.push_back(pid);
  return pid;
}

void DnsLab::start_dnsmasq(const std::vector<std::string>& config_lines, int port) {
  std::string conf = dir_ + "/dnsmasq.conf";
  std::ofstream out(conf);
  for (const auto& line : config_lines) out << line << "\n";
  out.close();
  std::string log = dir_ + "/dnsmasq.out";
  pid_t pid = spawn({"dnsmasq", "-k", "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1",
                     "--port=" + std::to_string(port), "--conf-file=" + conf, "--pid-file=" + dir_ + "/dnsmasq.pid",
                     "--user=root", "--log-queries", "--log-facility=" + dir_ + "/dnsmasq.log", "--cache-size=0"},
                    log);
  wait_listening(port, pid, log);
  dnsmasq_port_ = port;
}

void DnsLab::start_testns(const std::string& entries, int port) {
  std::string data = dir_ + "/testns-" + std::to_string(port) + ".data";
  std::ofstream(data) << entries;
  std::string log = dir_ + "/testns-" + std::to_string(port) + ".out";
  pid_t pid = spawn({"ldns-testns", "-p", std::to_string(port), data}, log);
  wait_listening(port, pid, log);
  testns_port_ = port;
}

std::string DnsLab::dnsmasq_log() const {
  std::ifstream in(dir_ + "/dnsmasq.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string DnsLab::testns_entry(const std::string& qname, const std::string& qtype, const std::string& rcode,
                                 const std::vector<std::string>& answers, int sleep_seconds) {
  std::string e = "ENTRY_BEGIN\nMATCH opcode qtype qname\nADJUST copy_id";
  if (sleep_seconds > 0) e += " sleep=" + std::to_string(sleep_seconds);
  e += "\nREPLY QR RA " + rcode + "\nSECTION QUESTION\n" + qname + ". IN " + qtype + "\n";
  if (!answers.empty()) {
    e += "SECTION ANSWER\n";
    for (const auto& rr : answers) e += rr + "\n";
  }
  return e + "ENTRY_END\n";
}

}  // namespace sw::testing

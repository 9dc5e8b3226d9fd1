#include "queue/testing/mini_exim.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "spool/spool_location.h"

namespace sw::queue::testing {
namespace {

const char* kTrustedList = "/etc/exim4/trusted_configs";
const char* kLock = "/run/lock/eximlab.lock";

int shell(const std::string& command) { return std::system(command.c_str()); }

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string config_text(const std::string& dir, bool split, bool move_frozen) {
  return "keep_environment =\n"
         "spool_directory = " + dir + "/spool\n"
         "log_file_path = " + dir + "/log/%slog\n"
         "primary_hostname = mini.test\n"
         "exim_user = Debian-exim\nexim_group = Debian-exim\n"
         "trusted_users = root\nqualify_domain = mini.test\n"
         "split_spool_directory = " + (split ? "true" : "false") + "\n" +
         (move_frozen ? "move_frozen_messages = true\n" : "") +
         "acl_smtp_rcpt = accept_all\n"
         "begin acl\naccept_all:\n  accept\n"
         "begin routers\n"
         "deliver_now:\n  driver = accept\n  condition = ${if exists{" + dir + "/deliver-now}}\n"
         "  transport = mbox\n"
         "remote:\n  driver = manualroute\n  route_list = * 127.0.0.1\n  transport = remote_smtp\n  self = send\n"
         "begin transports\n"
         "remote_smtp:\n  driver = smtp\n  port = 1\n"
         "mbox:\n  driver = appendfile\n  file = " + dir + "/delivered/mbox\n  user = Debian-exim\n"
         "begin retry\n* * F,1d,1h\n";
}

std::string id_from(const std::string& text) {
  static const std::regex id(R"(([0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4}))");
  std::smatch match;
  if (!std::regex_search(text, match, id)) throw std::runtime_error("no message id in: " + text);
  return match[1];
}

}  // namespace

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string MiniExim::exim_binary() {
  for (const char* path : {"/usr/sbin/exim4", "/usr/sbin/exim"})
    if (::access(path, X_OK) == 0) return path;
  return {};
}

bool MiniExim::available(std::string* why) {
  if (::geteuid() != 0) return *why = "needs root", false;
  if (exim_binary().empty()) return *why = "no exim binary", false;
  return true;
}

MiniExim::MiniExim(bool split_spool, bool move_frozen) {
  char pattern[] = "/tmp/sw-miniexim.XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  ::chmod(dir_.c_str(), 0755);
  for (const char* sub : {"/spool", "/log", "/delivered"}) ::mkdir((dir_ + sub).c_str(), 0750);
  shell("chown Debian-exim:Debian-exim " + dir_ + "/spool " + dir_ + "/log " + dir_ + "/delivered");
  write_text(config(), config_text(dir_, split_spool, move_frozen));
  // Debian honours -C with privileges only for listed configs; eximlab.sh uses the same lock.
  shell(std::string("( flock -w 30 9; echo '") + config() + "' >> " + kTrustedList + " ) 9>" + kLock);
}

MiniExim::~MiniExim() {
  shell(std::string("( flock -w 30 9; sed -i '\\|^") + config() + "$|d' " + kTrustedList + " ) 9>" + kLock);
  if (!std::getenv("SW_MINIEXIM_KEEP")) shell("rm -rf '" + dir_ + "'");
}

std::string MiniExim::run_with_input(const std::string& args, const std::string& input, int* exit_code) {
  std::string in = dir_ + "/stdin.txt", out = dir_ + "/stdout.txt";
  write_text(in, input);
  int status = shell(exim_binary() + " -C " + config() + " " + args + " < " + in + " > " + out + " 2>&1");
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return slurp(out);
}

std::string MiniExim::exim(const std::string& args, int* exit_code) { return run_with_input(args, "", exit_code); }

std::string MiniExim::queue_local(const std::string& sender, const std::vector<std::string>& recipients,
                                  const std::string& message) {
  std::string args = "-odq -oi -f '" + sender + "'";
  for (const std::string& r : recipients) args += " '" + r + "'";
  // Local submission prints no id: the new -H file tells which message it was.
  std::set<std::string> before;
  for (const auto& m : spool::list_messages(spool_dir())) before.insert(m.id);
  int code = 0;
  std::string output = run_with_input(args, message, &code);
  if (code != 0) throw std::runtime_error("exim -odq failed: " + output);
  for (const auto& m : spool::list_messages(spool_dir()))
    if (!before.count(m.id)) return m.id;
  throw std::runtime_error("no new message in the spool: " + output);
}

std::string MiniExim::queue_smtp(const std::string& auth_id, const std::string& client_ip, const std::string& helo,
                                 const std::string& sender, const std::vector<std::string>& recipients,
                                 const std::string& message) {
  std::string session = "EHLO " + helo + "\r\nMAIL FROM:<" + sender + ">\r\n";
  for (const std::string& r : recipients) session += "RCPT TO:<" + r + ">\r\n";
  session += "DATA\r\n";
  std::istringstream lines(message);
  for (std::string line; std::getline(lines, line);) session += (line.starts_with(".") ? "." : "") + line + "\r\n";
  session += ".\r\nQUIT\r\n";
  std::string args = "-odq -bs -oMa '" + client_ip + ".2525' -oMr " + (auth_id.empty() ? "esmtp" : "esmtpa");
  if (!auth_id.empty()) args += " -oMai '" + auth_id + "' -oMaa PLAIN";
  std::string output = run_with_input(args, session, nullptr);
  size_t ok = output.find("250 OK id=");
  if (ok == std::string::npos) throw std::runtime_error("SMTP submission failed: " + output);
  return id_from(output.substr(ok));
}

void MiniExim::allow_delivery() { write_text(dir_ + "/deliver-now", "yes\n"); }

}  // namespace sw::queue::testing

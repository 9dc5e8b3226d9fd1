// Test helper: a private, daemon-less real Exim (Debian's exim4) for queue tests. Messages are
// queued with -odq (local sendmail) or -bs (SMTP on stdin, with -oMa/-oMai faking the client
// address and AUTH id). Remote delivery goes to 127.0.0.1:1 and so always defers, until
// allow_delivery() makes a router deliver everything into DIR/delivered/mbox.
// Needs root; the config is listed in /etc/exim4/trusted_configs while the object lives (under
// the same lock eximlab.sh uses).
#pragma once
#include <string>
#include <vector>

namespace sw::queue::testing {

class MiniExim {
 public:
  explicit MiniExim(bool split_spool, bool move_frozen = false);
  ~MiniExim();
  MiniExim(const MiniExim&) = delete;
  MiniExim& operator=(const MiniExim&) = delete;

  static bool available(std::string* why);
  static std::string exim_binary();

  const std::string& dir() const { return dir_; }
  std::string spool_dir() const { return dir_ + "/spool"; }
  std::string config() const { return dir_ + "/exim.conf"; }
  std::string mainlog() const { return dir_ + "/log/mainlog"; }
  std::string mbox() const { return dir_ + "/delivered/mbox"; }

  // Queues a message submitted by local sendmail; returns its id.
  std::string queue_local(const std::string& sender, const std::vector<std::string>& recipients,
                          const std::string& message);
  // Queues a message over SMTP-on-stdin from client_ip with this AUTH id (may be empty).
  std::string queue_smtp(const std::string& auth_id, const std::string& client_ip, const std::string& helo,
                         const std::string& sender, const std::vector<std::string>& recipients,
                         const std::string& message);
  // Runs exim -C config ARGS; returns stdout+stderr.
  std::string exim(const std::string& args, int* exit_code = nullptr);
  void allow_delivery();

 private:
  std::string run_with_input(const std::string& args, const std::string& input, int* exit_code);
  std::string dir_;
};

std::string slurp(const std::string& path);

}  // namespace sw::queue::testing

#include "queue/audit_log.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "base/json_text.h"

namespace sw::queue {

std::string current_operator() {
  const struct passwd* pw = ::getpwuid(::getuid());
  std::string name = pw ? pw->pw_name : "uid " + std::to_string(::getuid());
  if (const char* sudo = std::getenv("SUDO_USER")) name += std::string(" (sudo by ") + sudo + ")";
  return name;
}

bool append_audit_record(const std::string& state_dir, nlohmann::json record, const std::string& operator_name,
                         std::string* error) {
  ::mkdir(state_dir.c_str(), 0700);
  char when[32];
  time_t now = ::time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  record["time"] = when;
  record["operator"] = operator_name;
  std::string line = json_text(record) + "\n";
  std::string path = state_dir + "/audit.jsonl";
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size());
  if (!ok) *error = "cannot append to " + path + ": " + std::strerror(errno);
  ::close(fd);
  return ok;
}

}  // namespace sw::queue

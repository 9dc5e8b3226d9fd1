#include "daemon/action_feedback.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "base/loopback_listen.h"
#include "proto/spamd.h"
#include "spool/spool_header.h"

namespace sw::daemon {
namespace {

// Reads at most `limit` bytes of a regular file, never following a symbolic link.
bool read_file_prefix(const std::string& path, size_t limit, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *error = fmt::format("cannot open {}: {}", path, std::strerror(errno));
    return false;
  }
  out->clear();
  char buffer[65536];
  while (out->size() < limit) {
    ssize_t n = ::read(fd, buffer, std::min(sizeof buffer, limit - out->size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

int connect_spamd(const std::string& address, std::string* error) {
  int fd = -1;
  if (address.starts_with("/")) {
    sockaddr_un un{};
    if (address.size() >= sizeof un.sun_path) return *error = "socket path too long", -1;
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, address.c_str(), address.size() + 1);
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0) return fd;
  } else {
    std::string host;
    int port = 0;
    if (!parse_loopback_listen(address, &host, &port, error)) return -1;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &in.sin_addr);
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) == 0) return fd;
  }
  *error = fmt::format("cannot connect to the spamd listener {}: {}", address, std::strerror(errno));
  if (fd >= 0) ::close(fd);
  return -1;
}

}  // namespace

bool read_spool_message(const std::string& header_path, const std::string& data_path, size_t max_bytes,
                        std::string* message, std::string* error) {
  std::string header_bytes, data;
  if (!read_file_prefix(header_path, 16 * 1024 * 1024, &header_bytes, error)) return false;
  if (!read_file_prefix(data_path, max_bytes + 64, &data, error)) return false;
  spool::SpoolHeader header;
  spool::HeaderParseStatus status = spool::parse_spool_header(header_bytes, header);
  if (!status.ok()) {
    *error = fmt::format("{}: {} at line {}", header_path, spool::describe(status.error), status.line);
    return false;
  }
  message->clear();
  for (const spool::Header& h : header.headers) {
    if (!h.deleted()) message->append(h.text);
  }
  message->append(header.wireformat ? "\r\n" : "\n");
  size_t body_start = data.find('\n');  // the -D file starts with its "<id>-D" line
  if (body_start != std::string::npos) message->append(std::string_view(data).substr(body_start + 1));
  if (message->size() > max_bytes) message->resize(max_bytes);
  return true;
}

bool tell_spamd(const std::string& address, std::string_view message, bool spam, int timeout_ms, std::string* error,
                bool* already_learned) {
  int fd = connect_spamd(address, error);
  if (fd < 0) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto left = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(0, ms.count()));
  };
  std::string request = proto::spamd::encode_tell_request(message, spam);
  std::string_view pending = request;
  bool ok = true;
  while (ok && !pending.empty()) {
    pollfd p{fd, POLLOUT, 0};
    ssize_t n = ::poll(&p, 1, left()) > 0 ? ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL) : -1;
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) pending.remove_prefix(static_cast<size_t>(n));
  }
  ::shutdown(fd, SHUT_WR);
  std::string reply;
  char buffer[4096];
  while (ok) {
    pollfd p{fd, POLLIN, 0};
    ssize_t n = ::poll(&p, 1, left()) > 0 ? ::read(fd, buffer, sizeof buffer) : -1;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  auto answer = proto::spamd::read_tell_reply(reply);
  if (already_learned) *already_learned = answer == proto::spamd::TellReply::kAlreadyLearned;
  if (answer != proto::spamd::TellReply::kRefused) return true;
  *error = reply.empty() ? "no answer from the spamd listener " + address
                         : "the spamd listener answered: " + reply.substr(0, reply.find('\r'));
  return false;
}

FeedbackResult teach_spool_files(const std::string& address,
                                 const std::vector<std::pair<std::string, std::string>>& files, bool spam) {
  FeedbackResult result;
  for (const auto& [header_path, data_path] : files) {
    std::string message, error;
    if (!read_spool_message(header_path, data_path, 512 * 1024, &message, &error)) {
      result.errors.push_back(error);
      continue;
    }
    bool already = false;
    if (tell_spamd(address, message, spam, 5000, &error, &already)) {
      ++result.learned;
      result.already_learned += already;
      continue;
    }
    result.errors.push_back(error);
    if (error.starts_with("cannot connect")) break;  // the daemon is down: the rest would wait for nothing
  }
  return result;
}

}  // namespace sw::daemon

#include "daemon/spamd_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "base/loopback_listen.h"
#include "classify/scanner.h"

namespace sw::daemon {
namespace {

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

constexpr std::string_view kServeNote = "spamd ";

std::string serve_lock_note(const std::string& spamd_address) { return std::string(kServeNote) + spamd_address; }

std::optional<std::string> serve_spamd_address(const FileLock::Holder& holder) {
  if (!holder.note.starts_with(kServeNote) || holder.note.size() <= kServeNote.size()) return std::nullopt;
  return holder.note.substr(kServeNote.size());
}

std::optional<RunningServe> running_serve(const std::string& state_dir) {
  auto held = FileLock::holder_if_held(classify::Scanner::lock_path(state_dir));
  auto address = held ? serve_spamd_address(*held) : std::nullopt;
  if (!address) return std::nullopt;
  return RunningServe{held->pid, *address};
}

std::string feedback_spamd_address(const std::string& configured, const std::string& state_dir) {
  if (!configured.empty()) return configured;
  auto serve = running_serve(state_dir);
  return serve ? serve->address : kDefaultSpamdSocket;
}

proto::spamd::TellReply tell_spamd(const std::string& address, std::string_view message, TellAs as, int timeout_ms,
                                   std::string* error) {
  using proto::spamd::TellReply;
  int fd = connect_spamd(address, error);
  if (fd < 0) return TellReply::kRefused;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto left = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(0, ms.count()));
  };
  std::string request = as == TellAs::kForget ? proto::spamd::encode_forget_request(message)
                                              : proto::spamd::encode_tell_request(message, as == TellAs::kSpam);
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
  TellReply answer = proto::spamd::read_tell_reply(reply);
  if (answer == TellReply::kNotAllowed)
    *error = fmt::format(
        "the spamd listener {} takes TELLs only from the users in [serve] spamd_tell_users, and uid {} "
        "is not one of them",
        address, ::geteuid());
  else if (answer == TellReply::kUnsaved)
    *error = fmt::format(
        "the spamd listener {} cannot save the model it would learn into (its state directory is not writable by "
        "the user serve runs as; serve's log says so at start)",
        address);
  else if (answer == TellReply::kRefused)
    *error = reply.empty() ? "no answer from the spamd listener " + address
                           : "the spamd listener answered: " + reply.substr(0, reply.find('\r'));
  return answer;
}

}  // namespace sw::daemon

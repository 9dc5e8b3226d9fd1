#include "store/redis_connection.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>

namespace sw::store {
namespace {

struct HostPort {
  std::string host;
  int port = 0;
};

// "1.2.3.4:6379" or "[::1]:6379"; only numeric addresses, so a connect never waits on DNS.
std::optional<HostPort> parse_host_port(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= address.size()) return std::nullopt;
  std::string_view host = address.substr(0, colon), port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port <= 0 || port > 65535) return std::nullopt;
  HostPort out{std::string(host), port};
  unsigned char buf[16];
  if (inet_pton(AF_INET, out.host.c_str(), buf) != 1 && inet_pton(AF_INET6, out.host.c_str(), buf) != 1) {
    return std::nullopt;
  }
  return out;
}

// poll() for `events` until deadline (monotonic ms); false on timeout or error.
bool wait_fd(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    int64_t left = deadline_ms - monotonic_ms();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace

int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string redis_address_error(std::string_view address) {
  if (address.empty()) return "empty Redis address";
  if (address.front() == '/') return "";
  if (!parse_host_port(address)) return "Redis address must be IP:PORT, [IPv6]:PORT or /path/to/socket";
  return "";
}

void RedisConnection::ReplyDeleter::operator()(redisReply* reply) const { freeReplyObject(reply); }

RedisConnection::~RedisConnection() {
  if (context_) redisFree(context_);
}

void RedisConnection::drop(std::string why) {
  if (context_) redisFree(context_), context_ = nullptr;
  reachable_ = false;
  last_error_ = std::move(why);
  backoff_ms_ = backoff_ms_ == 0 ? options_.backoff_min_ms : std::min(backoff_ms_ * 2, options_.backoff_max_ms);
  next_attempt_ms_ = monotonic_ms() + backoff_ms_;
}

// A connect is tried at most once per backoff period; in between, calls fail without any I/O.
bool RedisConnection::ensure_connected(int64_t mono_ms) {
  if (context_) return true;
  if (mono_ms < next_attempt_ms_) return false;
  if (options_.address.starts_with('/')) {
    context_ = redisConnectUnixNonBlock(options_.address.c_str());
  } else if (auto hp = parse_host_port(options_.address)) {
    context_ = redisConnectNonBlock(hp->host.c_str(), hp->port);
  } else {
    drop("bad Redis address " + options_.address);
    return false;
  }
  if (!context_ || context_->err) {
    drop(context_ ? std::string("connect: ") + context_->errstr : "connect: out of memory");
    return false;
  }
  int64_t deadline = mono_ms + options_.connect_timeout_ms;
  if (!wait_connected(deadline) || (on_connect && !on_connect(*this, deadline))) {
    if (context_) drop(last_error_.empty() ? "connect: setup failed" : last_error_);
    return false;
  }
  backoff_ms_ = 0;
  return true;
}

bool RedisConnection::wait_connected(int64_t deadline_ms) {
  if (!wait_fd(context_->fd, POLLOUT, deadline_ms)) {
    drop("connect: timed out");
    return false;
  }
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(context_->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
    drop(std::string("connect: ") + std::strerror(error ? error : errno));
    return false;
  }
  return true;
}

RedisConnection::Reply RedisConnection::command(const std::vector<std::string>& argv, int64_t deadline_ms) {
  int64_t start = monotonic_ms();
  bool reused = context_ != nullptr;
  if (!ensure_connected(start)) return nullptr;
  int64_t deadline = deadline_ms ? deadline_ms : start + options_.command_timeout_ms;
  Reply reply = send(argv, deadline);
  // A connection kept from before that Redis closed (it restarted): the command never reached a
  // server that could run it, so it is sent once more on a fresh connection. Not after a
  // timeout: a server that is slow may still run it.
  if (!reply && reused && !last_error_.ends_with("timed out")) {
    next_attempt_ms_ = 0;
    if (ensure_connected(monotonic_ms())) reply = send(argv, deadline);
  }
  if (reply) reachable_ = true;
  return reply;
}

RedisConnection::Reply RedisConnection::send(const std::vector<std::string>& argv, int64_t deadline_ms) {
  if (!context_) return nullptr;
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const auto& a : argv) args.push_back(a.data()), lengths.push_back(a.size());
  redisAppendCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data());
  for (int done = 0; !done;) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) return drop("write: " + std::string(context_->errstr)), nullptr;
    if (!done && !wait_fd(context_->fd, POLLOUT, deadline_ms)) return drop("write: timed out"), nullptr;
  }
  for (;;) {
    void* reply = nullptr;
    if (redisReaderGetReply(context_->reader, &reply) != REDIS_OK) return drop("protocol error"), nullptr;
    if (reply) return Reply(static_cast<redisReply*>(reply));
    if (!wait_fd(context_->fd, POLLIN, deadline_ms)) return drop("read: timed out"), nullptr;
    if (redisBufferRead(context_) != REDIS_OK) return drop("read: " + std::string(context_->errstr)), nullptr;
  }
}

}  // namespace sw::store

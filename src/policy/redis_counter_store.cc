// redis_counter_store.cc - see redis_counter_store.h and docs/serve.md ("Fleets").
#include "policy/redis_counter_store.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace sw::policy {
namespace {

// One sorted set per counter key: member = running total after an add, score = time of the add
// (ms). The sum over (now - window, now] is the newest total minus the newest total at or before
// now - window: two O(log n) look-ups, exact to the millisecond, whatever window the caller asks
// for. Entries older than the retention are pruned, except the one at the edge that serves as the
// base. An add from a server whose clock is behind is placed at the newest time already stored, so
// totals and times stay in the same order.
// KEYS[1] = key; ARGV = amount, now_ms, window_ms, retention_ms.
constexpr const char* kScript = R"lua(
local key = KEYS[1]
local amount = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local keep = math.max(tonumber(ARGV[4]), window)
local newest = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
local total = 0
local at = now
if #newest > 0 then
  total = tonumber(newest[1])
  at = math.max(now, tonumber(newest[2]))
end
if amount > 0 then
  total = total + amount
  redis.call('ZADD', key, string.format('%d', at), string.format('%d', total))
  redis.call('PEXPIRE', key, string.format('%d', keep + 1000))
  local edge = redis.call('ZREVRANGEBYSCORE', key, string.format('%d', now - keep), '-inf',
                          'WITHSCORES', 'LIMIT', 0, 1)
  if #edge > 0 then redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. edge[2]) end
end
local base = redis.call('ZREVRANGEBYSCORE', key, string.format('%d', now - window), '-inf', 'LIMIT', 0, 1)
if #base > 0 then return total - tonumber(base[1]) end
return total
)lua";

int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

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

std::string redis_address_error(std::string_view address) {
  if (address.empty()) return "empty Redis address";
  if (address.front() == '/') return "";
  if (!parse_host_port(address)) return "Redis address must be IP:PORT, [IPv6]:PORT or /path/to/socket";
  return "";
}

void RedisCounterStore::ReplyDeleter::operator()(void* reply) const { freeReplyObject(reply); }

RedisCounterStore::RedisCounterStore(RedisCounterOptions options) : options_(std::move(options)) {}

RedisCounterStore::~RedisCounterStore() {
  if (context_) redisFree(context_);
}

std::optional<uint64_t> RedisCounterStore::add(std::string_view key, uint64_t amount, int64_t now_ms,
                                               int64_t window_ms) {
  return run_script(key, amount, now_ms, window_ms);
}

std::optional<uint64_t> RedisCounterStore::sum(std::string_view key, int64_t now_ms, int64_t window_ms) {
  return run_script(key, 0, now_ms, window_ms);
}

bool RedisCounterStore::reachable() const {
  std::lock_guard lock(mutex_);
  return reachable_;
}

std::string RedisCounterStore::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void RedisCounterStore::drop(std::string why, int64_t mono_ms) {
  if (context_) redisFree(context_), context_ = nullptr;
  script_sha_.clear();
  reachable_ = false;
  last_error_ = std::move(why);
  backoff_ms_ = backoff_ms_ == 0 ? options_.backoff_min_ms : std::min(backoff_ms_ * 2, options_.backoff_max_ms);
  next_attempt_ms_ = mono_ms + backoff_ms_;
}

// A connect is tried at most once per backoff period; in between, calls fail without any I/O.
bool RedisCounterStore::ensure_connected(int64_t mono_ms) {
  if (context_) return true;
  if (mono_ms < next_attempt_ms_) return false;
  if (options_.address.starts_with('/')) {
    context_ = redisConnectUnixNonBlock(options_.address.c_str());
  } else if (auto hp = parse_host_port(options_.address)) {
    context_ = redisConnectNonBlock(hp->host.c_str(), hp->port);
  } else {
    drop("bad Redis address " + options_.address, mono_ms);
    return false;
  }
  if (!context_ || context_->err) {
    drop(context_ ? std::string("connect: ") + context_->errstr : "connect: out of memory", mono_ms);
    return false;
  }
  int64_t deadline = mono_ms + options_.connect_timeout_ms;
  if (!wait_connected(deadline) || !load_script(deadline)) return false;
  backoff_ms_ = 0;
  return true;
}

bool RedisCounterStore::wait_connected(int64_t deadline_ms) {
  if (!wait_fd(context_->fd, POLLOUT, deadline_ms)) {
    drop("connect: timed out", monotonic_ms());
    return false;
  }
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(context_->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
    drop(std::string("connect: ") + std::strerror(error ? error : errno), monotonic_ms());
    return false;
  }
  return true;
}

bool RedisCounterStore::load_script(int64_t deadline_ms) {
  Reply reply = command({"SCRIPT", "LOAD", kScript}, deadline_ms);
  if (!reply) return false;
  auto* r = static_cast<redisReply*>(reply.get());
  if (r->type != REDIS_REPLY_STRING) {
    drop("SCRIPT LOAD: " + std::string(r->str ? r->str : "unexpected reply"), monotonic_ms());
    return false;
  }
  script_sha_.assign(r->str, r->len);
  return true;
}

RedisCounterStore::Reply RedisCounterStore::command(const std::vector<std::string>& argv, int64_t deadline_ms) {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const auto& a : argv) args.push_back(a.data()), lengths.push_back(a.size());
  redisAppendCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data());
  for (int done = 0; !done;) {
    if (redisBufferWrite(context_, &done) != REDIS_OK)
      return drop("write: " + std::string(context_->errstr), monotonic_ms()), nullptr;
    if (!done && !wait_fd(context_->fd, POLLOUT, deadline_ms)) return drop("write: timed out", monotonic_ms()), nullptr;
  }
  for (;;) {
    void* reply = nullptr;
    if (redisReaderGetReply(context_->reader, &reply) != REDIS_OK) {
      return drop("protocol error", monotonic_ms()), nullptr;
    }
    if (reply) return Reply(reply);
    if (!wait_fd(context_->fd, POLLIN, deadline_ms)) return drop("read: timed out", monotonic_ms()), nullptr;
    if (redisBufferRead(context_) != REDIS_OK)
      return drop("read: " + std::string(context_->errstr), monotonic_ms()), nullptr;
  }
}

std::optional<uint64_t> RedisCounterStore::run_script(std::string_view key, uint64_t amount, int64_t now_ms,
                                                      int64_t window_ms) {
  std::lock_guard lock(mutex_);
  int64_t start = monotonic_ms();
  if (!ensure_connected(start)) return std::nullopt;
  std::string full_key = options_.key_prefix + std::string(key);
  std::vector<std::string> argv = {"EVALSHA",
                                   script_sha_,
                                   "1",
                                   full_key,
                                   std::to_string(amount),
                                   std::to_string(now_ms),
                                   std::to_string(std::max<int64_t>(window_ms, 1)),
                                   std::to_string(options_.retention_ms)};
  int64_t deadline = start + options_.command_timeout_ms;
  Reply reply = command(argv, deadline);
  auto* r = static_cast<redisReply*>(reply.get());
  if (r && r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("NOSCRIPT")) {
    argv[0] = "EVAL", argv[1] = kScript;  // flushed or a new server behind the address: EVAL caches it again
    reply = command(argv, deadline);
    r = static_cast<redisReply*>(reply.get());
  }
  if (!r) return std::nullopt;
  if (r->type != REDIS_REPLY_INTEGER) {
    last_error_ = r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "unexpected reply type";
    reachable_ = true;  // the connection is fine, the server refused (e.g. OOM, wrong type at the key)
    return std::nullopt;
  }
  reachable_ = true;
  return static_cast<uint64_t>(std::max<long long>(r->integer, 0));
}

}  // namespace sw::policy

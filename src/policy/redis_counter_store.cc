// redis_counter_store.cc - see redis_counter_store.h and docs/serve.md ("Fleets").
#include "policy/redis_counter_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>

namespace sw::policy {
namespace {

// One sorted set per counter key: member = running total after an add, score = time of the add
// (ms). The sum over (now - window, now] is the newest total minus the newest total at or before
// now - window: two O(log n) look-ups, exact to the millisecond, whatever window the caller asks
// for. Entries older than the retention are pruned, except the one at the edge that serves as the
// base. Totals are written zero-padded: adds in the same millisecond share a score, and Redis
// orders those by member as text, where "9" would come after "10" and lose a count. An add from
// a server whose clock is behind is placed at the newest time already stored, so totals and
// times stay in the same order.
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
  redis.call('ZADD', key, string.format('%d', at), string.format('%020d', total))
  redis.call('PEXPIRE', key, string.format('%d', keep + 1000))
  local edge = redis.call('ZREVRANGEBYSCORE', key, string.format('%d', now - keep), '-inf',
                          'WITHSCORES', 'LIMIT', 0, 1)
  if #edge > 0 then redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. edge[2]) end
end
local base = redis.call('ZREVRANGEBYSCORE', key, string.format('%d', now - window), '-inf', 'LIMIT', 0, 1)
if #base > 0 then return total - tonumber(base[1]) end
return total
)lua";

}  // namespace

RedisCounterStore::RedisCounterStore(RedisCounterOptions options)
    : options_(std::move(options)), redis_({options_.address, options_.connect_timeout_ms, options_.command_timeout_ms,
                                            options_.backoff_min_ms, options_.backoff_max_ms}) {
  redis_.on_connect = [this](store::RedisConnection& c, int64_t deadline) { return load_script(c, deadline); };
}

RedisCounterStore::~RedisCounterStore() = default;

std::optional<uint64_t> RedisCounterStore::add(std::string_view key, uint64_t amount, int64_t now_ms,
                                               int64_t window_ms) {
  return run_script(key, amount, now_ms, window_ms);
}

std::optional<uint64_t> RedisCounterStore::sum(std::string_view key, int64_t now_ms, int64_t window_ms) {
  return run_script(key, 0, now_ms, window_ms);
}

bool RedisCounterStore::reachable() const {
  std::lock_guard lock(mutex_);
  return redis_.reachable();
}

std::string RedisCounterStore::last_error() const {
  std::lock_guard lock(mutex_);
  return redis_.last_error();
}

bool RedisCounterStore::load_script(store::RedisConnection& c, int64_t deadline_ms) {
  auto reply = c.send({"SCRIPT", "LOAD", kScript}, deadline_ms);
  if (!reply) return false;
  if (reply->type != REDIS_REPLY_STRING) {
    c.drop("SCRIPT LOAD: " + std::string(reply->str ? reply->str : "unexpected reply"));
    return false;
  }
  script_sha_.assign(reply->str, reply->len);
  return true;
}

std::optional<uint64_t> RedisCounterStore::run_script(std::string_view key, uint64_t amount, int64_t now_ms,
                                                      int64_t window_ms) {
  std::lock_guard lock(mutex_);
  int64_t deadline = store::monotonic_ms() + options_.command_timeout_ms;
  std::string full_key = options_.key_prefix + std::string(key);
  // Before the first connect the sha is not known yet: EVAL sends the script itself.
  std::vector<std::string> argv = {script_sha_.empty() ? "EVAL" : "EVALSHA",
                                   script_sha_.empty() ? kScript : script_sha_,
                                   "1",
                                   full_key,
                                   std::to_string(amount),
                                   std::to_string(now_ms),
                                   std::to_string(std::max<int64_t>(window_ms, 1)),
                                   std::to_string(options_.retention_ms)};
  auto r = redis_.command(argv, deadline);
  if (r && r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("NOSCRIPT")) {
    argv[0] = "EVAL", argv[1] = kScript;  // flushed or a new server behind the address: EVAL caches it again
    r = redis_.command(argv, deadline);
  }
  if (!r) return std::nullopt;
  if (r->type != REDIS_REPLY_INTEGER) {
    // The connection is fine, the server refused (e.g. OOM, wrong type at the key).
    redis_.note_refused(r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "unexpected reply type");
    return std::nullopt;
  }
  return static_cast<uint64_t>(std::max<long long>(r->integer, 0));
}

}  // namespace sw::policy

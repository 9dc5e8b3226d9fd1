#include "classify/model_journal.h"

#include <hiredis/hiredis.h>

namespace sw::classify {
namespace {

// Stream ids compared as two numbers (milliseconds fit a Lua number exactly); what is not an id
// counts as 0-0, so a damaged hash neither stops every server's sync nor outranks a snapshot.
constexpr const char* kIdLess = R"lua(
local function parts(id)
  local ms, seq = string.match(tostring(id), '^(%d+)-(%d+)$')
  if not ms then return 0, 0 end  -- not an id (a damaged hash): as if at the start
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parts(a)
  local bm, bs = parts(b)
  return am < bm or (am == bm and as < bs)
end
)lua";

// KEYS: journal, snapshot; ARGV: after, count. {1} when entries after `after` were trimmed,
// else {0, entries, 1 if a usable snapshot is stored (not marked damaged)}: one script, so no
// trim can fall between the check and the read.
const std::string kReadScript = std::string(kIdLess) + R"lua(
local trimmed = redis.call('HGET', KEYS[2], 'trimmed')
if trimmed and less(ARGV[1], trimmed) then return {1} end
local snapshot = redis.call('HEXISTS', KEYS[2], 'model')
if redis.call('HEXISTS', KEYS[2], 'damaged') == 1 then snapshot = 0 end
return {0, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2]), snapshot}
)lua";

// KEYS: journal, snapshot; ARGV: position, model. 1 when stored. A damaged snapshot is replaced
// by one at its own position too.
const std::string kStoreScript = std::string(kIdLess) + R"lua(
local position = redis.call('HGET', KEYS[2], 'position')
local damaged = redis.call('HEXISTS', KEYS[2], 'damaged') == 1
if position and (less(ARGV[1], position) or (position == ARGV[1] and not damaged)) then return 0 end
local trim = position or '0-0'
redis.call('HDEL', KEYS[2], 'damaged')
redis.call('HSET', KEYS[2], 'position', ARGV[1], 'model', ARGV[2], 'trimmed', trim)
redis.call('XTRIM', KEYS[1], 'MINID', trim)
return 1
)lua";

std::string text_of(const redisReply* r) { return r && r->str ? std::string(r->str, r->len) : std::string(); }

}  // namespace

ModelJournal::ModelJournal(ModelJournalOptions options)
    : options_(std::move(options)), redis_({.address = options_.address,
                                            .connect_timeout_ms = options_.connect_timeout_ms,
                                            .command_timeout_ms = options_.command_timeout_ms,
                                            .backoff_min_ms = 50,  // learning waits on it: try again soon
                                            .backoff_max_ms = 1000}),
      journal_key_(options_.key_prefix + "content:journal"), snapshot_key_(options_.key_prefix + "content:snapshot") {}

store::RedisConnection::Reply ModelJournal::run(const std::vector<std::string>& argv, int timeout_ms) {
  auto reply = redis_.command(argv, timeout_ms ? store::monotonic_ms() + timeout_ms : 0);
  if (!reply) {
    error_ = "Redis " + options_.address + ": " + redis_.last_error();
  } else if (reply->type == REDIS_REPLY_ERROR) {
    error_ = "Redis " + options_.address + " refused " + argv[0] + ": " + text_of(reply.get());
    return nullptr;
  }
  return reply;
}

std::optional<StreamId> ModelJournal::append(const std::string& entry) {
  // A TELL waits on it: a Redis that hangs must not hold spamd's threads for long.
  auto reply = run({"XADD", journal_key_, "*", "e", entry}, 1000);
  if (!reply) return std::nullopt;
  auto id = StreamId::parse(text_of(reply.get()));
  if (!id) error_ = "Redis answered XADD with no entry id";
  return id;
}

std::optional<ModelJournal::Batch> ModelJournal::read_after(StreamId after, std::size_t max) {
  auto reply = run({"EVAL", kReadScript, "2", journal_key_, snapshot_key_, after.text(), std::to_string(max)}, 2000);
  if (!reply) return std::nullopt;
  Batch batch;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
    error_ = "Redis answered the journal read with something else";
    return std::nullopt;
  }
  if (reply->element[0]->integer == 1) {
    batch.behind_trim = true;
    return batch;
  }
  const redisReply* entries = reply->elements > 1 ? reply->element[1] : nullptr;
  batch.snapshot_stored = reply->elements > 2 && reply->element[2]->integer == 1;
  for (std::size_t i = 0; entries && entries->type == REDIS_REPLY_ARRAY && i < entries->elements; ++i) {
    const redisReply* e = entries->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
    auto id = StreamId::parse(text_of(e->element[0]));
    if (!id) continue;
    std::string bytes;
    const redisReply* fields = e->element[1];
    for (std::size_t f = 0; fields->type == REDIS_REPLY_ARRAY && f + 1 < fields->elements; f += 2)
      if (text_of(fields->element[f]) == "e") bytes = text_of(fields->element[f + 1]);
    batch.entries.emplace_back(*id, std::move(bytes));  // a foreign entry stays, to be refused by its decoder
  }
  return batch;
}

std::optional<std::optional<ModelJournal::Snapshot>> ModelJournal::snapshot() {
  auto reply = run({"HMGET", snapshot_key_, "position", "model"});
  if (!reply) return std::nullopt;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
    error_ = "Redis answered HMGET with something else";
    return std::nullopt;
  }
  if (reply->element[0]->type == REDIS_REPLY_NIL) return std::optional<Snapshot>();
  auto position = StreamId::parse(text_of(reply->element[0]));
  if (!position) {
    error_ = "the fleet's model snapshot has no valid position";
    return std::nullopt;
  }
  return std::optional<Snapshot>(Snapshot{*position, text_of(reply->element[1])});
}

bool ModelJournal::store_snapshot(StreamId position, const std::string& model) {
  auto reply = run({"EVAL", kStoreScript, "2", journal_key_, snapshot_key_, position.text(), model});
  if (!reply) return false;
  if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
    error_ = "a snapshot at or past " + position.text() + " is stored already";
    return false;
  }
  return true;
}

// KEYS: snapshot; ARGV: position, why. Marks the snapshot at that position only: one stored
// since by another server is not touched.
const std::string kMarkScript = R"lua(
if redis.call('HGET', KEYS[1], 'position') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'damaged', ARGV[2])
return 1
)lua";

bool ModelJournal::mark_snapshot_damaged(StreamId position, const std::string& why) {
  auto reply = run({"EVAL", kMarkScript, "1", snapshot_key_, position.text(), why});
  return reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
}

std::optional<uint64_t> ModelJournal::length() {
  auto reply = run({"XLEN", journal_key_});
  if (!reply || reply->type != REDIS_REPLY_INTEGER) return std::nullopt;
  return uint64_t(reply->integer);
}

}  // namespace sw::classify

#include "stats/actor_story.h"

#include <algorithm>
#include <emmintrin.h>

#include <cstring>
#include <functional>

#include "base/text.h"
#include "eximlog/line_parser.h"

namespace sw::stats {

using detect::ActorType;
using eximlog::LineKind;
using eximlog::LogLine;

namespace {

constexpr std::array<unsigned char, 256> kLowerBytes = [] {
  std::array<unsigned char, 256> t{};
  for (size_t i = 0; i < 256; ++i) t[i] = (i >= 'A' && i <= 'Z') ? (unsigned char)(i + 32) : (unsigned char)i;
  return t;
}();

bool equal_folded(const char* at, std::string_view needle) {
  for (size_t i = 0; i < needle.size(); ++i)
    if (kLowerBytes[(unsigned char)at[i]] != (unsigned char)needle[i]) return false;
  return true;
}

}  // namespace

// 16 places at a time: a place is a candidate when its first and last bytes match the
// needle's, letters compared with the 0x20 bit set (which maps 'A'-'Z' and only them onto
// 'a'-'z'); candidates are then compared whole.
size_t find_folded(std::string_view hay, std::string_view needle, size_t from) {
  size_t n = needle.size();
  if (n == 0 || hay.size() < n || from > hay.size() - n) return std::string_view::npos;
  auto fold_bit = [](char c) { return char(c >= 'a' && c <= 'z' ? 0x20 : 0); };
  const __m128i fold_first = _mm_set1_epi8(fold_bit(needle[0])), fold_last = _mm_set1_epi8(fold_bit(needle[n - 1]));
  const __m128i first = _mm_set1_epi8(needle[0]), last = _mm_set1_epi8(needle[n - 1]);
  const char* h = hay.data();
  size_t pos = from;
  for (; pos + n - 1 + 16 <= hay.size(); pos += 16) {
    __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + pos)), fold_first);
    __m128i b = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + pos + n - 1)), fold_last);
    auto mask = unsigned(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
    for (; mask; mask &= mask - 1) {
      size_t at = pos + size_t(__builtin_ctz(mask));
      if (equal_folded(h + at, needle)) return at;
    }
  }
  for (; pos + n <= hay.size(); ++pos)
    if (equal_folded(h + pos, needle)) return pos;
  return std::string_view::npos;
}

namespace {

bool starts_with_at(std::string_view s, size_t at, std::string_view prefix) {
  return at <= s.size() && s.substr(at).starts_with(prefix);
}

bool script_dir_matches(std::string_view dir, std::string_view key) {
  if (!dir.starts_with(key)) return false;
  return dir.size() == key.size() || dir[key.size()] == '/' || key.ends_with('/');
}

}  // namespace

std::string_view line_message_id(std::string_view raw, size_t* text_start) {
  if (text_start) *text_start = std::string_view::npos;
  if (raw.size() < 21 || raw[4] != '-' || raw[10] != ' ' || raw[13] != ':') return {};
  size_t p = 19;
  if (raw[p] == '.') p += 4;  // +millisec
  if (starts_with_at(raw, p, " +") || starts_with_at(raw, p, " -")) p += 6;
  if (starts_with_at(raw, p, " [")) {
    size_t close = raw.find(']', p);
    if (close == std::string_view::npos) return {};
    p = close + 1;
  }
  if (p >= raw.size() || raw[p] != ' ') return {};
  ++p;
  if (text_start) *text_start = p;
  size_t n = eximlog::message_id_prefix(raw.substr(p));
  if (n == 0) return {};
  if (text_start) *text_start = std::min(raw.size(), p + n + 1);
  return raw.substr(p, n);
}

StoryPrefilter::StoryPrefilter(const detect::ActorRef& actor)
    : actor_(actor), fold_case_(actor.type == ActorType::AuthAccount || actor.type == ActorType::Sender),
      want_cwd_(actor.type == ActorType::Script) {
  if (fold_case_) actor_.key = to_lower(actor_.key);
}

void StoryPrefilter::mark_hits(std::string_view block, std::vector<size_t>& line_starts) const {
  const std::string& key = actor_.key;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t hit;
    if (fold_case_) {
      hit = find_folded(block, key, pos);
    } else {
      const void* p = memmem(block.data() + pos, block.size() - pos, key.data(), key.size());
      hit = p ? size_t(static_cast<const char*>(p) - block.data()) : std::string_view::npos;
    }
    if (hit == std::string_view::npos) return;
    size_t start = block.rfind('\n', hit);
    start = start == std::string_view::npos ? 0 : start + 1;
    line_starts.push_back(start);
    const void* nl = memchr(block.data() + hit, '\n', block.size() - hit);
    pos = nl ? size_t(static_cast<const char*>(nl) - block.data()) + 1 : block.size();
  }
}

uint64_t StoryPrefilter::run(std::string_view block, std::vector<PrefilteredLine>& out) const {
  thread_local std::vector<size_t> hits;
  hits.clear();
  if (!actor_.key.empty()) mark_hits(block, hits);
  size_t next_hit = 0, pos = 0;
  uint64_t lines = 0;
  while (pos < block.size()) {
    ++lines;
    const void* nl = memchr(block.data() + pos, '\n', block.size() - pos);
    size_t end = nl ? size_t(static_cast<const char*>(nl) - block.data()) : block.size();
    std::string_view raw = block.substr(pos, end - pos);
    PrefilteredLine line;
    if (next_hit < hits.size() && hits[next_hit] == pos) {
      line.flags |= PrefilteredLine::kKeyHit;
      ++next_hit;
    }
    pos = end + 1;
    size_t text = 0;
    std::string_view id = line_message_id(raw, &text);
    if (!id.empty()) {
      line.flags |= PrefilteredLine::kHasId;
      line.id = eximlog::message_key(id);
      std::string_view rest = raw.substr(text);
      if (rest.starts_with("<= ")) {
        line.flags |= PrefilteredLine::kArrival;
        if (rest.starts_with("<= <> R=")) {
          std::string_view parent = rest.substr(8);
          size_t n = eximlog::message_id_prefix(parent);
          if (n) {
            line.flags |= PrefilteredLine::kBounceArrival;
            line.parent = eximlog::message_key(parent.substr(0, n));
          }
        }
      }
    } else if (want_cwd_ && text != std::string_view::npos && starts_with_at(raw, text, "cwd=")) {
      line.flags |= PrefilteredLine::kCwd;
    }
    if (line.flags == 0) continue;
    line.raw = raw;
    out.push_back(line);
  }
  return lines;
}

StoryBuilder::StoryBuilder(const detect::ActorRef& actor, CivilSeconds since, CivilSeconds until, LineSink sink)
    : since_(since), until_(until), sink_(std::move(sink)) {
  story_.actor = actor;
}

void StoryBuilder::keep(const LogLine& l, std::string_view raw) {
  ++story_.lines;
  if (story_.first == 0 || l.time < story_.first) story_.first = l.time;
  if (l.time > story_.last) story_.last = l.time;
  if (sink_) sink_(raw);
}

bool StoryBuilder::names_actor(const LogLine& l) const {
  const std::string& key = story_.actor.key;
  switch (story_.actor.type) {
    case ActorType::AuthAccount: return !l.auth_id.empty() && to_lower(l.auth_id) == key;
    case ActorType::Sender: return l.kind == LineKind::Arrival && !l.address.empty() && to_lower(l.address) == key;
    case ActorType::ClientIp:  // what that client did here, not deliveries to a server at that address
      return l.host_ip == key &&
             (l.kind == LineKind::Arrival || l.kind == LineKind::RejectRcpt || l.kind == LineKind::Reject ||
              l.kind == LineKind::AuthFailure || l.kind == LineKind::Connection);
    case ActorType::LocalUser:
      // Bounces Exim makes itself (<> with R=) are not the user's own mail.
      return l.kind == LineKind::Arrival && is_local_submission(l) && l.ident == key &&
             !(l.address.empty() && !l.router.empty());
    case ActorType::Script: return false;  // by its cwd= line, see on_cwd
  }
  return false;
}

void StoryBuilder::on_arrival(const LogLine& l, std::string_view raw) {
  keep(l, raw);
  ActorStory& s = story_;
  ++s.messages;
  s.bytes += l.size;
  if (s.first_message == 0) s.first_message = l.time;
  s.last_message = std::max(s.last_message, l.time);
  uint32_t rcpts = 0;
  eximlog::for_each_recipient(l.recipients, [&](std::string_view r) {
    ++rcpts;
    std::string_view domain = domain_of(r);
    ++s.recipient_domains[domain.empty() ? "(none)" : to_lower(domain)];
  });
  s.recipients += rcpts;
  CivilSeconds minute = l.time - l.time % 60;
  ++s.minutes[minute].messages;
  s.minutes[minute].recipients += rcpts;
  if (!l.host_ip.empty()) ++s.client_ips[std::string(l.host_ip)];
  if (!l.subject.empty()) ++s.subjects[printable(unescape_exim(l.subject), 200)];
  s.message_ids.emplace_back(l.message_id);
  Message& m = inflight_[eximlog::message_key(l.message_id)];
  m = Message{};
  m.listed = rcpts > 0;
}

void StoryBuilder::on_attempt(const LogLine& l, std::string_view raw) {
  keep(l, raw);
  bool attempt = true;
  if (l.kind == LineKind::RejectRcpt) ++story_.rejected_recipients;
  else if (l.kind == LineKind::AuthFailure) ++story_.failed_logins;
  else if (l.kind == LineKind::Reject) ++story_.other_rejections;
  else attempt = false;  // connections, lost sessions: shown, not counted
  if (!attempt) return;
  ++story_.minutes[l.time - l.time % 60].attempts;
  if (!l.host_ip.empty()) ++story_.client_ips[std::string(l.host_ip)];
}

void StoryBuilder::on_message_line(Message& m, const LogLine& l, std::string_view raw) {
  keep(l, raw);
  if (!m.own) {
    if (l.kind == LineKind::Completed) inflight_.erase(eximlog::message_key(l.message_id));
    return;
  }
  ActorStory& s = story_;
  switch (l.kind) {
    case LineKind::Delivery:
    case LineKind::Defer:
    case LineKind::Bounce: {
      if (l.kind == LineKind::Delivery && l.delivery == eximlog::DeliveryFlag::Suppressed) break;
      if (!m.listed) {  // no "for" list: recipients are the distinct addresses of its outcomes
        auto h = uint32_t(std::hash<std::string_view>{}(l.original.empty() ? l.address : l.original));
        if (std::find(m.seen.begin(), m.seen.end(), h) == m.seen.end()) {
          m.seen.push_back(h);
          ++s.recipients;
          std::string_view domain = domain_of(l.original.empty() ? l.address : l.original);
          ++s.recipient_domains[domain.empty() ? "(none)" : to_lower(domain)];
        }
      }
      if (l.kind == LineKind::Delivery) ++s.delivered;
      else if (l.kind == LineKind::Defer) ++s.deferred;
      else ++s.failed;
      break;
    }
    case LineKind::Frozen: ++s.frozen; break;
    case LineKind::Completed:
      ++s.completed;
      inflight_.erase(eximlog::message_key(l.message_id));
      break;
    default: break;
  }
}

bool StoryBuilder::on_cwd(const LogLine& l) {
  if (!eximlog::is_submission_cwd(l.cwd, l.args)) return false;
  if (l.pid) story_.pid_seen = true;
  bool ours = script_dir_matches(l.cwd, story_.actor.key);
  cwd_.add(l.time, l.pid, ours ? 1 : 0, l.cwd);
  return ours;
}

void StoryBuilder::add(const PrefilteredLine& p) {
  bool script = story_.actor.type == ActorType::Script;
  Message* joined = (p.flags & PrefilteredLine::kHasId) && inflight_.size() ? inflight_.find(p.id) : nullptr;
  bool parent_joined = (p.flags & PrefilteredLine::kBounceArrival) && inflight_.size() && inflight_.find(p.parent);
  bool pairs_cwd = script && (p.flags & (PrefilteredLine::kCwd | PrefilteredLine::kArrival));
  if (!(p.flags & PrefilteredLine::kKeyHit) && !joined && !parent_joined && !pairs_cwd) return;
  LogLine l;
  eximlog::parse_line(p.raw, l);
  if (!in_range(l)) return;
  if (joined) return on_message_line(*joined, l, p.raw);
  if (parent_joined && l.kind == LineKind::Arrival) {  // a bounce of the actor's mail
    keep(l, p.raw);
    ++story_.bounces_generated;
    Message& child = inflight_[p.id];
    child = Message{};
    child.own = false;
    return;
  }
  if (script) {
    if (l.kind == LineKind::Cwd) {
      if (on_cwd(l)) keep(l, p.raw);
    } else if (l.kind == LineKind::Arrival && is_local_submission(l) && cwd_.take(l.time, l.pid, l.ident) == 1) {
      on_arrival(l, p.raw);
    }
    return;
  }
  if (!(p.flags & PrefilteredLine::kKeyHit) || !names_actor(l)) return;
  if (l.kind == LineKind::Arrival && !l.message_id.empty()) on_arrival(l, p.raw);
  else on_attempt(l, p.raw);
}

int64_t timeline_bucket(int64_t span_seconds, size_t max_rows) {
  static constexpr int64_t kBuckets[] = {60,       300,      600,       900,   1800,      3600,      2 * 3600,
                                         3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400, 30 * 86400};
  for (int64_t b : kBuckets)
    if (span_seconds / b + 1 <= int64_t(max_rows)) return b;
  return 365 * 86400;
}

}  // namespace sw::stats

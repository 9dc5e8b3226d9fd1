#include "stats/actor_story.h"

#include <algorithm>
#include <immintrin.h>

#include <cstring>
#include <functional>

#include "base/text.h"
#include "eximlog/line_parser.h"
#include "eximlog/sender_identities.h"

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

// A subject as its mail wrote it, its first 200 bytes (not within a character): the text report
// masks what a terminal would obey, the JSON writes bytes that are not UTF-8 as U+FFFD, as the
// report's subject table does.
std::string subject_key(std::string_view logged) {
  std::string subject = unescape_exim(logged);
  if (subject.size() > 200) {
    size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(subject[cut]) & 0xC0) == 0x80) --cut;
    subject.resize(cut);
  }
  return subject;
}

// A recipient as the message's outcomes and "for" list write it, to tell one from another.
uint32_t address_hash(std::string_view address) { return uint32_t(std::hash<std::string_view>{}(address)); }

bool equal_folded(const char* at, std::string_view needle) {
  for (size_t i = 0; i < needle.size(); ++i)
    if (kLowerBytes[(unsigned char)at[i]] != (unsigned char)needle[i]) return false;
  return true;
}

}  // namespace

// A place is a candidate when its first and last bytes match the needle's, then it is
// compared whole; 16 places at a time with SSE2, 32 with AVX2 where the CPU has it (half the
// instructions: the search is a fifth of a story's CPU). Folded: letters compared with the
// 0x20 bit set (which maps 'A'-'Z' and only them onto 'a'-'z'). glibc's memmem checks far
// more candidates for a path key, whose first bytes ("/home/") begin every cwd= line.
namespace {

template <bool kFold>
struct NeedleMatch {
  std::string_view needle;
  static char fold_bit(char c) { return char(kFold && c >= 'a' && c <= 'z' ? 0x20 : 0); }
  bool operator()(const char* at) const {
    if constexpr (kFold) return equal_folded(at, needle);
    else return std::memcmp(at, needle.data(), needle.size()) == 0;
  }
  // The first match among the candidates of `mask` (bit i: place pos + i).
  size_t first_of(const char* h, size_t pos, uint32_t mask) const {
    for (; mask; mask &= mask - 1)
      if (size_t at = pos + size_t(__builtin_ctz(mask)); (*this)(h + at)) return at;
    return std::string_view::npos;
  }
};

template <bool kFold>
size_t find_needle_sse2(std::string_view hay, const NeedleMatch<kFold>& match, size_t pos) {
  std::string_view needle = match.needle;
  size_t n = needle.size();
  const __m128i fold_first = _mm_set1_epi8(match.fold_bit(needle[0]));
  const __m128i fold_last = _mm_set1_epi8(match.fold_bit(needle[n - 1]));
  const __m128i first = _mm_set1_epi8(needle[0]), last = _mm_set1_epi8(needle[n - 1]);
  const char* h = hay.data();
  for (; pos + n - 1 + 16 <= hay.size(); pos += 16) {
    __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + pos)), fold_first);
    __m128i b = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + pos + n - 1)), fold_last);
    auto mask = uint32_t(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
    if (size_t at = match.first_of(h, pos, mask); at != std::string_view::npos) return at;
  }
  for (; pos + n <= hay.size(); ++pos)
    if (match(h + pos)) return pos;
  return std::string_view::npos;
}

template <bool kFold>
__attribute__((target("avx2"))) size_t find_needle_avx2(std::string_view hay, const NeedleMatch<kFold>& match,
                                                        size_t pos) {
  std::string_view needle = match.needle;
  size_t n = needle.size();
  const __m256i fold_first = _mm256_set1_epi8(match.fold_bit(needle[0]));
  const __m256i fold_last = _mm256_set1_epi8(match.fold_bit(needle[n - 1]));
  const __m256i first = _mm256_set1_epi8(needle[0]), last = _mm256_set1_epi8(needle[n - 1]);
  const char* h = hay.data();
  for (; pos + n - 1 + 32 <= hay.size(); pos += 32) {
    __m256i a = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + pos)), fold_first);
    __m256i b = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + pos + n - 1)), fold_last);
    auto mask =
        uint32_t(_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(a, first), _mm256_cmpeq_epi8(b, last))));
    if (size_t at = match.first_of(h, pos, mask); at != std::string_view::npos) return at;
  }
  return find_needle_sse2(hay, match, pos);  // the last few places
}

const bool kHaveAvx2 = __builtin_cpu_supports("avx2");

template <bool kFold>
size_t find_needle(std::string_view hay, std::string_view needle, size_t from, bool avx2 = kHaveAvx2) {
  size_t n = needle.size();
  if (n == 0 || hay.size() < n || from > hay.size() - n) return std::string_view::npos;
  NeedleMatch<kFold> match{needle};
  return avx2 ? find_needle_avx2(hay, match, from) : find_needle_sse2(hay, match, from);
}

}  // namespace

size_t find_folded(std::string_view hay, std::string_view needle, size_t from) {
  return find_needle<true>(hay, needle, from);
}

size_t find_folded_sse2(std::string_view hay, std::string_view needle, size_t from) {
  return find_needle<true>(hay, needle, from, false);
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

// Called on every line of the log: bytes are compared one by one, not through memcmp calls.
std::string_view line_message_id(std::string_view raw, size_t* text_start) {
  if (text_start) *text_start = std::string_view::npos;
  size_t n = raw.size();
  if (n < 21 || raw[4] != '-' || raw[10] != ' ' || raw[13] != ':') return {};
  size_t p = 19;
  if (raw[p] == '.') p += 4;  // +millisec
  if (p + 1 < n && raw[p] == ' ' && (raw[p + 1] == '+' || raw[p + 1] == '-')) p += 6;
  if (p + 1 < n && raw[p] == ' ' && raw[p + 1] == '[') {
    size_t close = p + 2;
    while (close < n && raw[close] >= '0' && raw[close] <= '9') ++close;
    if (close < n && raw[close] != ']') close = raw.find(']', close);
    if (close >= n) return {};
    p = close + 1;
  }
  if (p >= n || raw[p] != ' ') return {};
  ++p;
  if (text_start) *text_start = p;
  size_t len = eximlog::message_id_prefix(raw.substr(p));
  if (len == 0) return {};
  if (text_start) *text_start = std::min(n, p + len + 1);
  return raw.substr(p, len);
}

std::optional<CidrRange> client_ip_range(const detect::ActorRef& actor) {
  if (actor.type != ActorType::ClientIp || actor.key.find('/') == std::string::npos) return std::nullopt;
  auto range = parse_cidr(actor.key);
  // An IPv4-mapped range (::ffff:192.0.2.0/120) is the IPv4 range the log writes.
  if (range && range->network.v6 && range->prefix >= 96)
    if (IpAddress v4 = without_v4_mapping(range->network); !v4.v6) return CidrRange{v4, range->prefix - 96};
  return range;
}

StoryPrefilter::StoryPrefilter(const detect::ActorRef& actor)
    : actor_(actor), fold_case_(actor.type == ActorType::AuthAccount || actor.type == ActorType::Sender),
      want_cwd_(actor.type == ActorType::Script), want_connections_(actor.type == ActorType::LocalUser) {
  if (fold_case_) actor_.key = to_lower(actor_.key);
  needle_ = actor_.key;
  if (auto range = client_ip_range(actor_)) {
    needle_ = range_text_prefix(*range);
    if (needle_.empty()) needle_ = range->network.v6 ? ":" : ".";  // every line with an address
  }
}

// Where the key next occurs, searched a window at a time just ahead of the line walk, so that
// the bytes are still in the cache when the walk reads them.
class StoryPrefilter::HitFinder {
 public:
  HitFinder(std::string_view block, const StoryPrefilter& filter) : block_(block), filter_(filter) {}
  // True when the key occurs in the line that ends at `end` (the lines are asked in order); the
  // search then goes on from the next line.
  bool in_line(size_t end) {
    if (filter_.needle_.empty()) return false;
    while (hit_ == npos && scanned_ < end) scan(end);
    if (hit_ == npos || hit_ >= end) return false;
    hit_ = npos;
    scanned_ = end + 1;
    return true;
  }

 private:
  static constexpr size_t npos = std::string_view::npos, kWindow = 64 << 10;
  void scan(size_t end) {
    const std::string& key = filter_.needle_;
    size_t until = std::min(block_.size(), std::max(end, scanned_ + kWindow));
    std::string_view hay = block_.substr(0, std::min(block_.size(), until + key.size() - 1));
    hit_ = filter_.fold_case_ ? find_needle<true>(hay, key, scanned_) : find_needle<false>(hay, key, scanned_);
    scanned_ = until;
  }
  std::string_view block_;
  const StoryPrefilter& filter_;
  size_t hit_ = npos, scanned_ = 0;
};

// Script actors: the builder pairs every submission's cwd= line with the local arrival it
// started, as the report does; both are parsed here, on the pre-filter's threads.
void StoryPrefilter::add_facts(std::string_view raw, PrefilteredBlock::Line& line, PrefilteredBlock& out) const {
  bool cwd = line.flags & PrefilteredBlock::Line::kCwd;
  // Only a local submission (P=local...) can be paired; any other arrival is left unparsed.
  if (!cwd && find_needle<false>(raw, " P=local", 0) == std::string_view::npos) return;
  LogLine l;
  eximlog::parse_line(raw, l);
  PrefilteredBlock::Facts f;
  f.time = l.time;
  f.pid = l.pid;
  if (cwd) {
    if (l.kind != LineKind::Cwd) {
      line.flags &= uint8_t(~PrefilteredBlock::Line::kCwd);
      return;
    }
    f.submission = eximlog::is_submission_cwd(l.cwd, l.args);
    f.ours = script_dir_matches(l.cwd, actor_.key);
    f.dir_or_login = l.cwd;
  } else {
    if (l.kind != LineKind::Arrival || !is_local_submission(l)) return;
    line.flags |= PrefilteredBlock::Line::kLocalArrival;
    f.dir_or_login = l.ident;
  }
  line.facts = uint32_t(out.facts.size());
  out.facts.push_back(f);
}

uint64_t StoryPrefilter::run(std::string_view block, PrefilteredBlock& out) const {
  using Line = PrefilteredBlock::Line;
  HitFinder hits(block, *this);
  size_t pos = 0;
  uint64_t lines = 0;
  while (pos < block.size()) {
    ++lines;
    const void* nl = memchr(block.data() + pos, '\n', block.size() - pos);
    size_t end = nl ? size_t(static_cast<const char*>(nl) - block.data()) : block.size();
    std::string_view raw = block.substr(pos, end - pos);
    Line line{.offset = uint32_t(pos), .length = uint32_t(raw.size())};
    if (hits.in_line(end)) line.flags |= Line::kKeyHit;
    pos = end + 1;
    size_t text = 0;
    std::string_view id = line_message_id(raw, &text);
    bool arrival = false;
    if (!id.empty()) {
      line.flags |= Line::kHasId;
      line.id_hash = eximlog::MessageKeyHash{}(eximlog::message_key(id));
      std::string_view rest = raw.substr(text);
      arrival = rest.size() >= 3 && rest[0] == '<' && rest[1] == '=' && rest[2] == ' ';
      if (arrival) line.flags |= Line::kArrival;
      if (rest.size() >= 3 && rest[0] == '>' && rest[1] == '>' && rest[2] == ' ') line.flags |= Line::kCutthrough;
      if (arrival && rest.starts_with("<= <> R=") && eximlog::message_id_prefix(rest.substr(8)))
        line.flags |= Line::kBounceArrival;
    } else if (want_cwd_ && text != std::string_view::npos && starts_with_at(raw, text, "cwd=")) {
      line.flags |= Line::kCwd;
    } else if (want_connections_ && text != std::string_view::npos &&
               starts_with_at(raw, text, "SMTP connection identification ")) {
      line.flags |= Line::kConnection;
    }
    if (want_cwd_ && (arrival || (line.flags & Line::kCwd))) add_facts(raw, line, out);
    if (line.flags == 0) continue;
    out.lines.push_back(line);
  }
  return lines;
}

StoryBuilder::StoryBuilder(const detect::ActorRef& actor, CivilSeconds since, CivilSeconds until, LineSink sink)
    : range_(client_ip_range(actor)), since_(since), until_(until), sink_(std::move(sink)) {
  story_.actor = actor;
}

void StoryBuilder::keep(CivilSeconds time, std::string_view raw, bool zoned) {
  ++story_.lines;
  story_.utc |= zoned;
  if (story_.first == 0 || time < story_.first) story_.first = time;
  if (time > story_.last) story_.last = time;
  if (sink_) sink_(raw);
}

StoryBuilder::Message& StoryBuilder::follow(const eximlog::MessageKey& id) {
  if (Message* m = inflight_.find(id)) return *m = Message{};
  ++inflight_hashes_[eximlog::MessageKeyHash{}(id)];
  return inflight_[id] = Message{};
}

void StoryBuilder::unfollow(const eximlog::MessageKey& id) {
  if (!inflight_.erase(id)) return;
  uint64_t h = eximlog::MessageKeyHash{}(id);
  if (uint32_t* n = inflight_hashes_.find(h); n && --*n == 0) inflight_hashes_.erase(h);
}

// The followed message a line belongs to: its id's hash is compared first, so the few lines
// that can belong to one are the only ones whose id is read again.
StoryBuilder::Message* StoryBuilder::joined_message(std::string_view raw, const Line& line) {
  if (!(line.flags & Line::kHasId) || !inflight_hashes_.find(line.id_hash)) return nullptr;
  return inflight_.find(eximlog::message_key(line_message_id(raw)));
}

bool StoryBuilder::bounce_of_ours(std::string_view raw, const Line& line) const {
  if (!(line.flags & Line::kBounceArrival) || inflight_.size() == 0) return false;
  size_t text = 0;
  line_message_id(raw, &text);
  std::string_view parent = raw.substr(text + 8);  // after "<= <> R="
  return inflight_.find(eximlog::message_key(parent.substr(0, eximlog::message_id_prefix(parent))));
}

namespace {

// Whether a line names `ip` as Exim writes the client's address: the first "[...]" that is
// neither in parentheses (a HELO: "H=([IP]) [other]") nor in quotes (what the client sent:
// input="EHLO x [IP]"), nor after the text of a reason ("argument(s): x [IP]").
bool names_client_address(std::string_view raw, std::string_view ip) {
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '"') quoted = !quoted;
    else if (quoted) continue;
    else if (c == '(') ++depth;
    else if (c == ')') depth = std::max(0, depth - 1);
    else if (c == '[' && depth == 0 && i > 0 && (raw[i - 1] == ' ' || raw[i - 1] == '=')) {
      size_t close = raw.find(']', i);
      if (close == std::string_view::npos) return false;
      std::string_view inside = raw.substr(i + 1, close - i - 1);
      // The timestamp's [pid] comes first on +pid lines: not an address.
      if (!inside.empty() && inside.find_first_not_of("0123456789") == std::string_view::npos) {
        i = close;
        continue;
      }
      return inside == ip;
    }
  }
  return false;
}

}  // namespace

bool StoryBuilder::names_actor(const LogLine& l, std::string_view raw) const {
  const std::string& key = story_.actor.key;
  switch (story_.actor.type) {
    case ActorType::AuthAccount: return !l.auth_id.empty() && to_lower(l.auth_id) == key;
    case ActorType::Sender: return l.kind == LineKind::Arrival && !l.address.empty() && to_lower(l.address) == key;
    case ActorType::ClientIp: {  // what that client did here, not deliveries to a server at that address
      bool session = l.kind == LineKind::Arrival || l.kind == LineKind::RejectRcpt || l.kind == LineKind::Reject ||
                     l.kind == LineKind::AuthFailure || l.kind == LineKind::Connection;
      if (range_) return session && in_client_range(l.host_ip);
      // Exim on a dual-stack socket writes an IPv4 client as ::ffff:192.0.2.9.
      bool mapped = l.host_ip.starts_with("::ffff:") && l.host_ip.substr(7) == key;
      if (l.host_ip == key || mapped) return session || l.message_id.empty();
      // Session lines the parser does not take apart (synchronization errors, dropped calls,
      // TLS errors, a rejected EHLO) name the client only as "[IP]", as exigrep finds them.
      return l.host_ip.empty() && l.message_id.empty() && names_client_address(raw, key);
    }
    case ActorType::LocalUser:
      // cPanel's line naming the user behind a message over SMTP from this host: followed to
      // its arrival (on_identified_line). (Its connection lines: on_connection.)
      if (l.kind == LineKind::CpanelIdentification) return !l.message_id.empty() && l.ident == key;
      // Bounces Exim makes itself (<> with R=) are not the user's own mail.
      return l.kind == LineKind::Arrival && is_local_submission(l) && l.ident == key &&
             !(l.address.empty() && !l.router.empty());
    case ActorType::Script: return false;  // by its cwd= line, see add_script_line
  }
  return false;
}

void StoryBuilder::hold_early(std::string_view raw) {
  // Not parsed: its id and time (zone applied, as the arrival's) are all it is held by.
  std::string_view id = line_message_id(raw);
  auto time = eximlog::line_time(raw);
  if (!id.empty() && time) early_.hold(eximlog::message_key(id), *time, raw);
}

void StoryBuilder::on_arrival(const LogLine& l, std::string_view raw) {
  // Cutthrough deliveries of this message, logged just before it: shown first, as logged.
  std::vector<eximlog::EarlyOutcomes::Entry> early;
  std::vector<LogLine> early_lines;
  if (!early_.empty() && !l.message_id.empty())
    early_.claim(eximlog::message_key(l.message_id), l.time,
                 [&](const eximlog::EarlyOutcomes::Entry& e) { early.push_back(e); });
  for (const auto& e : early) {
    LogLine& o = early_lines.emplace_back();
    eximlog::parse_line(e.raw, o);
    if (in_range(o.time)) keep(o.time, e.raw, o.has_timezone);
  }
  keep(l.time, raw, l.has_timezone);
  ActorStory& s = story_;
  ++s.messages;
  s.bytes += l.size;
  if (s.first_message == 0) s.first_message = l.time;
  s.last_message = std::max(s.last_message, l.time);
  Message& m = follow(eximlog::message_key(l.message_id));
  uint32_t rcpts = 0;
  eximlog::for_each_recipient(l.recipients, [&](std::string_view r) {
    ++rcpts;
    std::string_view domain = domain_of(r);
    ++s.recipient_domains[domain.empty() ? "(none)" : to_lower(domain)];
    if (l.truncated_rcpts) m.seen.push_back(address_hash(r));
  });
  std::sort(m.seen.begin(), m.seen.end());
  s.recipients += rcpts;
  CivilSeconds minute = l.time - l.time % 60;
  ++s.minutes[minute].messages;
  s.minutes[minute].recipients += rcpts;
  if (!l.host_ip.empty()) ++s.client_ips[std::string(l.host_ip)];
  if (!l.subject.empty()) ++s.subjects[subject_key(l.subject)];
  s.message_ids.emplace_back(l.message_id);
  m.listed = rcpts > 0 && !l.truncated_rcpts;
  m.minute = minute;
  for (const LogLine& o : early_lines)
    if (in_range(o.time)) count_message_line(m, o);
}

void StoryBuilder::on_attempt(const LogLine& l, std::string_view raw) {
  keep(l.time, raw, l.has_timezone);
  bool attempt = true;
  if (l.kind == LineKind::RejectRcpt) {
    ++story_.rejected_recipients;
    std::string_view domain = domain_of(l.address);
    ++story_.rejected_domains[domain.empty() ? "(none)" : to_lower(printable(domain, 200))];
  } else if (l.kind == LineKind::AuthFailure) {
    ++story_.failed_logins;
    if (story_.actor.type == detect::ActorType::ClientIp && !l.auth_id.empty())
      ++story_.accounts_tried[to_lower(printable(l.auth_id, 200))];  // accounts are case-blind
  } else if (l.kind == LineKind::Reject) ++story_.other_rejections;
  else attempt = false;  // connections, lost sessions: shown, not counted
  if (!attempt) return;
  ++story_.minutes[l.time - l.time % 60].attempts;
  // An IP's own attempts come from itself; a range's, from its addresses.
  if (!l.host_ip.empty() && (story_.actor.type != detect::ActorType::ClientIp || range_))
    ++story_.refused_ips[std::string(l.host_ip)];
}

// A line of a message cPanel said was the user's, before its arrival. The engine's rules decide
// (eximlog::SenderIdentities: a later identification of the id wins, ten minutes at most, over
// SMTP from this host without a login); an arrival that is not theirs that way may still name
// the user itself (U= of a local submission).
void StoryBuilder::on_identified_line(Message& m, const LogLine& l, std::string_view raw) {
  if (l.kind == LineKind::CpanelIdentification) {  // another user's
    identities_.note(l);
    return;
  }
  if (eximlog::is_early_outcome(l)) {  // the arrival, logged next, says whose it is
    early_.hold(eximlog::message_key(l.message_id), l.time, raw);
    return;
  }
  if (l.kind != LineKind::Arrival) return;
  std::string identification = std::move(m.identification);
  unfollow(eximlog::message_key(l.message_id));
  if (identities_.take(l) == story_.actor.key) {
    LogLine shown;
    eximlog::parse_line(identification, shown);
    keep(shown.time, identification, shown.has_timezone);
    on_arrival(l, raw);
  } else if (names_actor(l, raw)) {
    on_arrival(l, raw);
  }
}

// An arrival over a connection cPanel named as the user's: the user's as the engine rules,
// though the arrival does not name them. Only lines from a named connection's address are taken
// apart.
bool StoryBuilder::claim_connected_arrival(std::string_view raw) {
  if (story_.actor.type != ActorType::LocalUser || identities_.connections().empty()) return false;
  // "[IP]:" anywhere (a HELO may be "[IP]" too), for each address the connections name; the
  // parse decides. Connections are kept as the report keeps them (until newer ones push them
  // out), so most lines are ruled out by a search for 127.0.0.1 alone.
  auto names_client = [&](std::string_view ip) {
    for (size_t at = raw.find(ip); at != std::string_view::npos; at = raw.find(ip, at + 1))
      if (at > 0 && raw[at - 1] == '[' && raw.substr(at + ip.size(), 2) == "]:") return true;
    return false;
  };
  const auto& ips = connection_ips();
  if (std::none_of(ips.begin(), ips.end(), names_client)) return false;
  LogLine l;
  eximlog::parse_line(raw, l);
  if (l.kind != LineKind::Arrival || !in_range(l.time) || l.message_id.empty()) return false;
  std::string user = identities_.connection_user(l);
  if (user.empty() || named_before(l.message_id, raw)) return false;
  if (user != story_.actor.key) {  // another's: their routing line is no claim of this user's
    named_elsewhere_.remember(eximlog::message_key(l.message_id));
    return false;
  }
  on_arrival(l, raw);
  return true;
}

// The addresses the kept connections came from, each once; made again when they change.
const std::vector<std::string>& StoryBuilder::connection_ips() {
  if (ips_of_.version != identities_.connections_version()) {
    ips_of_ = {identities_.connections_version(), {}};
    for (const auto& c : identities_.connections())
      if (std::find(ips_of_.ips.begin(), ips_of_.ips.end(), c.ip) == ips_of_.ips.end()) ips_of_.ips.push_back(c.ip);
  }
  return ips_of_.ips;
}

// A connection cPanel named (the pre-filter keeps them all: a port one names is theirs now,
// whoever's story this is); the user's own is one of their lines.
void StoryBuilder::on_connection(std::string_view raw) {
  LogLine l;
  eximlog::parse_line(raw, l);
  if (l.kind != LineKind::CpanelIdentification || !in_range(l.time)) return;
  if (identities_.note(l) == eximlog::SenderIdentities::Noted::kConnection && l.ident == story_.actor.key)
    keep(l.time, raw, l.has_timezone);
}

// Whether a line of message `id` just before `raw` in its block named someone: that line, not
// the connection or a later one, decided whose the arrival at `raw` is (eximlog::SenderIdentities).
bool StoryBuilder::named_before(std::string_view id, std::string_view raw) const {
  if (raw.data() < block_.data() || raw.data() > block_.data() + block_.size()) return false;
  auto names_someone = [](std::string_view text) {
    constexpr std::string_view kTag = "Sender identification U=";
    if (!text.starts_with(kTag)) return false;
    std::string_view user = text.substr(kTag.size(), text.find(' ', kTag.size()) - kTag.size());
    return eximlog::SenderIdentities::names_someone(user);
  };
  return !line_of_message_before(id, size_t(raw.data() - block_.data()), names_someone, kLookBackNamed).empty();
}

// cPanel's own order: the line comes when the message is routed, after the arrival it names,
// which the pre-filter did not keep (it does not name the user). Looked for among the lines just
// before it in its block (cPanel routes at once: the delivery process starts as the arrival is
// logged), the arrival is the user's as the engine rules (eximlog::SenderIdentities): over SMTP
// from this host without a login, within the wait, and no line before it named someone.
bool StoryBuilder::claim_earlier_arrival(const LogLine& l, std::string_view raw) {
  if (l.message_id.empty() || raw.data() < block_.data() || raw.data() > block_.data() + block_.size()) return false;
  size_t end = size_t(raw.data() - block_.data());
  std::string_view line =
      line_of_message_before(l.message_id, end, [](std::string_view text) { return text.starts_with("<= "); });
  if (line.empty()) return false;
  LogLine arrival;
  eximlog::parse_line(line, arrival);
  if (arrival.kind != LineKind::Arrival || !in_range(arrival.time) || !eximlog::may_be_identified(arrival) ||
      arrival.time < l.time - eximlog::SenderIdentities::kWait)
    return false;
  // Named before its arrival, or by its connection: that one decided.
  if (named_before(l.message_id, line) || !identities_.connection_user(arrival).empty() ||
      named_elsewhere_.contains(eximlog::message_key(l.message_id)))
    return false;
  on_arrival(arrival, line);
  keep(l.time, raw, l.has_timezone);
  return true;
}

// The nearest line of message `id` before offset `end` of the block whose text (after the id)
// `wanted` accepts, among the `lines` lines before it; "" when there is none.
template <class Wanted>
std::string_view StoryBuilder::line_of_message_before(std::string_view id, size_t end, Wanted wanted,
                                                      size_t lines) const {
  for (size_t looked = 0; end > 0 && looked < lines; ++looked) {
    // memrchr, not rfind: the lines of a busy log are looked back over for each such line.
    const void* nl = end >= 2 ? ::memrchr(block_.data(), '\n', end - 1) : nullptr;
    size_t start = nl ? size_t(static_cast<const char*>(nl) - block_.data()) + 1 : 0;
    std::string_view line = block_.substr(start, end - start);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    size_t text = 0;
    if (line_message_id(line, &text) == id && text < line.size() && wanted(line.substr(text))) return line;
    end = start;
  }
  return {};
}

void StoryBuilder::on_message_line(Message& m, const LogLine& l, std::string_view raw) {
  keep(l.time, raw, l.has_timezone);
  if (!m.own) {
    if (l.kind == LineKind::Completed) unfollow(eximlog::message_key(l.message_id));
    return;
  }
  count_message_line(m, l);
}

void StoryBuilder::count_message_line(Message& m, const LogLine& l) {
  ActorStory& s = story_;
  switch (l.kind) {
    case LineKind::Delivery:
    case LineKind::Defer:
    case LineKind::Bounce: {
      if (l.kind == LineKind::Delivery && l.delivery == eximlog::DeliveryFlag::Suppressed) break;
      if (!m.listed) {  // no whole "for" list: recipients are the distinct addresses of its outcomes
        std::string_view address = l.original.empty() ? l.address : l.original;
        uint32_t h = address_hash(address);
        if (auto at = std::lower_bound(m.seen.begin(), m.seen.end(), h); at == m.seen.end() || *at != h) {
          m.seen.insert(at, h);
          ++s.recipients;
          if (m.minute) ++s.minutes[m.minute].recipients;
          std::string_view domain = domain_of(address);
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
      unfollow(eximlog::message_key(l.message_id));
      break;
    default: break;
  }
}

// A script actor's cwd= line or local arrival, from what the pre-filter parsed of it: only the
// arrivals its cwd= lines started are parsed again.
void StoryBuilder::add_script_line(std::string_view raw, const Line& p, const PrefilteredBlock::Facts& f) {
  if (!in_range(f.time)) return;
  if (p.flags & Line::kCwd) {
    if (!f.submission) return;
    if (f.pid) story_.pid_seen = true;
    cwd_.add(f.time, f.pid, f.ours ? 1 : 0, f.dir_or_login);
    if (f.ours) keep(f.time, raw);
    return;
  }
  if (cwd_.take(f.time, f.pid, f.dir_or_login) != 1) return;
  LogLine l;
  eximlog::parse_line(raw, l);
  on_arrival(l, raw);
}

void StoryBuilder::add_line(std::string_view raw, const Line& p, const PrefilteredBlock::Facts* facts) {
  follow_line(raw, p, facts);
  // Another actor's arrival: the cutthrough lines held for it are not the story's (the
  // actor's own took theirs in on_arrival).
  if ((p.flags & Line::kArrival) && !early_.empty())
    if (std::string_view id = line_message_id(raw); !id.empty())
      early_.take(eximlog::message_key(id), [](const eximlog::EarlyOutcomes::Entry&) {});
}

void StoryBuilder::follow_line(std::string_view raw, const Line& p, const PrefilteredBlock::Facts* facts) {
  bool script = story_.actor.type == ActorType::Script;
  Message* joined = joined_message(raw, p);
  bool parent_joined = !joined && bounce_of_ours(raw, p);
  if (!joined && !parent_joined) {
    if (p.flags & Line::kCutthrough) return hold_early(raw);
    if (script) {
      if (facts) add_script_line(raw, p, *facts);
      return;
    }
    if ((p.flags & Line::kArrival) && claim_connected_arrival(raw)) return;
    if (p.flags & Line::kConnection) return on_connection(raw);
    if (!(p.flags & Line::kKeyHit)) return;
  }
  LogLine l;
  eximlog::parse_line(raw, l);
  if (!in_range(l.time)) return;
  if (joined && !joined->identification.empty()) return on_identified_line(*joined, l, raw);
  if (joined) return on_message_line(*joined, l, raw);
  if (parent_joined && l.kind == LineKind::Arrival) {
    keep(l.time, raw, l.has_timezone);  // a bounce of the actor's mail
    ++story_.bounces_generated;
    follow(eximlog::message_key(l.message_id)).own = false;
    return;
  }
  if (script || !(p.flags & Line::kKeyHit) || !names_actor(l, raw)) return;
  if (l.kind == LineKind::CpanelIdentification) {
    if (claim_earlier_arrival(l, raw)) return;
    if (identities_.note(l) == eximlog::SenderIdentities::Noted::kWaits)
      follow(eximlog::message_key(l.message_id)).identification = raw;
  } else if (l.kind == LineKind::Arrival && !l.message_id.empty()) on_arrival(l, raw);
  else on_attempt(l, raw);
}

void StoryBuilder::add(std::string_view block, const PrefilteredBlock& kept) {
  block_ = block;
  for (const Line& line : kept.lines) {
    bool has_facts = line.flags & (Line::kCwd | Line::kLocalArrival);
    add_line(block.substr(line.offset, line.length), line, has_facts ? &kept.facts[line.facts] : nullptr);
  }
}

int64_t timeline_bucket(int64_t span_seconds, size_t max_rows) {
  static constexpr int64_t kBuckets[] = {60,       300,      600,       900,   1800,      3600,      2 * 3600,
                                         3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400, 30 * 86400};
  for (int64_t b : kBuckets)
    if (span_seconds / b + 1 <= int64_t(max_rows)) return b;
  return 365 * 86400;
}

}  // namespace sw::stats

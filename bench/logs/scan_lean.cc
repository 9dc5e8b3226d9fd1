// scan_lean: a sketch of the counting core of a per-message report, built for speed on two
// cores, as a peer in the benchmark: what a redesign of `spamwarden logs` could expect.
//
//   scan_lean [--parse-only] LOG
//
// On top of what scan_floor does (every byte read, every line split and joined to its message
// by id, each core a slice of the file), it takes apart every arrival (sender, U=, A=, the
// client IP of H=, P=, S=, T=, the "for" list), every delivery outcome, Completed, submission
// cwd= lines, rejected recipients and failed logins, and counts messages, recipients, bytes
// and outcomes per script, local user, account, client IP, sender, sender domain and subject,
// with every line's time and the report's own peak window (src/stats/peak_window.h) for the
// four kinds that can burst.
// How: a message's outcomes are folded into it before its actors are counted, at Completed,
// and the counting is partitioned: records go to one of 256 buckets by hash and each bucket
// is added into its own small table in one go, so the tables are visited from cache instead of
// missing it on nearly every message (339 k distinct senders on the benchmark's log).
// Each slice's tables are merged at the end.
//
// It leaves out, compared with the real report: evidence lines, key texts
// (an actor is its hash), digit-folded subjects, bounce recipients, accounts' distinct IPs,
// findings and output; and, like scan_floor, messages whose lines fall in two slices are not
// joined, nor are peak windows across slices (the larger peak is kept). So it is optimistic:
// a full report in this design would take longer.
// Prints "lines N messages M" and the distinct actors of each kind, to check a run against
// the report's actor_counts. --parse-only does all but the counting (its actor counts are 0),
// to tell the cost of taking lines apart from the cost of counting.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "base/civil_time.h"
#include "base/text.h"
#include "log_slices.h"
#include "stats/peak_window.h"

namespace {

using sv = std::string_view;

enum Kind : uint8_t { kScript, kLocalUser, kAccount, kClientIp, kSender, kSenderDomain, kSubject, kKinds };
const char* const kKindNames[kKinds] = {"script", "local_user",    "auth_account", "client_ip",
                                        "sender", "sender_domain", "subject"};

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

// The actor's identity: the report's own key hash (ASCII-lowercased where actors are
// case-blind), with the kind in the low bits so one table holds all kinds.
uint64_t actor_hash(Kind kind, sv key, bool lower) { return (sw::hash_bytes(key, lower) & ~uint64_t(7)) | kind; }

constexpr int64_t kWindowSeconds = 3600;  // the report's default burst window
bool can_burst(uint64_t actor) {
  uint64_t k = actor & 7;
  return k == kScript || k == kLocalUser || k == kAccount || k == kClientIp;
}

// One message's or one event's contribution to an actor.
struct Record {
  uint64_t actor;
  sw::CivilSeconds time;
  uint32_t messages, recipients, bytes;
  uint16_t delivered, deferred, failed, rejected_or_failed_login;
};

struct Counts {
  uint64_t actor = 0;  // 0: empty slot
  uint64_t bytes = 0;
  uint32_t messages = 0, recipients = 0, delivered = 0, deferred = 0, failed = 0, other = 0;
  uint32_t window = UINT32_MAX;  // kinds that can burst: index of its peak window in the bucket
  void add(const Record& r) {
    messages += r.messages, recipients += r.recipients, bytes += r.bytes;
    delivered += r.delivered, deferred += r.deferred, failed += r.failed, other += r.rejected_or_failed_login;
  }
  void add(const Counts& c) {
    messages += c.messages, recipients += c.recipients, bytes += c.bytes;
    delivered += c.delivered, deferred += c.deferred, failed += c.failed, other += c.other;
  }
};

// Open addressing over one bucket's actors: small enough to stay in cache while filled.
class BucketTable {
 public:
  void add(const Record& r) {
    Counts& c = at(r.actor);
    c.add(r);
    if (r.messages == 0 || !can_burst(r.actor)) return;
    if (c.window == UINT32_MAX) {
      c.window = uint32_t(windows_.size());
      windows_.emplace_back(kWindowSeconds);
    }
    windows_[c.window].add(r.time, r.recipients);
  }
  uint64_t peak_recipients(const Counts& c) const {
    return c.window == UINT32_MAX ? 0 : windows_[c.window].peak_recipients();
  }
  Counts& at(uint64_t actor) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    size_t i = (actor >> 8) & (slots_.size() - 1);
    while (slots_[i].actor && slots_[i].actor != actor) i = (i + 1) & (slots_.size() - 1);
    if (!slots_[i].actor) {
      slots_[i].actor = actor;
      ++size_;
    }
    return slots_[i];
  }
  const std::vector<Counts>& slots() const { return slots_; }

 private:
  void grow() {
    std::vector<Counts> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Counts& c : old)
      if (c.actor) at(c.actor) = c;
  }
  std::vector<Counts> slots_ = std::vector<Counts>(64);
  size_t size_ = 0;
  std::deque<sw::stats::PeakWindow> windows_;  // not movable: a deque never moves them
};

class PartitionedCounts {
 public:
  static constexpr size_t kBuckets = 256, kFlushAt = 1 << 18;
  void add(const Record& r) {
    pending_[r.actor >> 56].push_back(r);
    if (++queued_ == kFlushAt) flush();
  }
  void flush() {
    for (size_t b = 0; b < kBuckets; ++b) {
      for (const Record& r : pending_[b]) tables_[b].add(r);
      pending_[b].clear();
    }
    queued_ = 0;
  }
  void merge_into(PartitionedCounts& to) const {
    for (size_t b = 0; b < kBuckets; ++b)
      for (const Counts& c : tables_[b].slots())
        if (c.actor) to.tables_[b].at(c.actor).add(c);
  }
  // The densest window of any actor that can burst (slices' windows are not merged).
  uint64_t top_peak() const {
    uint64_t top = 0;
    for (const auto& t : tables_)
      for (const Counts& c : t.slots()) top = std::max(top, t.peak_recipients(c));
    return top;
  }
  size_t distinct(Kind kind) const {
    size_t n = 0;
    for (const auto& t : tables_)
      for (const Counts& c : t.slots()) n += c.actor && (c.actor & 7) == kind;
    return n;
  }

 private:
  std::vector<Record> pending_[kBuckets];
  BucketTable tables_[kBuckets];
  size_t queued_ = 0;
};

struct Message {
  uint64_t a = 0, b = 0;
  bool used = false;
  uint8_t present = 0;  // bit per Kind
  uint16_t delivered = 0, deferred = 0, failed = 0;
  uint32_t recipients = 0, bytes = 0;
  sw::CivilSeconds time = 0;  // of the arrival
  uint64_t actor[kKinds];
};

// Messages between arrival and Completed, by id (open addressing, backward-shift erase).
class InFlight {
 public:
  Message* find(uint64_t a, uint64_t b) {
    for (size_t i = home(a, b);; i = (i + 1) & mask()) {
      if (!slots_[i].used) return nullptr;
      if (slots_[i].a == a && slots_[i].b == b) return &slots_[i];
    }
  }
  Message& insert(uint64_t a, uint64_t b) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    size_t i = home(a, b);
    while (slots_[i].used && !(slots_[i].a == a && slots_[i].b == b)) i = (i + 1) & mask();
    if (!slots_[i].used) ++size_;
    slots_[i] = Message{};
    slots_[i].a = a, slots_[i].b = b, slots_[i].used = true;
    return slots_[i];
  }
  void erase(Message* m) {
    size_t i = size_t(m - slots_.data());
    for (size_t j = (i + 1) & mask(); slots_[j].used; j = (j + 1) & mask()) {
      size_t h = home(slots_[j].a, slots_[j].b);
      if (((j - h) & mask()) >= ((j - i) & mask())) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Message{};
    --size_;
  }
  template <class F>
  void for_each(F&& f) {
    for (Message& m : slots_)
      if (m.used) f(m);
  }

 private:
  size_t mask() const { return slots_.size() - 1; }
  size_t home(uint64_t a, uint64_t b) const { return size_t(mix(a ^ b * 0x9E3779B97F4A7C15ull)) & mask(); }
  void grow() {
    std::vector<Message> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Message& m : old)
      if (m.used) insert(m.a, m.b) = m;
  }
  std::vector<Message> slots_ = std::vector<Message>(1 << 12);
  size_t size_ = 0;
};

// A value at s[i]: a "quoted string" with backslash escapes, or up to the next space.
size_t value_end(sv s, size_t i) {
  if (i < s.size() && s[i] == '"') {
    for (size_t j = i + 1; j < s.size(); ++j) {
      if (s[j] == '\\') ++j;
      else if (s[j] == '"') return j + 1;
    }
    return s.size();
  }
  const void* space = i < s.size() ? std::memchr(s.data() + i, ' ', s.size() - i) : nullptr;
  return space ? size_t(static_cast<const char*>(space) - s.data()) : s.size();
}

// The last [ip] among the tokens of H= starting at s[i]; i moves past them.
sv host_ip(sv s, size_t& i) {
  sv ip;
  for (;;) {
    size_t end = value_end(s, i);
    if (i < end && s[i] == '[') {
      size_t close = s.find(']', i);
      if (close != sv::npos && close < end) ip = s.substr(i + 1, close - i - 1);
    }
    i = end;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || (s[i] != '(' && s[i] != '[')) return ip;
  }
}

struct Arrival {
  sv sender, local_user, account, client_ip, protocol, subject;
  uint32_t bytes = 0, recipients = 0;
};

// "<= sender tags... [for rcpts]"
Arrival parse_arrival(sv t) {
  Arrival a;
  size_t pos = value_end(t, 3);
  a.sender = t.substr(3, pos - 3);
  if (a.sender == "<>") a.sender = {};
  while (pos < t.size()) {
    while (pos < t.size() && t[pos] == ' ') ++pos;
    if (pos + 2 > t.size()) break;
    if (t.compare(pos, 4, "for ") == 0) {
      for (size_t i = pos + 3; i < t.size(); ++i) a.recipients += t[i] == ' ';
      break;
    }
    if (t[pos + 1] != '=') {
      pos = value_end(t, pos);
      continue;
    }
    char tag = t[pos];
    if (tag == 'H') {
      pos += 2;
      a.client_ip = host_ip(t, pos);
      continue;
    }
    size_t end = value_end(t, pos + 2);
    sv v = t.substr(pos + 2, end - pos - 2);
    if (tag == 'U') a.local_user = v;
    else if (tag == 'A') a.account = v.find(':') == sv::npos ? sv{} : v.substr(v.find(':') + 1);
    else if (tag == 'P') a.protocol = v;
    else if (tag == 'T') a.subject = v.size() >= 2 ? v.substr(1, v.size() - 2) : v;
    else if (tag == 'S')
      for (char d : v) a.bytes = d >= '0' && d <= '9' ? a.bytes * 10 + uint32_t(d - '0') : a.bytes;
    pos = end;
  }
  return a;
}

class Slice {
 public:
  explicit Slice(bool count) : counting_(count) {}
  void visit(sv line) {
    ++lines_;
    if (!parse_time(line)) return;
    uint64_t a, b;
    size_t text;
    if (bench::message_id(line, a, b, text)) return on_message_line(line.substr(text), a, b);
    size_t p = line.size() > 20 && line[20] == '[' ? line.find("] ", 20) : 18;
    if (p == sv::npos || p + 2 >= line.size()) return;
    sv t = line.substr(p + 2);
    if (t.starts_with("cwd=")) return on_cwd(t.substr(4, value_end(t, 4) - 4));
    if (t.starts_with("H=") && t.find(" rejected RCPT ") != sv::npos) return on_ip_event(t);
    size_t failed = t.find(" authenticator failed for ");
    if (failed != sv::npos && failed < 40) on_ip_event(t.substr(failed));
  }
  void finish() {
    in_flight_.for_each([&](Message& m) { count(m); });
    counts_.flush();
  }
  uint64_t lines() const { return lines_; }
  uint64_t messages() const { return messages_; }
  PartitionedCounts& counts() { return counts_; }

 private:
  // "YYYY-MM-DD HH:MM:SS" into now_; the date's day number is kept, as lines share it.
  bool parse_time(sv line) {
    if (line.size() < 19) return false;
    if (line.compare(0, 10, date_) != 0) {
      auto midnight = sw::parse_civil(std::string(line.substr(0, 10)) + " 00:00:00");
      if (!midnight) return false;
      date_.assign(line.data(), 10);
      midnight_ = *midnight;
    }
    auto two = [&](size_t i) { return (line[i] - '0') * 10 + (line[i + 1] - '0'); };
    now_ = midnight_ + two(11) * 3600 + two(14) * 60 + two(17);
    return true;
  }
  void on_message_line(sv t, uint64_t a, uint64_t b) {
    if (t.size() < 2) return;
    if (t[0] == '<' && t[1] == '=') return on_arrival(parse_arrival(t), a, b);
    bool delivered = t[1] == '>' && (t[0] == '=' || t[0] == '-' || t[0] == '>' || t[0] == '*');
    bool deferred = t[0] == '=' && t[1] == '=', failed = t[0] == '*' && t[1] == '*';
    if (delivered || deferred || failed) {
      if (Message* m = in_flight_.find(a, b)) {
        m->delivered += delivered, m->deferred += deferred, m->failed += failed;
      }
    } else if (t == "Completed") {
      if (Message* m = in_flight_.find(a, b)) {
        count(*m);
        in_flight_.erase(m);
      }
    }
  }
  void on_arrival(const Arrival& arrival, uint64_t a, uint64_t b) {
    ++messages_;
    Message& m = in_flight_.insert(a, b);
    m.recipients = arrival.recipients, m.bytes = arrival.bytes, m.time = now_;
    auto note = [&](Kind k, sv key, bool lower) {
      if (key.empty()) return;
      m.present |= uint8_t(1u << k);
      m.actor[k] = actor_hash(k, key, lower);
    };
    if (arrival.client_ip.empty() && arrival.protocol.starts_with("local")) {
      note(kLocalUser, arrival.local_user, false);
      if (last_script_) {
        m.present |= 1u << kScript;
        m.actor[kScript] = last_script_;
      }
      last_script_ = 0;
    }
    note(kAccount, arrival.account, true);
    note(kClientIp, arrival.client_ip, false);
    note(kSender, arrival.sender, true);
    size_t at = arrival.sender.rfind('@');
    if (at != sv::npos) note(kSenderDomain, arrival.sender.substr(at + 1), true);
    note(kSubject, arrival.subject, false);
  }
  void on_cwd(sv dir) {
    if (!dir.starts_with("/var/spool")) last_script_ = actor_hash(kScript, dir, false);
  }
  void on_ip_event(sv t) {
    size_t open = t.find(" ["), close = open == sv::npos ? sv::npos : t.find(']', open);
    if (close == sv::npos || !counting_) return;
    counts_.add(Record{actor_hash(kClientIp, t.substr(open + 2, close - open - 2), false), now_, 0, 0, 0, 0, 0, 0, 1});
  }
  void count(const Message& m) {
    if (!counting_) return;
    for (unsigned bits = m.present; bits; bits &= bits - 1) {
      Kind k = Kind(__builtin_ctz(bits));
      counts_.add(Record{m.actor[k], m.time, 1, m.recipients, m.bytes, m.delivered, m.deferred, m.failed, 0});
    }
  }

  bool counting_;
  std::string date_;
  sw::CivilSeconds midnight_ = 0, now_ = 0;
  InFlight in_flight_;
  PartitionedCounts counts_;
  uint64_t last_script_ = 0;
  uint64_t lines_ = 0, messages_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  bool parse_only = argc == 3 && std::string_view(argv[1]) == "--parse-only";
  if (argc != 2 && !parse_only) {
    std::fprintf(stderr, "usage: scan_lean [--parse-only] LOG\n");
    return 2;
  }
  const char* log = argv[argc - 1];
  std::vector<Slice*> slices(bench::cores());
  bench::on_every_core(log, unsigned(slices.size()), [&](int fd, uint64_t from, uint64_t to, unsigned i) {
    slices[i] = new Slice(!parse_only);  // freed by the exit, like the report's tables
    bench::scan_slice(
        fd, from, to, [&](sv line) { slices[i]->visit(line); }, [] {});
    slices[i]->finish();
  });
  uint64_t lines = 0, messages = 0;
  for (Slice* s : slices) {
    lines += s->lines(), messages += s->messages();
    if (s != slices[0]) s->counts().merge_into(slices[0]->counts());
  }
  std::printf("lines %llu messages %llu", static_cast<unsigned long long>(lines),
              static_cast<unsigned long long>(messages));
  for (int k = 0; k < kKinds; ++k) std::printf(" %s %zu", kKindNames[k], slices[0]->counts().distinct(Kind(k)));
  uint64_t peak = 0;
  for (Slice* s : slices) peak = std::max(peak, s->counts().top_peak());
  std::printf(" top_peak_recipients %llu", static_cast<unsigned long long>(peak));
  std::printf("\n");
  std::fflush(stdout);
  std::_Exit(0);
}

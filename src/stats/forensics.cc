#include "stats/forensics.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <stdexcept>

#include "base/localpart.h"
#include "base/text.h"
#include "eximlog/line_parser.h"
#include "eximlog/outcome_line.h"

namespace sw::stats {

using eximlog::LineKind;
using eximlog::LogLine;

namespace {

constexpr uint64_t kEvidencePeakFloor = 10;

// Subjects group by campaign: unescaped, digit runs folded ("Order 17" and "Order 4711" are
// both "Order #").
std::string_view subject_key(std::string_view subject, std::string& unescaped, std::string& folded) {
  if (subject.find('\\') != std::string_view::npos) subject = unescaped = unescape_exim(subject);
  return fold_digits(subject, folded);
}

// One line in `n`, chosen by its bytes.
bool sampled_line(std::string_view raw, uint64_t n) { return hash_bytes(raw, false) % n == 0; }

// A permanent RCPT rejection counts as a guessed recipient unless its reason is about the
// client or the sender, which a dictionary attack's and a legitimate sender's share: a relay
// denial (a probe), a blocklisted host (an RBL-listed newsletter sending to real users), a
// sender that failed verification, SPF or DMARC, a rate limit, a greylist, a ban (cPanel's
// "host is banned", "country is banned"). Short of the
// sender's or the client's own failures ("Sender domain not found"), a reason that says the
// recipient is unknown counts whatever else it holds: a callout echoes the back end's words and
// host names ("User unknown in relay recipient table", exch-relay.example), and a guessed name
// may be "rblack" or "spfeiffer".
bool unknown_recipient_reason(std::string_view text) {
  // Lowercased once, then searched 33 times with memchr's speed: an RBL's reason (a host name,
  // an address, a URL) is over a hundred bytes, and a day's log holds a hundred thousand.
  char lower[1024];
  size_t n = std::min(text.size(), sizeof lower);
  for (size_t i = 0; i < n; ++i) lower[i] = ascii_lower(text[i]);
  std::string_view reason(lower, n);
  auto has = [&](std::string_view needle) { return reason.find(needle) != std::string_view::npos; };
  // About the sender or the client even when it says "unknown" or "not found".
  static constexpr std::string_view kSenderOrClient[] = {"sender verify", "sender address", "sender domain",
                                                         "client host",   "reverse dns",    "helo"};
  for (std::string_view why : kSenderOrClient)
    if (has(why)) return false;
  static constexpr std::string_view kUnknownRecipient[] = {
      "unknown",        "no such",   "unrouteable",       "unroutable", "5.1.1",
      "does not exist", "not found", "invalid recipient", "no mailbox", "mailbox unavailable"};
  for (std::string_view why : kUnknownRecipient)
    if (has(why)) return true;
  static constexpr std::string_view kNotTheRecipient[] = {
      "relay",      "blocked",    "is listed",  "listed at", "rbl",     "blacklist",
      "black list", "blocklist",  "block list", "spamhaus",  "spamcop", "junkmail",
      "greylist",   "rate limit", "ratelimit",  "spf",       "dmarc",   "banned"};
  for (std::string_view why : kNotTheRecipient)
    if (has(why)) return false;
  return true;
}

// An ACL has a few reasons, repeated hundreds of thousands of times a day: a short one's
// verdict is kept (by its text, not a hash of it), which spares even those searches.
bool looks_like_unknown_recipient(const LogLine& l) {
  if (l.temporary) return false;
  struct Memo {
    uint8_t size = 0;
    bool verdict = false;
    char text[46] = {};
  };
  thread_local std::array<Memo, 64> memo{};
  std::string_view reason = l.reason;
  if (reason.empty() || reason.size() > sizeof(Memo::text)) return unknown_recipient_reason(reason);
  Memo& m = memo[std::hash<std::string_view>{}(reason) % memo.size()];
  if (m.size == reason.size() && std::memcmp(m.text, reason.data(), m.size) == 0) return m.verdict;
  m.verdict = unknown_recipient_reason(reason);
  m.size = uint8_t(reason.size());
  std::memcpy(m.text, reason.data(), m.size);
  return m.verdict;
}

}  // namespace

Forensics::Forensics(const Thresholds& t) : thresholds_(t) {
  for (size_t k = 0; k < kActorKinds; ++k) {
    auto kind = ActorKind(k);
    bool bursty = kind == ActorKind::Script || kind == ActorKind::LocalUser || kind == ActorKind::AuthAccount ||
                  kind == ActorKind::ClientIp;
    bool evidence = kind == ActorKind::SenderDomain || kind == ActorKind::BounceRecipient;
    tables_[k] = std::make_unique<ActorTable>(kind, bursty ? t.window_seconds : 0, evidence);
  }
}

bool Forensics::count(LineKind kind, CivilSeconds time, uint32_t pid, std::string_view raw) {
  ++lines_.lines;
  if (kind == LineKind::Unparsed) {
    ++lines_.unparsed;
    if (lines_.unparsed_samples.size() < kUnparsedSamples) lines_.unparsed_samples.push_back(printable(raw, 200));
    return false;
  }
  if (kind == LineKind::Continuation) {
    ++lines_.continuation;
    return false;
  }
  if (time < since_ || time >= until_) {
    ++lines_.outside_time_range;
    return false;
  }
  if (first_ == 0 || time < first_) first_ = time;
  if (time > last_) last_ = time;
  if (time < min_counted_time_) min_counted_time_ = time;
  if (pid) saw_pid_ = true;
  ++lines_.by_kind[size_t(kind)];
  return true;
}

bool looks_like_clock_change(CivilSeconds from, CivilSeconds to) {
  if (from - to < ClockSteps::kStepBack || from - to > 3900) return false;
  std::string when = format_civil(to);  // "YYYY-MM-DD HH:MM:SS"
  int month = std::stoi(when.substr(5, 2)), hour = std::stoi(when.substr(11, 2));
  bool season = month == 3 || month == 4 || (month >= 9 && month <= 11);
  return season && (hour == 23 || hour <= 3);
}

void Forensics::restart_windows() {
  for (auto& table : tables_)
    for (uint32_t i = 0; i < table->size(); ++i)
      if (PeakWindow* w = table->at(i).window()) w->restart();
}

void Forensics::add(const LogLine& l, std::string_view raw, const LineKeys& keys) {
  if (!count(l.kind, l.time, l.pid, raw)) return;
  // Here, not in count(): the lines a batch skips are counted after its others. At the clock
  // change every window starts again: an hourly job's window, whose next run is written at the
  // same time as its last, would not see the step in its own times.
  CivilSeconds newest = clock_.newest;
  if (clock_.line(l.time) && looks_like_clock_change(newest, l.time)) restart_windows();
  switch (l.kind) {
    case LineKind::Arrival: on_arrival(l, raw, keys); break;
    case LineKind::Delivery:
    case LineKind::Defer:
    case LineKind::Bounce: on_outcome(l, raw, keys); break;
    case LineKind::Frozen: on_frozen(keys); break;
    case LineKind::Completed: on_completed(keys); break;
    case LineKind::Cwd: on_cwd(l, raw); break;
    case LineKind::RejectRcpt: on_rejected_rcpt(l, raw, keys); break;
    case LineKind::AuthFailure: on_auth_failure(l, raw, keys); break;
    case LineKind::CpanelIdentification: note_identification(l, raw, false); break;
    default: break;
  }
}

void Forensics::note_identification(const LogLine& l, std::string_view raw, bool warm) {
  if (!folds(ActorKind::LocalUser) && !folds(ActorKind::Sender)) return;
  eximlog::SenderIdentities::Entry arrival;
  if (identified_.note(l, &arrival) == eximlog::SenderIdentities::Noted::kClaims)
    credit_identified(l, arrival, raw, warm);
}

// The arrival was counted without its user; cPanel names them now. Counted for the user at this
// line's time, this line the evidence, with what was kept of the arrival (size, recipients).
void Forensics::credit_identified(const LogLine& l, const eximlog::SenderIdentities::Entry& arrival,
                                  std::string_view raw, bool warm) {
  eximlog::MessageKey id = eximlog::message_key(l.message_id);
  Message* m = inflight_.find(id);
  if (!m) return;
  m->origin |= Message::kIdentified;
  uint32_t& user = m->actor[size_t(ActorKind::LocalUser)];
  uint32_t credited = kNone;
  if (folds(ActorKind::LocalUser) && eximlog::names_a_user(l.ident) && user == kNone) {
    bool created = false;
    user = credited = tab(ActorKind::LocalUser).intern(ActorTable::key_hash(l.ident), l.ident, false, &created);
    ActorStats& a = tab(ActorKind::LocalUser).at(user);
    if (warm) {
      if (PeakWindow* w = a.window()) w->push(l.time, m->recipients);
      return;
    }
    count_message(a, created, l, m->recipients, raw);
    a.bytes += arrival.size;
    sample_hashes(a, ActorKind::LocalUser, arrival.recipients, l.time);
    ++a.trusted_submissions;
  }
  if (warm) return;
  // The engine before this slice counted the arrival: the merge adds the sender's trust there,
  // where it is known whether the arrival counted its domain already.
  if (m->origin & Message::kWarm) return warm_identified_.push_back({id, credited});
  trust_identified_sender(*m);
}

// An identified arrival's sender, and its domain, are ours (as on_arrival counts them).
void Forensics::trust_identified_sender(Message& m) {
  if (!folds(ActorKind::Sender) || m.actor[size_t(ActorKind::Sender)] == kNone) return;
  ActorStats& sender = tab(ActorKind::Sender).at(m.actor[size_t(ActorKind::Sender)]);
  // A list's bounce address posting from this host was counted ours at its arrival.
  if (!is_list_bounce_localpart(to_lower(local_part_of(sender.key)))) ++sender.trusted_submissions;
  uint32_t domain = m.actor[size_t(ActorKind::SenderDomain)];
  if (domain != kNone && !(m.origin & Message::kDomainOwned)) {
    ++tab(ActorKind::SenderDomain).at(domain).trusted_submissions;
    m.origin |= Message::kDomainOwned;
  }
}

void Forensics::fill_line_keys(const LogLine& l, LineKeys& out) {
  auto note = [&](ActorKind k, std::string_view key, bool lower) {
    out.present |= 1u << unsigned(k);
    out.hash[size_t(k)] = ActorTable::key_hash(key, lower);
  };
  if (!l.message_id.empty()) {
    out.has_id = true;
    out.id = eximlog::message_key(l.message_id);
  }
  if (l.kind == LineKind::Delivery || l.kind == LineKind::Defer || l.kind == LineKind::Bounce)
    out.address_hash = uint32_t(std::hash<std::string_view>{}(l.original.empty() ? l.address : l.original));
  else if (l.kind == LineKind::RejectRcpt) out.address_hash = uint32_t(ActorTable::key_hash(l.address, true));
  if (l.kind != LineKind::Arrival && l.kind != LineKind::RejectRcpt && l.kind != LineKind::AuthFailure) return;
  if (!l.host_ip.empty()) note(ActorKind::ClientIp, l.host_ip, false);
  if (!l.auth_id.empty()) note(ActorKind::AuthAccount, l.auth_id, true);
  if (l.kind != LineKind::Arrival) return;
  if (!l.ident.empty()) note(ActorKind::LocalUser, l.ident, false);
  if (!l.address.empty()) {
    note(ActorKind::Sender, l.address, true);
    std::string_view domain = domain_of(l.address);
    if (!domain.empty()) note(ActorKind::SenderDomain, domain, true);
  }
  if (!l.subject.empty()) {
    thread_local std::string unescaped, folded;
    note(ActorKind::Subject, subject_key(l.subject, unescaped, folded), false);
  }
  if (!l.recipients.empty())
    out.recipients = uint32_t(eximlog::for_each_recipient(l.recipients, [](std::string_view) {}));
}

// The tables that outgrow the cache: client IPs, accounts, senders and their domains; of
// those, client IPs and accounts also have extras (a peak window).
constexpr uint32_t kLargeKinds = 1u << unsigned(ActorKind::ClientIp) | 1u << unsigned(ActorKind::AuthAccount) |
                                 1u << unsigned(ActorKind::Sender) | 1u << unsigned(ActorKind::SenderDomain);
constexpr uint32_t kLargeWindowKinds = 1u << unsigned(ActorKind::ClientIp) | 1u << unsigned(ActorKind::AuthAccount);

template <class Stage>
void Forensics::prefetch(const LineKeys& k, uint32_t kinds, Stage stage) const {
  for (uint32_t bits = k.present & kinds & kinds_; bits; bits &= bits - 1) {
    size_t kind = size_t(__builtin_ctz(bits));
    stage(*tables_[kind], kind);
  }
}

void Forensics::prefetch_slots(const LineKeys& k) const {
  prefetch(k, kLargeKinds, [&](const ActorTable& t, size_t kind) { t.prefetch_slot(k.hash[kind]); });
}
void Forensics::prefetch_actors(LineKeys& k) const {
  prefetch(k, kLargeKinds, [&](const ActorTable& t, size_t kind) { k.index[kind] = t.prefetch_actor(k.hash[kind]); });
}
void Forensics::prefetch_extras(const LineKeys& k) const {
  prefetch(k, kLargeWindowKinds, [&](const ActorTable& t, size_t kind) { t.prefetch_extras(k.index[kind]); });
}
void Forensics::prefetch_window_tails(const LineKeys& k) const {
  prefetch(k, kLargeWindowKinds, [&](const ActorTable& t, size_t kind) { t.prefetch_window_tail(k.index[kind]); });
}

uint32_t Forensics::count_actor(ActorKind k, const LineKeys& keys, std::string_view key, bool lower, const LogLine& l,
                                uint32_t rcpts, std::string_view raw, bool* was_new) {
  bool created = false;
  uint32_t idx = keys.index[size_t(k)];
  if (idx == LineKeys::kUnknown) idx = tab(k).intern(keys.hash[size_t(k)], key, lower, &created);
  count_message(tab(k).at(idx), created, l, rcpts, raw);
  if (was_new) *was_new = created;
  return idx;
}

void Forensics::count_message(ActorStats& a, bool created, const LogLine& l, uint32_t rcpts, std::string_view raw) {
  ++a.messages;
  a.recipients += rcpts;
  a.bytes += l.size;
  if (rcpts > a.max_recipients) a.max_recipients = rcpts;
  if (a.first == 0) a.first = l.time;
  a.last = l.time;
  PeakWindow* w = a.window();
  if (w && w->add(l.time, rcpts)) note_peak_line(a, raw);
  if (created) add_evidence(a, raw, Evidence::Mark::kFirstSeen);
}

void Forensics::sample_recipients(ActorStats& a, ActorKind kind, const LogLine& l) {
  if (!a.extras || l.recipients.empty()) return;
  if (named_.empty())  // hashed once for the script, its user and the account
    eximlog::for_each_recipient(l.recipients,
                                [&](std::string_view r) { named_.push_back(uint32_t(ActorTable::key_hash(r, true))); });
  sample_hashes(a, kind, named_, l.time);
}

void Forensics::sample_hashes(ActorStats& a, ActorKind kind, const std::vector<uint32_t>& hashes, CivilSeconds time) {
  if (!a.extras) return;
  uint32_t ceiling = recipient_sample_ceiling(kind);
  for (uint32_t h : hashes) {
    if (h > ceiling) continue;  // allocated at the first admitted one: most accounts have none
    if (!a.extras->named) a.extras->named = std::make_unique<RecipientSample>(ceiling);
    a.extras->named->add(h, time);
  }
}

// The user cPanel named before this arrival (eximlog::SenderIdentities::take), marked on its
// message `m`. One it may name after waits, with the recipients its user's sample would take.
std::string Forensics::take_identified(const LogLine& l, Message& m) {
  bool waits = false;
  std::string user = identified_.take(l, {}, &waits);
  if (!user.empty()) m.origin |= Message::kIdentified;
  if (!waits || !folds(ActorKind::LocalUser) || l.recipients.empty()) return user;
  uint32_t ceiling = recipient_sample_ceiling(ActorKind::LocalUser);
  std::vector<uint32_t>& kept = identified_.newest_arrival().recipients;
  eximlog::for_each_recipient(l.recipients, [&](std::string_view r) {
    if (uint32_t h = uint32_t(ActorTable::key_hash(r, true)); h <= ceiling) kept.push_back(h);
  });
  return user;
}

std::string_view Forensics::subject_key_of(std::string_view subject) {
  return subject_key(subject, subject_, scratch_);
}

void Forensics::note_peak_line(ActorStats& a, std::string_view raw) {
  // Evidence costs a copy (of a line from stdin): only once the window holds enough mail to matter.
  const PeakWindow& w = *a.extras->window;
  if (w.peak_recipients() < kEvidencePeakFloor) return;
  if (!a.extras->peak_lines) a.extras->peak_lines = std::make_unique<PeakLines>();
  a.extras->peak_lines->add({evidence_.keep(raw), w.peak_recipients(), w.peak_messages()});
}

std::vector<std::string> Forensics::evidence_lines(const ActorStats& a) const {
  if (!a.keeps_evidence()) return {};
  // The first lines, then the recent ones and those of the burst's peaks, in log order when
  // they all are places in the inputs (copies have no order).
  std::vector<LineRef> lines = a.extras->evidence.lines();
  size_t first = std::min(lines.size(), Evidence::kFirst);
  if (a.extras->peak_lines)
    for (const PeakLines::Line& p : a.extras->peak_lines->oldest_first()) lines.push_back(p.line);
  auto same = [](const LineRef& x, const LineRef& y) { return x.where == y.where && x.length == y.length; };
  std::vector<LineRef> kept;
  for (const LineRef& r : lines)
    if (std::none_of(kept.begin(), kept.end(), [&](const LineRef& k) { return same(k, r); })) kept.push_back(r);
  bool placed = std::none_of(kept.begin(), kept.end(), [](const LineRef& r) { return r.copied(); });
  size_t sorted_from = std::min(first, kept.size());
  if (placed)
    std::stable_sort(kept.begin() + long(sorted_from), kept.end(),
                     [](const LineRef& x, const LineRef& y) { return x.where < y.where; });
  std::vector<std::string> out;
  for (const LineRef& r : kept) out.push_back(evidence_.text(r));
  return out;
}

void Forensics::on_arrival(const LogLine& l, std::string_view raw, const LineKeys& keys) {
  ++msgs_.messages;
  Message m;
  m.actor.fill(kNone);
  m.bounce = l.address.empty();
  m.listed = !l.recipients.empty();
  m.truncated_list = l.truncated_rcpts;
  m.recipients = keys.recipients;
  msgs_.recipients += m.recipients;
  if (m.bounce) ++msgs_.bounces;
  bool local = is_local_submission(l);
  // Bounces Exim generates itself (<> with R=) are not the local user's own mail.
  bool exim_generated = m.bounce && !l.router.empty();
  if (local && !exim_generated) ++msgs_.local;
  m.bounce_from_elsewhere = eximlog::is_bounce_from_elsewhere(l);
  auto count_key = [&](ActorKind k, std::string_view key, bool lower, bool* created = nullptr) {
    return m.actor[size_t(k)] = count_actor(k, keys, key, lower, l, m.recipients, raw, created);
  };

  named_.clear();
  if (local && !exim_generated && folds(ActorKind::Script)) {
    uint32_t script = take_script(l);
    uint32_t user = keys.has(ActorKind::LocalUser) ? count_key(ActorKind::LocalUser, l.ident, false) : kNone;
    if (user != kNone) sample_recipients(tab(ActorKind::LocalUser).at(user), ActorKind::LocalUser, l);
    if (script != kNone) {
      ActorStats& s = tab(ActorKind::Script).at(script);
      count_message(s, false, l, m.recipients, raw);
      sample_recipients(s, ActorKind::Script, l);
      m.actor[size_t(ActorKind::Script)] = script;
      // The queue knows mail by who handed it in, not by directory: keep who ran the script.
      if (user != kNone && s.extras) s.extras->logins.note(tab(ActorKind::LocalUser).at(user).key);
    }
  }
  std::string identified = take_identified(l, m);
  if (const std::string& user = identified; folds(ActorKind::LocalUser) && eximlog::names_a_user(user)) {
    bool created = false;
    uint32_t idx = tab(ActorKind::LocalUser).intern(ActorTable::key_hash(user), user, false, &created);
    ActorStats& a = tab(ActorKind::LocalUser).at(idx);
    count_message(a, created, l, m.recipients, raw);
    sample_recipients(a, ActorKind::LocalUser, l);
    ++a.trusted_submissions;
    m.actor[size_t(ActorKind::LocalUser)] = idx;
  }
  if (keys.has(ActorKind::AuthAccount) && folds(ActorKind::AuthAccount)) {
    uint32_t idx = count_key(ActorKind::AuthAccount, l.auth_id, true);
    sample_recipients(tab(ActorKind::AuthAccount).at(idx), ActorKind::AuthAccount, l);
    ActorTable::note_client_ip(tab(ActorKind::AuthAccount).at(idx), l.host_ip, keys.hash[size_t(ActorKind::ClientIp)],
                               l.time);
  }
  if (keys.has(ActorKind::ClientIp) && folds(ActorKind::ClientIp)) count_key(ActorKind::ClientIp, l.host_ip, false);
  if (keys.has(ActorKind::Sender) && folds(ActorKind::Sender)) {
    bool created = false;
    uint32_t si = count_key(ActorKind::Sender, l.address, true, &created);
    // Ours: handed in here, logged in, or a local user's over SMTP from this host as cPanel
    // names it (Mailman, a PHP mailer on 127.0.0.1), not a filter's reinjection.
    bool ours = local || !l.auth_id.empty() || !identified.empty();
    bool this_host = !ours && eximlog::from_this_host(l);
    // A mailing list's bounce address posting from this host is ours too, however cPanel named
    // Mailman's connection (it may do so only after the arrival): its bounces are the list's.
    if (ours || (this_host && is_list_bounce_localpart(to_lower(local_part_of(l.address)))))
      ++tab(ActorKind::Sender).at(si).trusted_submissions;
    if (keys.has(ActorKind::SenderDomain)) {
      uint32_t d = count_key(ActorKind::SenderDomain, domain_of(l.address), true);
      // A domain we send as: that, or a program of this host's talking SMTP to it with a sender
      // new here (cPanel may name its user only after the arrival, or by its connection alone).
      // A content filter handing inbound mail back over 127.0.0.1 repeats a sender just seen
      // arriving from elsewhere: that makes no domain ours.
      if (ours || (this_host && created)) {
        ++tab(ActorKind::SenderDomain).at(d).trusted_submissions;
        m.origin |= Message::kDomainOwned;
      }
      if (created) {
        ActorStats& ds = tab(ActorKind::SenderDomain).at(d);
        ++ds.distinct_senders;
        if (looks_random_localpart(local_part_of(l.address))) ++ds.random_senders;
      }
    }
  }
  if (keys.has(ActorKind::Subject) && folds(ActorKind::Subject)) {
    // The folded key is only built when the subject is new.
    if (auto known = tab(ActorKind::Subject).find_index(keys.hash[size_t(ActorKind::Subject)])) {
      count_message(tab(ActorKind::Subject).at(*known), false, l, m.recipients, raw);
      m.actor[size_t(ActorKind::Subject)] = *known;
    } else {
      count_key(ActorKind::Subject, subject_key_of(l.subject), false);
    }
  }
  if (m.bounce && m.listed && folds(ActorKind::BounceRecipient)) {
    std::string_view target = first_bounce_target(l, m);
    if (!target.empty()) m.actor[size_t(ActorKind::BounceRecipient)] = note_bounce_recipient(target, m, l, raw);
  }
  if (!keys.has_id) return;
  place(keys.id, m);
  if (later_slice_) arrival_prints_.push_back(id_print(keys.id));
  if (!early_.empty()) claim_early_outcomes(keys.id, l.time, false);
}

// Whether a line held for `id` was held when the next slice began (enter_next_slice).
bool Forensics::held_before_next(const eximlog::MessageKey& id) const {
  return std::find(early_before_next_.begin(), early_before_next_.end(), id) != early_before_next_.end();
}

void Forensics::claim_early_outcomes(const eximlog::MessageKey& id, CivilSeconds now, bool warm) {
  Message* m = inflight_.find(id);
  if (m && !early_before_next_.empty() && held_before_next(id)) m->origin |= Message::kEarlyBefore;
  size_t expired = early_.claim(id, now, [&](const eximlog::EarlyOutcomes::Entry& e) {
    // A relay's own mail, most of what is held: counted from what was noted when it was held.
    if (m && !m->bounce && !warm) return count_plain_outcome(*m, LineKind::Delivery, uint32_t(e.tag), e.time);
    std::string_view raw = e.raw;
    LogLine l;
    eximlog::parse_line(raw, l, eximlog::LineFields::Essential);
    if (!eximlog::is_early_outcome(l)) return;  // only such lines are held (a loaded state is checked)
    LineKeys keys;
    fill_line_keys(l, keys);
    if (warm) warm_outcome(l, raw, keys);
    else on_outcome(l, raw, keys);
  });
  if (!warm) msgs_.orphan_lines += expired;
}

// Case-blind: the "for" list and a delivery line may write an address in other cases.
uint32_t Forensics::folded_address_hash(std::string_view address) {
  return uint32_t(ActorTable::key_hash(address, true));
}

// A listed bounce's target: its first recipient. Exim lists errors_copy's address after the
// sender it returns the mail to: a copy for the postmaster, not another victim (it would
// otherwise gather every bounce of the server). Notes the target's hash when others follow.
std::string_view Forensics::first_bounce_target(const LogLine& l, Message& m) {
  std::string_view first;
  eximlog::for_each_recipient(l.recipients, [&](std::string_view r) {
    if (first.empty()) first = r;
    else m.bounce_target = folded_address_hash(first);
  });
  return first;
}

uint32_t Forensics::note_bounce_recipient(std::string_view address, const Message& m, const LogLine& l,
                                          std::string_view raw) {
  bool created = false;
  uint32_t idx = tab(ActorKind::BounceRecipient).intern(ActorTable::key_hash(address, true), address, true, &created);
  ActorStats& victim = tab(ActorKind::BounceRecipient).at(idx);
  count_message(victim, created, l, 1, raw);
  if (m.bounce_from_elsewhere) ++victim.trusted_submissions;
  return idx;
}

ActorStats& Forensics::actor_of(ActorKind k, const LineKeys& keys, std::string_view key, bool lower) {
  uint32_t idx = keys.index[size_t(k)];
  return tab(k).at(idx != LineKeys::kUnknown ? idx : tab(k).intern(keys.hash[size_t(k)], key, lower, nullptr));
}

void Forensics::add_recipients(Message& m, uint32_t n) {
  m.recipients += n;
  msgs_.recipients += n;
  for (size_t k = 0; k < kActorKinds; ++k) {
    if (m.actor[k] == kNone || k == size_t(ActorKind::BounceRecipient)) continue;
    ActorStats& a = tables_[k]->at(m.actor[k]);
    a.recipients += n;
    if (m.recipients > a.max_recipients) a.max_recipients = m.recipients;
    if (PeakWindow* w = a.window()) {
      if (w->events_held()) min_window_end_ = std::min(min_window_end_, w->newest());
      w->add_recipients(n);
    }
  }
}

void Forensics::on_outcome(const LogLine& l, std::string_view raw, const LineKeys& keys) {
  if (!keys.has_id) return;
  Message* found = inflight_.find(keys.id);
  bool suppressed = l.kind == LineKind::Delivery && l.delivery == eximlog::DeliveryFlag::Suppressed;
  std::string_view address = l.original.empty() ? l.address : l.original;
  if (!found) {
    bool early = eximlog::is_early_outcome(l);
    // A later slice keeps it for the engine before, which may have the message in flight (a
    // cutthrough line, too: Exim writes it before the arrival, but a log may not).
    if (later_slice_)
      orphan_lines_.push_back({keys.id, l.kind, suppressed, keys.address_hash, eximlog::outcome_on_this_host(raw),
                               folded_address_hash(address), early});
    if (early) msgs_.orphan_lines += early_.hold(keys.id, l.time, raw, keys.address_hash);  // its arrival counts it
    else ++msgs_.orphan_lines;
    return;
  }
  Message& m = *found;
  if (suppressed) return;
  if (!m.bounce) return count_plain_outcome(m, l.kind, keys.address_hash, l.time);
  if (m.bounce_target && !m.counts_outcome_of(folded_address_hash(address))) return;
  bool here = eximlog::outcome_on_this_host(raw);  // only a bounce's tell (no backscatter)
  if (!m.listed) {
    if (note_address(m, keys.address_hash)) {
      add_recipient(m, l.time);
      if (folds(ActorKind::BounceRecipient)) {
        uint32_t victim = note_bounce_recipient(address, m, l, raw);
        m.actor[size_t(ActorKind::BounceRecipient)] = victim;
        // Without a "for" list an outcome says which address it is for: one tried into a
        // mailbox here (errors_copy's postmaster, or the user's own full one) is that address's.
        if (here) ++tab(ActorKind::BounceRecipient).at(victim).rejected_rcpts;
      }
    }
  }
  count_outcome(m, l.kind, here);
}

void Forensics::add_recipient(Message& m, CivilSeconds time) {
  if (m.origin & Message::kOld) last_old_add_ = std::max(last_old_add_, time);
  add_recipients(m, 1);
}

// An outcome of a message that is not a bounce: one for every actor, whatever the address.
void Forensics::count_plain_outcome(Message& m, LineKind kind, uint32_t address_hash, CivilSeconds time) {
  if (!m.listed && note_address(m, address_hash)) add_recipient(m, time);
  count_outcome(m, kind, false);
}

bool Forensics::saw_address(const Message& m, uint32_t address_hash) const {
  size_t inline_count = std::min<size_t>(m.seen_count, Message::kSeenInline);
  if (std::find(m.seen.begin(), m.seen.begin() + inline_count, address_hash) != m.seen.begin() + inline_count)
    return true;
  if (m.seen_more == kNone) return false;
  const SeenMore& more = seen_more_[m.seen_more];
  return std::find(more.begin(), more.begin() + (m.seen_count - inline_count), address_hash) !=
         more.begin() + (m.seen_count - inline_count);
}

bool Forensics::note_address(Message& m, uint32_t address_hash) {
  if (saw_address(m, address_hash)) return false;
  if (m.seen_count == Message::kSeenMost) return true;
  if (m.seen_count < Message::kSeenInline) {
    m.seen[m.seen_count] = address_hash;
  } else {
    if (m.seen_more == kNone) m.seen_more = seen_more_.take();
    seen_more_[m.seen_more][m.seen_count - Message::kSeenInline] = address_hash;
  }
  ++m.seen_count;
  return true;
}

void Forensics::place(const eximlog::MessageKey& id, const Message& m) {
  Message& slot = inflight_[id];
  if (slot.seen_more != kNone) seen_more_.give(slot.seen_more);
  slot = m;
}

void Forensics::forget(const eximlog::MessageKey& id, const Message& m) {
  if (m.seen_more != kNone) seen_more_.give(m.seen_more);
  inflight_.erase(id);
}

void Forensics::count_outcome(Message& m, LineKind kind, bool here) {
  if (kind == LineKind::Delivery) ++m.delivered;
  else if (kind == LineKind::Defer) ++m.deferred;
  else ++m.failed;
  if (here && m.outcomes_here < UINT8_MAX) ++m.outcomes_here;
}

void Forensics::on_completed(const LineKeys& keys) {
  if (!keys.has_id) return;
  const Message* m = inflight_.find(keys.id);
  if (!m) {
    if (later_slice_) orphan_lines_.push_back({keys.id, LineKind::Completed});
    return;
  }
  if (m->origin & Message::kWarm) warm_completions_.push_back({keys.id, m->actor});
  settle_outcomes(*m);
  forget(keys.id, *m);
  ++msgs_.completed;
}

void Forensics::settle_outcomes(const Message& m) {
  if ((m.delivered | m.deferred | m.failed) == 0) return;
  // A cut "for" list: each recipient is delivered or fails once, so those outcomes past the
  // listed count are recipients it did not name (deferrals repeat and say nothing). Totals
  // only: the peak windows keep the listed ones, as every engine and slice saw them alike.
  uint32_t recipients = m.recipients, unlisted = 0;
  if (m.truncated_list && m.delivered + m.failed > m.recipients) {
    recipients = m.delivered + m.failed;
    unlisted = recipients - m.recipients;
    msgs_.recipients += unlisted;
  }
  for (size_t k = 0; k < kActorKinds; ++k) {
    if (m.actor[k] == kNone) continue;
    ActorStats& a = tables_[k]->at(m.actor[k]);
    if (unlisted) a.recipients += unlisted, a.max_recipients = std::max(a.max_recipients, recipients);
    a.delivered += m.delivered;
    a.deferred += m.deferred;
    // Outcomes of a listed bounce's target only (not errors_copy's postmaster, see
    // first_bounce_target); an unlisted bounce's are told per address, as they come (on_outcome).
    if (k == size_t(ActorKind::BounceRecipient) && m.listed) a.rejected_rcpts += m.outcomes_here;
    // A recipient fails once: a frozen bounce thawed and tried again logs its ** line again.
    a.failed += std::min(m.failed, std::max(recipients, 1u));
  }
}

void Forensics::on_frozen(const LineKeys& keys) {
  if (!keys.has_id) return;
  Message* m = inflight_.find(keys.id);
  if (!m) {
    if (later_slice_) orphan_lines_.push_back({keys.id, LineKind::Frozen});
    return;
  }
  if (m->origin & Message::kWarm) {  // the engine before this slice may have counted it frozen: the merge decides
    if (!m->frozen) orphan_lines_.push_back({keys.id, LineKind::Frozen});
    m->frozen = true;
    return;
  }
  count_frozen(*m);
}

void Forensics::count_frozen(Message& m) {
  if (m.frozen) return;
  m.frozen = true;
  ++msgs_.frozen;
  for (size_t k = 0; k < kActorKinds; ++k)
    if (m.actor[k] != kNone) ++tables_[k]->at(m.actor[k]).frozen;
}

void Forensics::on_cwd(const LogLine& l, std::string_view raw) {
  // Exim logs cwd= for every invocation, including its own queue runners and delivery
  // processes: only message submissions count.
  if (!eximlog::is_submission_cwd(l.cwd, l.args)) return;
  ++msgs_.cwd_lines;
  if (!folds(ActorKind::Script)) return;
  bool created = false;
  uint32_t script = tab(ActorKind::Script).intern(l.cwd, &created);
  if (created) add_evidence(tab(ActorKind::Script).at(script), raw, Evidence::Mark::kFirstSeen);
  cwd_.add(l.time, l.pid, script, l.cwd);
}

uint32_t Forensics::take_script(const LogLine& l) {
  if (!folds(ActorKind::Script)) return kNone;
  uint32_t script = cwd_.take(l.time, l.pid, l.ident);
  if (script != kNone) ++msgs_.cwd_attached;
  return script;
}

void Forensics::on_rejected_rcpt(const LogLine& l, std::string_view raw, const LineKeys& keys) {
  // A session that logged in is one of our users mistyping a colleague's address (an office
  // behind one NAT address), not a client guessing our mailboxes: its rejections are its
  // account's (someone with a stolen password harvesting addresses tries hundreds).
  if (!l.auth.empty()) {
    if (keys.has(ActorKind::AuthAccount) && folds(ActorKind::AuthAccount) && looks_like_unknown_recipient(l)) {
      ActorStats& account = actor_of(ActorKind::AuthAccount, keys, l.auth_id, true);
      if (account.rejected_rcpts++ == 0) add_evidence(account, raw, Evidence::Mark::kFirstRejection);
      if (account.extras) account.extras->note_rejected_address(keys.address_hash);
    }
    return;
  }
  if (!keys.has(ActorKind::ClientIp) || !folds(ActorKind::ClientIp) || !looks_like_unknown_recipient(l)) return;
  ActorStats& a = actor_of(ActorKind::ClientIp, keys, l.host_ip, false);
  // A sample of the rest, chosen by the line itself: a count would depend on the lines before,
  // which the engine of a later slice of the log does not see.
  bool first = a.rejected_rcpts++ == 0, sampled = sampled_line(raw, 64);
  if (a.extras) {
    if (first) a.extras->first_rejection = l.time;
    a.extras->last_rejection = l.time;
    a.extras->note_rejected_address(keys.address_hash);
  }
  if (first || sampled) add_evidence(a, raw, sampled ? Evidence::Mark::kNone : Evidence::Mark::kFirstRejection);
  if (a.first == 0) a.first = l.time;
  a.last = l.time;
}

void Forensics::on_auth_failure(const LogLine& l, std::string_view raw, const LineKeys& keys) {
  // 435 "Unable to authenticate at present": the server could not check the password (its
  // authentication backend was down), so nobody guessed anything.
  if (l.reason.starts_with("435 ")) return;
  if (keys.has(ActorKind::ClientIp) && folds(ActorKind::ClientIp)) {
    ActorStats& ip = actor_of(ActorKind::ClientIp, keys, l.host_ip, false);
    bool first = ip.failed_logins++ == 0, sampled = sampled_line(raw, 16);
    if (first) ip.first_failed_login = l.time;
    if (first || sampled) add_evidence(ip, raw, sampled ? Evidence::Mark::kNone : Evidence::Mark::kFirstFailedLogin);
    ip.last_failed_login = l.time;
    // One account guessed from many IPs is one attack on it.
    ip.login_target = ActorStats::joined_login_target(ip.login_target, keys.has(ActorKind::AuthAccount)
                                                                           ? keys.hash[size_t(ActorKind::AuthAccount)]
                                                                           : ActorStats::kUnnamed);
    if (ip.first == 0) ip.first = l.time;
    ip.last = l.time;
  }
  if (keys.has(ActorKind::AuthAccount) && folds(ActorKind::AuthAccount)) {
    ActorStats& acc = actor_of(ActorKind::AuthAccount, keys, l.auth_id, true);
    if (acc.failed_logins++ == 0) {
      acc.first_failed_login = l.time;
      add_evidence(acc, raw, Evidence::Mark::kFirstFailedLogin);
    }
    acc.last_failed_login = l.time;
  }
}

std::unique_ptr<Forensics> Forensics::split_off(uint32_t kinds) {
  // A script keeps the login that ran it (a view into the local users' keys), and a sender's
  // first message counts for its domain: each pair is folded by one engine.
  auto together = [&](ActorKind a, ActorKind b) {
    return ((kinds >> unsigned(a)) & 1u) == ((kinds >> unsigned(b)) & 1u);
  };
  if (!together(ActorKind::Script, ActorKind::LocalUser) || !together(ActorKind::Sender, ActorKind::SenderDomain))
    throw std::invalid_argument("split_off: a script goes with its local user, a sender with its domain");
  auto other = std::make_unique<Forensics>(thresholds_);
  other->set_time_range(since_, until_);
  other->kinds_ = kinds & kinds_;
  kinds_ &= ~kinds;
  for (size_t k = 0; k < kActorKinds; ++k)
    if ((other->kinds_ >> k) & 1u) std::swap(tables_[k], other->tables_[k]);
  inflight_.for_each([&](const eximlog::MessageKey& id, Message& m) {
    Message& theirs = other->inflight_[id] = m;
    for (size_t k = 0; k < kActorKinds; ++k) ((other->kinds_ >> k) & 1u ? m.actor[k] : theirs.actor[k]) = kNone;
    if (m.seen_more != kNone) theirs.seen_more = other->seen_more_.add(seen_more_[m.seen_more]);
  });
  other->lines_ = lines_, other->msgs_ = msgs_, other->first_ = first_, other->last_ = last_;
  other->saw_pid_ = saw_pid_, other->clock_ = clock_;
  other->early_ = early_;  // each engine claims them for its own copy of the message
  return other;
}

void Forensics::adopt(std::unique_ptr<Forensics> other) {
  for (size_t k = 0; k < kActorKinds; ++k)
    if ((other->kinds_ >> k) & 1u) std::swap(tables_[k], other->tables_[k]);
  kinds_ |= other->kinds_;
  other->kinds_ = 0;
  adopted_.push_back(std::move(other));
}

void Forensics::finish() {
  // Messages still queued at the end keep the outcomes logged so far.
  msgs_.orphan_lines += early_.size();
  inflight_.for_each([&](const eximlog::MessageKey&, const Message& m) { settle_outcomes(m); });
  msgs_.still_queued = inflight_.size();
}

}  // namespace sw::stats

namespace sw::stats {

void Forensics::save_state(StateWriter& w, const Forensics* partner) const {
  uint32_t theirs = partner ? partner->kinds_ : 0;
  for (size_t k = 0; k < kActorKinds; ++k) ((theirs >> k) & 1u ? partner->tables_[k] : tables_[k])->save(w);
  // Both engines hold the same messages, each with its own kinds' actors: saved as one.
  w.u64(inflight_.size());
  inflight_.for_each([&](const eximlog::MessageKey& id, const Message& m) {
    Message whole = m;
    if (const Message* other = partner ? partner->inflight_.find(id) : nullptr)
      for (size_t k = 0; k < kActorKinds; ++k)
        if ((theirs >> k) & 1u) whole.actor[k] = other->actor[k];
    whole.seen_more = kNone;  // an index into this engine's pool: its addresses follow instead
    w.pod(id), w.pod(whole);
    for (size_t i = Message::kSeenInline; i < m.seen_count; ++i)
      w.pod(seen_more_[m.seen_more][i - Message::kSeenInline]);
  });
  cwd_.save(w);
  w.u64(identified_.entries().size());
  for (const auto& e : identified_.entries()) w.pod(e.id), w.pod(e.time), w.str(e.user);
  w.u64(identified_.arrivals().size());
  for (const auto& e : identified_.arrivals()) {
    w.pod(e.id), w.pod(e.time), w.u64(e.size), w.pod(uint8_t(e.named));
    w.u64(e.recipients.size());
    for (uint32_t h : e.recipients) w.pod(h);
  }
  w.u64(identified_.connections().size());
  for (const auto& c : identified_.connections()) w.str(c.ip), w.str(c.port), w.str(c.user), w.pod(c.time);
  w.u64(early_.size());
  early_.for_each([&](const eximlog::EarlyOutcomes::Entry& e) { w.pod(e.id), w.pod(e.time), w.str(e.raw); });
  w.u64(lines_.lines), w.u64(lines_.unparsed), w.u64(lines_.continuation), w.u64(lines_.outside_time_range);
  w.pod(lines_.by_kind);
  w.u64(lines_.unparsed_samples.size());
  for (const auto& sample : lines_.unparsed_samples) w.str(sample);
  w.pod(msgs_);
  w.pod(first_), w.pod(last_), w.pod(uint8_t(saw_pid_));
  w.pod(clock_);
  save_slice_state(w);
}

void Forensics::load_state(StateReader& r) {
  for (auto& t : tables_) t->load(r, evidence_);
  uint64_t messages = r.count(sizeof(eximlog::MessageKey) + sizeof(Message));
  inflight_.reserve(messages);
  for (uint64_t i = 0; i < messages; ++i) {
    auto id = r.pod<eximlog::MessageKey>();
    // A bool holding any other byte than 0 or 1 is undefined behaviour: checked before use.
    std::string_view raw = r.take(sizeof(Message));
    for (size_t flag : {offsetof(Message, listed), offsetof(Message, bounce), offsetof(Message, frozen)})
      if (uint8_t(raw[flag]) > 1) r.fail("a message flag out of range");
    Message m;
    std::memcpy(static_cast<void*>(&m), raw.data(), sizeof m);
    for (size_t k = 0; k < kActorKinds; ++k)
      if (m.actor[k] != kNone && m.actor[k] >= tables_[k]->size()) r.fail("a message names an actor out of range");
    if (m.seen_count > Message::kSeenMost) r.fail("a message's addresses out of range");
    m.seen_more = kNone;
    if (m.seen_count > Message::kSeenInline) {
      SeenMore more{};
      for (size_t a = Message::kSeenInline; a < m.seen_count; ++a) more[a - Message::kSeenInline] = r.pod<uint32_t>();
      m.seen_more = seen_more_.add(more);
    }
    place(id, m);
  }
  cwd_.load(r, uint32_t(table(ActorKind::Script).size()));
  for (uint64_t i = 0, n = r.count(sizeof(eximlog::MessageKey) + sizeof(CivilSeconds) + 8); i < n; ++i) {
    eximlog::SenderIdentities::Entry e;
    e.id = r.pod<eximlog::MessageKey>(), e.time = r.time(), e.user = std::string(r.str());
    if (!identified_.restore(std::move(e))) r.fail("too many identified senders");
  }
  for (uint64_t i = 0, n = r.count(sizeof(eximlog::MessageKey) + sizeof(CivilSeconds) + 17); i < n; ++i) {
    eximlog::SenderIdentities::Entry e;
    e.id = r.pod<eximlog::MessageKey>(), e.time = r.time(), e.size = r.u64();
    uint8_t named = r.pod<uint8_t>();
    if (named > 1) r.fail("an arrival's flag out of range");
    e.named = named == 1;
    e.recipients.resize(r.count(sizeof(uint32_t)));
    for (uint32_t& h : e.recipients) h = r.pod<uint32_t>();
    if (!identified_.restore_arrival(std::move(e))) r.fail("too many arrivals waiting for their users");
  }
  for (uint64_t i = 0, n = r.count(3 * 8 + sizeof(CivilSeconds)); i < n; ++i) {
    eximlog::SenderIdentities::Connection c;
    c.ip = std::string(r.str()), c.port = std::string(r.str()), c.user = std::string(r.str()), c.time = r.time();
    if (!identified_.restore_connection(std::move(c))) r.fail("too many connections waiting for their arrivals");
  }
  for (uint64_t i = 0, n = r.count(sizeof(eximlog::MessageKey) + sizeof(CivilSeconds) + 8); i < n; ++i) {
    auto id = r.pod<eximlog::MessageKey>();
    CivilSeconds time = r.time();
    std::string_view raw = r.str();
    LogLine l;
    eximlog::parse_line(raw, l, eximlog::LineFields::Essential);
    if (!eximlog::is_early_outcome(l) || !(eximlog::message_key(l.message_id) == id) || l.time != time)
      r.fail("an early outcome that is not its own line");
    if (!early_.restore(id, time, raw, line_keys(l).address_hash)) r.fail("too many early outcomes");
  }

  lines_.lines = r.u64(), lines_.unparsed = r.u64(), lines_.continuation = r.u64();
  lines_.outside_time_range = r.u64();
  lines_.by_kind = r.pod<decltype(lines_.by_kind)>();
  for (uint64_t i = 0, n = r.count(8); i < n; ++i) lines_.unparsed_samples.emplace_back(r.str());
  if (lines_.unparsed_samples.size() > kUnparsedSamples) r.fail("too many samples");
  msgs_ = r.pod<MessageCounts>();
  first_ = r.time(), last_ = r.time();
  saw_pid_ = r.pod<uint8_t>() != 0;
  clock_ = r.pod<ClockSteps>();
  for (CivilSeconds t : {clock_.first_from, clock_.first_to, clock_.first_line, clock_.newest}) r.checked_time(t);
  load_slice_state(r);
}

// What a later slice's engine keeps for merge() (a rotated log's own summary is one), field
// by field: the structs have padding, and an entry holds no byte that is not a value.
void Forensics::save_slice_state(StateWriter& w) const {
  w.pod(uint8_t(later_slice_)), w.pod(uint8_t(warm_enough_));
  w.pod(warm_sizes_);
  w.u64(orphan_lines_.size());
  for (const OrphanLine& o : orphan_lines_)
    w.pod(o.id), w.pod(uint8_t(o.kind)),
        w.pod(uint8_t(uint8_t(o.suppressed) | uint8_t(o.here) << 1 | uint8_t(o.early) << 2)), w.pod(o.address_hash),
        w.pod(o.folded_hash);
  w.u64(warm_completions_.size());
  for (const WarmCompletion& c : warm_completions_) w.pod(c.id), w.pod(c.actor);
  w.u64(warm_identified_.size());
  for (const WarmIdentified& i : warm_identified_) w.pod(i.id), w.pod(i.user);
  w.u64(arrival_prints_.size());
  for (uint32_t p : arrival_prints_) w.pod(p);
  w.pod(last_before_next_), w.pod(last_old_add_), w.pod(min_counted_time_), w.pod(min_window_end_);
}

void Forensics::load_slice_state(StateReader& r) {
  auto flag = [&] {
    auto v = r.pod<uint8_t>();
    if (v > 1) r.fail("a flag out of range");
    return v != 0;
  };
  later_slice_ = flag(), warm_enough_ = flag();
  warm_sizes_ = r.pod<decltype(warm_sizes_)>();
  for (size_t k = 0; k < kActorKinds; ++k)
    if (warm_sizes_[k] > tables_[k]->size()) r.fail("more actors read warm than there are");
  orphan_lines_.resize(r.count(sizeof(eximlog::MessageKey) + 10));
  for (OrphanLine& o : orphan_lines_) {
    o.id = r.pod<eximlog::MessageKey>();
    auto kind = r.pod<uint8_t>();
    if (kind != uint8_t(LineKind::Delivery) && kind != uint8_t(LineKind::Defer) && kind != uint8_t(LineKind::Bounce) &&
        kind != uint8_t(LineKind::Frozen) && kind != uint8_t(LineKind::Completed))
      r.fail("a kept line of another kind");
    o.kind = LineKind(kind);
    auto flags = r.pod<uint8_t>();
    if (flags > 7) r.fail("a kept line's flags out of range");
    o.suppressed = flags & 1, o.here = flags & 2, o.early = flags & 4;
    o.address_hash = r.pod<uint32_t>();
    o.folded_hash = r.pod<uint32_t>();
  }
  warm_completions_.resize(r.count(sizeof(eximlog::MessageKey) + sizeof(WarmCompletion::actor)));
  for (WarmCompletion& c : warm_completions_) {
    c.id = r.pod<eximlog::MessageKey>();
    c.actor = r.pod<decltype(c.actor)>();
    for (size_t k = 0; k < kActorKinds; ++k)
      if (c.actor[k] != kNone && c.actor[k] >= tables_[k]->size()) r.fail("a message names an actor out of range");
  }
  warm_identified_.resize(r.count(sizeof(eximlog::MessageKey) + sizeof(uint32_t)));
  for (WarmIdentified& i : warm_identified_) {
    i.id = r.pod<eximlog::MessageKey>();
    i.user = r.pod<uint32_t>();
    if (i.user != kNone && i.user >= table(ActorKind::LocalUser).size()) r.fail("a message names a user out of range");
  }
  arrival_prints_.resize(r.count(sizeof(uint32_t)));
  for (uint32_t& p : arrival_prints_) p = r.pod<uint32_t>();
  last_before_next_ = r.time(), last_old_add_ = r.time();
  min_counted_time_ = r.pod<CivilSeconds>(), min_window_end_ = r.pod<CivilSeconds>();
}

}  // namespace sw::stats

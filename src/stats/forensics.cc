#include "stats/forensics.h"

#include <functional>

#include "base/localpart.h"
#include "base/text.h"
#include "eximlog/line_parser.h"

namespace sw::stats {

using eximlog::LineKind;
using eximlog::LogLine;

namespace {

constexpr size_t kUnparsedSamples = 5;
constexpr uint64_t kEvidencePeakFloor = 10;

bool looks_like_unknown_recipient(const LogLine& l) {
  if (l.temporary) return false;
  std::string reason = to_lower(l.reason);
  return reason.find("relay") == std::string::npos;  // relay denials probe, they don't guess
}

}  // namespace

Forensics::Forensics(const Thresholds& t) : thresholds_(t) {
  for (size_t k = 0; k < kActorKinds; ++k) {
    auto kind = ActorKind(k);
    bool bursty = kind == ActorKind::Script || kind == ActorKind::LocalUser ||
                  kind == ActorKind::AuthAccount || kind == ActorKind::ClientIp;
    bool evidence = kind == ActorKind::SenderDomain || kind == ActorKind::BounceRecipient;
    tables_.emplace_back(kind, bursty ? t.window_seconds : 0, evidence);
  }
}

bool Forensics::count(LineKind kind, CivilSeconds time, uint32_t pid, std::string_view raw) {
  ++lines_.lines;
  if (kind == LineKind::Unparsed) {
    ++lines_.unparsed;
    if (lines_.unparsed_samples.size() < kUnparsedSamples)
      lines_.unparsed_samples.push_back(printable(raw, 200));
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
  if (pid) saw_pid_ = true;
  ++lines_.by_kind[size_t(kind)];
  return true;
}

void Forensics::add(const LogLine& l, std::string_view raw) {
  if (!count(l.kind, l.time, l.pid, raw)) return;
  switch (l.kind) {
    case LineKind::Arrival: on_arrival(l, raw); break;
    case LineKind::Delivery:
    case LineKind::Defer:
    case LineKind::Bounce: on_outcome(l); break;
    case LineKind::Frozen: on_frozen(l); break;
    case LineKind::Completed:
      if (!l.message_id.empty() && inflight_.erase(eximlog::message_key(l.message_id))) ++msgs_.completed;
      break;
    case LineKind::Cwd: on_cwd(l, raw); break;
    case LineKind::RejectRcpt: on_rejected_rcpt(l, raw); break;
    case LineKind::AuthFailure: on_auth_failure(l, raw); break;
    default: break;
  }
}

Forensics::LargeActorHashes Forensics::large_actor_hashes(const LogLine& l) {
  LargeActorHashes out;
  auto note = [&](ActorKind k, std::string_view key, bool lower) {
    out.kind[out.count] = k;
    out.hash[out.count++] = ActorTable::key_hash(key, lower);
  };
  if (l.kind != LineKind::Arrival && l.kind != LineKind::RejectRcpt && l.kind != LineKind::AuthFailure) return out;
  if (!l.host_ip.empty()) note(ActorKind::ClientIp, l.host_ip, false);
  if (!l.auth_id.empty()) note(ActorKind::AuthAccount, l.auth_id, true);
  if (l.kind != LineKind::Arrival || l.address.empty()) return out;
  note(ActorKind::Sender, l.address, true);
  std::string_view domain = domain_of(l.address);
  if (!domain.empty()) note(ActorKind::SenderDomain, domain, true);
  return out;
}

void Forensics::prefetch_slots(const LargeActorHashes& h) const {
  for (size_t i = 0; i < h.count; ++i) table(h.kind[i]).prefetch_slot(h.hash[i]);
}

void Forensics::prefetch_actors(const LargeActorHashes& h) const {
  for (size_t i = 0; i < h.count; ++i) table(h.kind[i]).prefetch_actor(h.hash[i]);
}

uint32_t Forensics::count_actor(ActorKind k, std::string_view key, const LogLine& l, uint32_t rcpts,
                                std::string_view raw, bool* was_new) {
  bool created = false;
  uint32_t idx = tab(k).intern(key, &created);
  ActorStats& a = tab(k).at(idx);
  ++a.messages;
  a.recipients += rcpts;
  a.bytes += l.size;
  if (rcpts > a.max_recipients) a.max_recipients = rcpts;
  if (a.first == 0) a.first = l.time;
  a.last = l.time;
  PeakWindow* w = a.window();
  bool peak = w && w->add(l.time, rcpts);
  // Evidence costs a copy: for peaks, only once the window holds enough mail to matter.
  if (created || (peak && w->peak_recipients() >= kEvidencePeakFloor)) a.add_evidence(raw);
  if (was_new) *was_new = created;
  return idx;
}

void Forensics::on_arrival(const LogLine& l, std::string_view raw) {
  ++msgs_.messages;
  Message m;
  m.actor.fill(kNone);
  m.bounce = l.address.empty();
  m.listed = !l.recipients.empty();
  if (m.listed) m.recipients = uint32_t(eximlog::for_each_recipient(l.recipients, [](std::string_view) {}));
  msgs_.recipients += m.recipients;
  if (m.bounce) ++msgs_.bounces;
  if (is_local_submission(l)) ++msgs_.local;

  // Bounces Exim generates itself (<> with R=) are not the local user's own mail.
  bool exim_generated = m.bounce && !l.router.empty();
  if (is_local_submission(l) && !exim_generated) {
    uint32_t script = take_script(l);
    if (script != kNone) {
      scratch_ = tab(ActorKind::Script).at(script).key;
      m.actor[size_t(ActorKind::Script)] = count_actor(ActorKind::Script, scratch_, l, m.recipients, raw);
    }
    if (!l.ident.empty())
      m.actor[size_t(ActorKind::LocalUser)] = count_actor(ActorKind::LocalUser, l.ident, l, m.recipients, raw);
  }
  if (!l.auth_id.empty()) {
    uint32_t idx = count_actor(ActorKind::AuthAccount, lowered(l.auth_id), l, m.recipients, raw);
    ActorTable::note_client_ip(tab(ActorKind::AuthAccount).at(idx), l.host_ip);
    m.actor[size_t(ActorKind::AuthAccount)] = idx;
  }
  if (!l.host_ip.empty())
    m.actor[size_t(ActorKind::ClientIp)] = count_actor(ActorKind::ClientIp, l.host_ip, l, m.recipients, raw);
  if (!m.bounce) {
    std::string_view sender = lowered(l.address);
    bool created = false;
    uint32_t si = count_actor(ActorKind::Sender, sender, l, m.recipients, raw, &created);
    m.actor[size_t(ActorKind::Sender)] = si;
    if (is_local_submission(l) || !l.auth_id.empty()) ++tab(ActorKind::Sender).at(si).trusted_submissions;
    std::string_view domain = domain_of(sender);
    if (!domain.empty()) {
      uint32_t d = count_actor(ActorKind::SenderDomain, domain, l, m.recipients, raw);
      m.actor[size_t(ActorKind::SenderDomain)] = d;
      if (created) {
        ActorStats& ds = tab(ActorKind::SenderDomain).at(d);
        ++ds.distinct_senders;
        if (looks_random_localpart(local_part_of(sender))) ++ds.random_senders;
      }
    }
  }
  if (!l.subject.empty()) {
    // Digits are folded so templated subjects ("Order #123") group like the campaign they are.
    std::string_view subject = l.subject;
    if (subject.find('\\') != std::string_view::npos) subject = subject_ = unescape_exim(subject);
    subject = fold_digits(subject, scratch_);
    m.actor[size_t(ActorKind::Subject)] = count_actor(ActorKind::Subject, subject, l, m.recipients, raw);
  }
  if (m.bounce && m.listed) {
    eximlog::for_each_recipient(l.recipients, [&](std::string_view r) { note_bounce_recipient(r, l, raw); });
    m.actor[size_t(ActorKind::BounceRecipient)] =
        tab(ActorKind::BounceRecipient).intern(lowered(l.recipients.substr(0, l.recipients.find(' '))));
  }
  if (!l.message_id.empty()) inflight_[eximlog::message_key(l.message_id)] = m;
}

void Forensics::note_bounce_recipient(std::string_view address, const LogLine& l, std::string_view raw) {
  count_actor(ActorKind::BounceRecipient, lowered(address), l, 1, raw);
}

std::string_view Forensics::lowered(std::string_view s) {
  bool upper = false;
  for (char c : s) upper |= (c >= 'A' && c <= 'Z');
  if (!upper) return s;
  scratch_.assign(s);
  for (char& c : scratch_) c = ascii_lower(c);
  return scratch_;
}

void Forensics::add_recipients(Message& m, uint32_t n) {
  m.recipients += n;
  msgs_.recipients += n;
  for (size_t k = 0; k < kActorKinds; ++k) {
    if (m.actor[k] == kNone || k == size_t(ActorKind::BounceRecipient)) continue;
    ActorStats& a = tables_[k].at(m.actor[k]);
    a.recipients += n;
    if (m.recipients > a.max_recipients) a.max_recipients = m.recipients;
    if (a.window()) a.window()->add_recipients(n);
  }
}

void Forensics::on_outcome(const LogLine& l) {
  if (l.message_id.empty()) return;
  Message* found = inflight_.find(eximlog::message_key(l.message_id));
  if (!found) {
    ++msgs_.orphan_lines;
    return;
  }
  Message& m = *found;
  if (l.kind == LineKind::Delivery && l.delivery == eximlog::DeliveryFlag::Suppressed) return;
  std::string_view top = l.original.empty() ? l.address : l.original;
  if (!m.listed) {
    uint32_t h = uint32_t(std::hash<std::string_view>{}(top));
    bool seen = false;
    for (size_t i = 0; i < m.seen_count; ++i) seen |= m.seen[i] == h;
    if (!seen) {
      if (m.seen_count < Message::kSeenInline) m.seen[m.seen_count++] = h;
      add_recipients(m, 1);
      if (m.bounce) {
        m.actor[size_t(ActorKind::BounceRecipient)] = tab(ActorKind::BounceRecipient).intern(lowered(top));
        note_bounce_recipient(top, l, l.text);
      }
    }
  }
  for (size_t k = 0; k < kActorKinds; ++k) {
    if (m.actor[k] == kNone) continue;
    ActorStats& a = tables_[k].at(m.actor[k]);
    if (l.kind == LineKind::Delivery) ++a.delivered;
    else if (l.kind == LineKind::Defer) ++a.deferred;
    else ++a.failed;
  }
}

void Forensics::on_frozen(const LogLine& l) {
  if (l.message_id.empty()) return;
  Message* m = inflight_.find(eximlog::message_key(l.message_id));
  if (!m) return;
  ++msgs_.frozen;
  for (size_t k = 0; k < kActorKinds; ++k)
    if (m->actor[k] != kNone) ++tables_[k].at(m->actor[k]).frozen;
}

void Forensics::on_cwd(const LogLine& l, std::string_view raw) {
  // Exim logs cwd= for every invocation, including its own queue runners and delivery
  // processes: only message submissions count.
  if (!eximlog::is_submission_cwd(l.cwd, l.args)) return;
  ++msgs_.cwd_lines;
  bool created = false;
  uint32_t script = tab(ActorKind::Script).intern(l.cwd, &created);
  if (created) tab(ActorKind::Script).at(script).add_evidence(raw);
  cwd_.add(l.time, l.pid, script);
}

uint32_t Forensics::take_script(const LogLine& l) {
  uint32_t script = cwd_.take(l.time, l.pid);
  if (script != kNone) ++msgs_.cwd_attached;
  return script;
}

void Forensics::on_rejected_rcpt(const LogLine& l, std::string_view raw) {
  if (l.host_ip.empty() || !looks_like_unknown_recipient(l)) return;
  ActorStats& a = tab(ActorKind::ClientIp).at(tab(ActorKind::ClientIp).intern(l.host_ip));
  if (a.rejected_rcpts++ == 0 || a.rejected_rcpts % 64 == 0) a.add_evidence(raw);
  if (a.first == 0) a.first = l.time;
  a.last = l.time;
}

void Forensics::on_auth_failure(const LogLine& l, std::string_view raw) {
  if (!l.host_ip.empty()) {
    ActorStats& ip = tab(ActorKind::ClientIp).at(tab(ActorKind::ClientIp).intern(l.host_ip));
    if (ip.failed_logins++ == 0 || ip.failed_logins % 16 == 0) ip.add_evidence(raw);
    if (ip.first == 0) ip.first = l.time;
    ip.last = l.time;
  }
  if (!l.auth_id.empty()) {
    ActorStats& acc = tab(ActorKind::AuthAccount).at(tab(ActorKind::AuthAccount).intern(lowered(l.auth_id)));
    if (acc.failed_logins++ == 0) {
      acc.first_failed_login = l.time;
      acc.add_evidence(raw);
    }

  }
}

void Forensics::finish() {
  msgs_.still_queued = inflight_.size();
}

}  // namespace sw::stats

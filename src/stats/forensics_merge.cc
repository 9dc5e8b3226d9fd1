// Slices of one log folded at once by engines of their own, and merged in order (see
// Forensics::merge in forensics.h). Why the merge is exact, in short:
// - counters add up; first and last times, logins' targets and evidence lines are kept in
//   forms that merge (evidence marks the lines that only count as the first of something);
// - a burst window ending in the later slice holds only lines from it once two windows have
//   passed: its engine reads them warm first, so its windows stand as one engine's would
//   there, and the peak of the whole is the busier of the two, the earlier one on a tie;
// - a message that arrived before the later slice and was logged after its warm-up is
//   settled here from the lines kept about it; one that would change a window from there
//   (recipients counted from its delivery lines) makes the merge refuse, and the caller folds
//   those lines on this engine instead.
#include <algorithm>
#include <unordered_set>

#include "base/localpart.h"
#include "base/text.h"
#include "eximlog/line_parser.h"
#include "stats/forensics.h"

namespace sw::stats {

using eximlog::LineKind;
using eximlog::LogLine;

namespace {

constexpr uint32_t kMergeAhead = 16;

}  // namespace

CivilSeconds Forensics::warm_up_seconds() const {
  // Two windows: recipients added to a window in the first one by mail the engine never saw
  // arrive have left every window by the end of the second. At least as long as a cwd= line
  // waits for its submission (eximlog/cwd_matcher.cc) and cPanel's identification for its
  // arrival (five minutes each), with a minute to spare.
  return std::max<CivilSeconds>(2 * thresholds_.window_seconds, eximlog::SenderIdentities::kWait + 60);
}

void Forensics::warm(const LogLine& l, std::string_view raw, const LineKeys& keys) {
  if (l.time < since_ || l.time >= until_) return;
  switch (l.kind) {
    case LineKind::Arrival: warm_arrival(l, keys); break;
    case LineKind::Delivery:
    case LineKind::Defer:
    case LineKind::Bounce: warm_outcome(l, raw, keys); break;
    case LineKind::Completed:
      if (const Message* m = keys.has_id ? inflight_.find(keys.id) : nullptr) forget(keys.id, *m);
      break;
    case LineKind::Cwd:
      if (eximlog::is_submission_cwd(l.cwd, l.args))
        cwd_.add(l.time, l.pid, tab(ActorKind::Script).intern(l.cwd, nullptr), l.cwd);
      break;
    case LineKind::CpanelIdentification: note_identification(l, raw, true); break;
    default: break;
  }
}

void Forensics::warm_arrival(const LogLine& l, const LineKeys& keys) {
  Message m;
  m.actor.fill(kNone);
  m.bounce = l.address.empty();
  m.listed = !l.recipients.empty();
  m.truncated_list = l.truncated_rcpts;
  m.recipients = keys.recipients;
  m.origin = Message::kWarm;
  auto intern = [&](ActorKind k, std::string_view key, bool lower) {
    uint32_t idx = tab(k).intern(keys.hash[size_t(k)], key, lower, nullptr);
    if (PeakWindow* w = tab(k).at(idx).window()) w->push(l.time, m.recipients);
    m.actor[size_t(k)] = idx;
  };
  bool local = is_local_submission(l);
  m.bounce_from_elsewhere = eximlog::is_bounce_from_elsewhere(l);
  if (local && !(m.bounce && !l.router.empty())) {
    uint32_t script = cwd_.take(l.time, l.pid, l.ident);
    if (keys.has(ActorKind::LocalUser)) intern(ActorKind::LocalUser, l.ident, false);
    if (script != kNone) {
      tab(ActorKind::Script).at(script).window()->push(l.time, m.recipients);
      m.actor[size_t(ActorKind::Script)] = script;
    }
  }
  std::string user = take_identified(l, m);
  if (folds(ActorKind::LocalUser) && eximlog::names_a_user(user)) {
    uint32_t idx = tab(ActorKind::LocalUser).intern(ActorTable::key_hash(user), user, false, nullptr);
    tab(ActorKind::LocalUser).at(idx).window()->push(l.time, m.recipients);
    m.actor[size_t(ActorKind::LocalUser)] = idx;
  }
  if (keys.has(ActorKind::AuthAccount)) intern(ActorKind::AuthAccount, l.auth_id, true);
  if (keys.has(ActorKind::ClientIp)) intern(ActorKind::ClientIp, l.host_ip, false);
  if (keys.has(ActorKind::Sender)) {
    intern(ActorKind::Sender, l.address, true);
    if (keys.has(ActorKind::SenderDomain)) intern(ActorKind::SenderDomain, domain_of(l.address), true);
  }
  if (keys.has(ActorKind::Subject)) {
    auto known = tab(ActorKind::Subject).find_index(keys.hash[size_t(ActorKind::Subject)]);
    m.actor[size_t(ActorKind::Subject)] =
        known ? *known
              : tab(ActorKind::Subject)
                    .intern(keys.hash[size_t(ActorKind::Subject)], subject_key_of(l.subject), false, nullptr);
  }
  if (m.bounce && m.listed) {
    std::string_view target = first_bounce_target(l, m);
    if (!target.empty())
      m.actor[size_t(ActorKind::BounceRecipient)] =
          tab(ActorKind::BounceRecipient).intern(ActorTable::key_hash(target, true), target, true, nullptr);
  }
  if (!keys.has_id) return;
  place(keys.id, m);
  if (!early_.empty()) claim_early_outcomes(keys.id, l.time, true);
}

void Forensics::warm_outcome(const LogLine& l, std::string_view raw, const LineKeys& keys) {
  Message* m = keys.has_id ? inflight_.find(keys.id) : nullptr;
  // Held as the engine before this slice holds it: whichever engine counts the arrival counts it.
  if (!m && eximlog::is_early_outcome(l)) early_.hold(keys.id, l.time, raw, keys.address_hash);
  if (!m || m->listed) return;
  if (l.kind == LineKind::Delivery && l.delivery == eximlog::DeliveryFlag::Suppressed) return;
  if (!note_address(*m, keys.address_hash)) return;
  m->recipients += 1;
  for (size_t k = 0; k < kActorKinds; ++k)
    if (m->actor[k] != kNone && k != size_t(ActorKind::BounceRecipient))
      if (PeakWindow* w = tables_[k]->at(m->actor[k]).window()) w->add_recipients(1, false);
  if (m->bounce) {
    std::string_view top = l.original.empty() ? l.address : l.original;
    m->actor[size_t(ActorKind::BounceRecipient)] =
        tab(ActorKind::BounceRecipient).intern(ActorTable::key_hash(top, true), top, true, nullptr);
  }
}

void Forensics::start_counting(bool warm_enough) {
  later_slice_ = true;
  warm_enough_ = warm_enough;
  for (size_t k = 0; k < kActorKinds; ++k) warm_sizes_[k] = uint32_t(tables_[k]->size());
}

void Forensics::enter_next_slice() {
  inflight_.for_each([](const eximlog::MessageKey&, Message& m) { m.origin |= Message::kOld; });
  last_before_next_ = last_;
  last_old_add_ = 0;
  early_before_next_.clear();
  early_.for_each([&](const eximlog::EarlyOutcomes::Entry& e) { early_before_next_.push_back(e.id); });
}

bool Forensics::can_merge(const Forensics& later) const {
  if (!later.later_slice_ || !later.warm_enough_ || later.kinds_ != kinds_ || kinds_ != kAllKinds) return false;
  if (later.clock_.count != 0) return false;  // windows restart at a clock change: one engine's
  // Every window the later engine looked at must end a window's length after the lines before
  // its slice (else one engine's window would have held some of them: a clock that stepped
  // back, or a window not moved on since an arrival early in the warm-up) and after the
  // recipients this engine added, in the warm-up, to mail from before the slice.
  CivilSeconds clear = std::max(last_before_next_, last_old_add_) + thresholds_.window_seconds;
  if (later.min_counted_time_ < clear || later.min_window_end_ < clear) return false;
  // Lines about messages the later engine never saw arrive: none may add recipients (that
  // would change a window it already looked at).
  std::unordered_set<uint64_t> completed;
  auto key_of = [](const eximlog::MessageKey& id) { return eximlog::MessageKeyHash{}(id); };
  for (const OrphanLine& o : later.orphan_lines_) {
    const Message* m = inflight_.find(o.id);
    if (!m || completed.count(key_of(o.id))) continue;
    if (o.kind == LineKind::Completed) completed.insert(key_of(o.id));
    bool outcome = o.kind == LineKind::Delivery || o.kind == LineKind::Defer || o.kind == LineKind::Bounce;
    if (!outcome || o.suppressed || m->listed) continue;
    if (!saw_address(*m, o.address_hash)) return false;
  }
  // A message without a "for" list whose cutthrough line came before the later slice: the
  // later engine counted its recipients without that line's address.
  // Nor one whose "for" list Exim cut (<trunc>): each engine would settle its share of the
  // outcomes, and the recipients past the list are counted from all of them at once.
  auto split_pair = [&](const eximlog::MessageKey& id) {
    const Message* m = inflight_.find(id);
    return m && (((m->origin & Message::kEarlyBefore) && !m->listed) || m->truncated_list);
  };
  for (const WarmCompletion& c : later.warm_completions_)
    if (split_pair(c.id)) return false;
  bool split = false;
  later.inflight_.for_each([&](const eximlog::MessageKey& id, const Message& theirs) {
    split = split || ((theirs.origin & Message::kWarm) && split_pair(id));
  });
  if (split) return false;
  // Messages both engines saw arrive (the later one while warm) must have the same actors, but
  // for the user the later one counted when cPanel named it there (merge_messages adds it).
  std::unordered_set<uint64_t> identified_later;
  for (const WarmIdentified& w : later.warm_identified_) {
    // Named here already (by its connection, or a line before it that the later engine did not
    // see): the later engine counted its user a second time.
    const Message* m = inflight_.find(w.id);
    if (m && (m->origin & Message::kIdentified)) return false;
    identified_later.insert(key_of(w.id));
  }
  auto same_actors = [&](const eximlog::MessageKey& id, const Message& mine,
                         const std::array<uint32_t, kActorKinds>& theirs) {
    for (size_t k = 0; k < kActorKinds; ++k) {
      if (k == size_t(ActorKind::LocalUser) && mine.actor[k] == kNone && theirs[k] != kNone &&
          identified_later.count(key_of(id)))
        continue;
      if ((mine.actor[k] == kNone) != (theirs[k] == kNone)) return false;
      if (mine.actor[k] != kNone && tables_[k]->all()[mine.actor[k]].key != later.tables_[k]->all()[theirs[k]].key)
        return false;
    }
    return true;
  };
  for (const WarmCompletion& c : later.warm_completions_) {
    const Message* m = inflight_.find(c.id);
    if (!m || !same_actors(c.id, *m, c.actor)) return false;
  }
  bool agree = true;
  later.inflight_.for_each([&](const eximlog::MessageKey& id, const Message& theirs) {
    if (!(theirs.origin & Message::kWarm)) return;
    const Message* m = inflight_.find(id);
    agree = agree && m && same_actors(id, *m, theirs.actor);
  });
  if (!agree) return false;
  // An id that arrived again in the later slice replaced the message in flight before it.
  std::vector<uint32_t> prints = later.arrival_prints_;
  std::sort(prints.begin(), prints.end());
  bool reused = false;
  inflight_.for_each([&](const eximlog::MessageKey& id, const Message&) {
    reused = reused || std::binary_search(prints.begin(), prints.end(), id_print(id));
  });
  return !reused;
}

bool Forensics::merge(std::unique_ptr<Forensics> later) {
  early_before_next_.clear();  // its lines were claimed, or let go, in the later slice's warm-up
  if (!can_merge(*later)) return false;
  std::array<std::vector<uint32_t>, kActorKinds> moved;  // later's actor index -> this one's
  merge_tables(*later, moved);
  merge_messages(*later, moved);
  merge_counts(*later);
  last_before_next_ = later->last_before_next_;
  last_old_add_ = later->last_old_add_;
  return true;
}

void Forensics::merge_tables(Forensics& later, std::array<std::vector<uint32_t>, kActorKinds>& moved) {
  std::vector<uint32_t> new_senders;  // later's senders it counted as new that this engine knew
  // Lines the later engine holds as copies (not places in an input) are copied here, those it
  // still keeps only, and the later engine goes whole. Its arena holds every line it ever kept
  // (on a rotated day, the first lines of senders this engine knew already, which the merge
  // drops: 15-20 MB a day on the benchmark's log); a summary loaded from the cache keeps them
  // in the mapped entry, whose pages a later save of this engine would all read (200 MB more
  // resident on the benchmark's week).
  auto keep = [this](const LineRef& ref) { return evidence_.copy_here(ref); };
  for (size_t k = 0; k < kActorKinds; ++k) {
    ActorTable& mine = *tables_[k];
    ActorTable& theirs = *later.tables_[k];
    std::vector<uint64_t> built;
    const std::vector<uint64_t>& hashes = theirs.hashes_by_index(built);
    moved[k].resize(theirs.size());
    for (uint32_t i = 0; i < theirs.size(); ++i) {
      // Each actor is a cache miss in this engine's (larger) table: its slot is asked for ahead.
      if (i + kMergeAhead < theirs.size()) mine.prefetch_slot(hashes[i + kMergeAhead]);
      ActorStats& b = theirs.at(i);
      bool created = false;
      uint32_t idx = mine.intern(hashes[i], b.key, false, &created);
      moved[k][i] = idx;
      ActorStats& a = mine.at(idx);
      if (created) {
        if (b.extras) {
          b.extras->evidence.keep_all(keep);
          if (b.extras->peak_lines) b.extras->peak_lines->keep_all(keep);
        }
        std::unique_ptr<ActorExtras> extras = std::move(b.extras);
        std::string_view key = a.key;
        a = std::move(b);
        a.key = key;
        a.extras = std::move(extras);
        if (a.extras)
          for (std::string_view& login : a.extras->logins.names) login = mine.keep_text(login);
        continue;
      }
      if (ActorKind(k) == ActorKind::Sender && i >= later.warm_sizes_[k]) new_senders.push_back(idx);
      merge_actor(ActorKind(k), a, b, later);
    }
  }
  // A sender new to the later engine counted for its domain's distinct senders: once is enough.
  ActorTable& domains = tab(ActorKind::SenderDomain);
  for (uint32_t s : new_senders) {
    std::string_view sender = tab(ActorKind::Sender).at(s).key;
    std::string_view domain = domain_of(sender);
    if (domain.empty()) continue;
    auto d = domains.find_index(ActorTable::key_hash(domain, false));
    if (!d) continue;
    ActorStats& ds = domains.at(*d);
    --ds.distinct_senders;
    if (looks_random_localpart(local_part_of(sender))) --ds.random_senders;
  }
}

void Forensics::merge_actor(ActorKind kind, ActorStats& a, ActorStats& b, const Forensics& later) {
  bool had_rejections = a.rejected_rcpts > 0, had_failed_logins = a.failed_logins > 0;
  a.messages += b.messages, a.recipients += b.recipients, a.bytes += b.bytes;
  a.max_recipients = std::max(a.max_recipients, b.max_recipients);
  a.trusted_submissions += b.trusted_submissions;
  a.delivered += b.delivered, a.deferred += b.deferred, a.failed += b.failed, a.frozen += b.frozen;
  a.failed_logins += b.failed_logins, a.rejected_rcpts += b.rejected_rcpts;
  a.distinct_senders += b.distinct_senders, a.random_senders += b.random_senders;
  if (a.first == 0) a.first = b.first;
  if (b.last != 0) a.last = b.last;
  if (a.first_failed_login == 0) a.first_failed_login = b.first_failed_login;
  if (b.last_failed_login != 0) a.last_failed_login = b.last_failed_login;
  a.login_target = ActorStats::joined_login_target(a.login_target, b.login_target);
  if (!a.extras || !b.extras) return;
  ActorExtras& ax = *a.extras;
  ActorExtras& bx = *b.extras;
  auto keep = [this](const LineRef& ref) { return evidence_.copy_here(ref); };
  ax.evidence.append(
      bx.evidence,
      [&](Evidence::Mark mark) {
        return mark == Evidence::Mark::kFirstSeen || (mark == Evidence::Mark::kFirstRejection && had_rejections) ||
               (mark == Evidence::Mark::kFirstFailedLogin && had_failed_logins);
      },
      keep);
  if (ax.window && bx.window) {
    auto beats = [&](uint64_t r, uint64_t m) { return ax.window->beaten_by(r, m); };
    if (bx.peak_lines && !ax.peak_lines) {
      PeakLines kept;
      kept.append(*bx.peak_lines, beats, keep);
      if (!kept.oldest_first().empty()) ax.peak_lines = std::make_unique<PeakLines>(kept);
    } else if (bx.peak_lines) {
      ax.peak_lines->append(*bx.peak_lines, beats, keep);
    }
    ax.window->append(*bx.window, b.messages > 0 || b.recipients > 0);
  }
  if (ax.first_rejection == 0) ax.first_rejection = bx.first_rejection;
  if (bx.last_rejection != 0) ax.last_rejection = bx.last_rejection;
  // Up to the cap: whichever of them are kept, the count is what one engine's would be.
  for (uint32_t h : bx.rejected_addresses) ax.note_rejected_address(h);
  if (bx.named) {
    if (!ax.named) ax.named = std::make_unique<RecipientSample>(bx.named->ceiling());
    ax.named->merge(*bx.named);
  }
  if (bx.ips) merge_ips(ax, *bx.ips, later);
  for (std::string_view login : bx.logins.names)
    if (!ax.logins.has(login)) ax.logins.note(tab(kind).keep_text(login));
  ax.logins.more |= bx.logins.more;
}

void Forensics::merge_ips(ActorExtras& ax, const AccountIps& theirs, const Forensics& later) {
  if (!ax.ips) ax.ips = std::make_unique<AccountIps>();
  AccountIps& mine = *ax.ips;
  for (size_t i = 0; i < theirs.order.size(); ++i) {
    uint64_t h = theirs.order[i];
    if (!mine.hashes.insert(h).second) continue;
    mine.order.push_back(h);
    mine.first_seen.push_back(theirs.first_seen[i]);
    if (mine.listed.size() >= ActorTable::kMaxListedIps) continue;
    if (i < theirs.listed.size()) {
      mine.listed.push_back(theirs.listed[i]);
    } else if (auto ip = later.table(ActorKind::ClientIp).find_index(h)) {
      mine.listed.emplace_back(later.table(ActorKind::ClientIp).all()[*ip].key);
    }
  }
  if (theirs.last_hash != 0 && !theirs.hashes.empty()) mine.last_hash = theirs.last_hash;
}

void Forensics::merge_messages(Forensics& later, const std::array<std::vector<uint32_t>, kActorKinds>& moved) {
  // Messages cPanel named once the later engine counted: their user, and their sender's trust.
  for (const WarmIdentified& w : later.warm_identified_) {
    Message* m = inflight_.find(w.id);
    if (!m) continue;
    uint32_t& user = m->actor[size_t(ActorKind::LocalUser)];
    if (w.user != kNone && user == kNone) user = moved[size_t(ActorKind::LocalUser)][w.user];
    trust_identified_sender(*m);
  }
  // Lines about messages that arrived before the later slice, in the order they were logged.
  for (const OrphanLine& o : later.orphan_lines_) {
    Message* m = inflight_.find(o.id);
    if (!m) continue;
    switch (o.kind) {
      case LineKind::Delivery:
      case LineKind::Defer:
      case LineKind::Bounce:
        // An orphan there, unless a cutthrough line still held (counted when it expires).
        if (!o.early || !later.early_.drop_one(o.id)) --later.msgs_.orphan_lines;
        if (!o.suppressed && m->counts_outcome_of(o.folded_hash)) count_outcome(*m, o.kind, o.here);
        break;
      case LineKind::Frozen: count_frozen(*m); break;
      case LineKind::Completed:
        settle_outcomes(*m);
        forget(o.id, *m);
        ++msgs_.completed;
        break;
      default: break;
    }
  }
  // Those both engines saw arrive and the later one saw complete: the part logged before.
  for (const WarmCompletion& c : later.warm_completions_) {
    if (const Message* m = inflight_.find(c.id)) {
      settle_outcomes(*m);
      forget(c.id, *m);
    }
  }
  later.inflight_.for_each([&](const eximlog::MessageKey& id, const Message& theirs) {
    Message merged = theirs;
    merged.origin &= uint8_t(~Message::kWarm);
    for (size_t k = 0; k < kActorKinds; ++k)
      if (merged.actor[k] != kNone) merged.actor[k] = moved[k][merged.actor[k]];
    if (theirs.origin & Message::kWarm) {
      if (const Message* mine = inflight_.find(id)) {
        merged.delivered += mine->delivered, merged.deferred += mine->deferred, merged.failed += mine->failed;
        merged.outcomes_here = uint8_t(std::min(UINT8_MAX, merged.outcomes_here + mine->outcomes_here));
        merged.frozen = merged.frozen || mine->frozen;
        merged.actor = mine->actor;
        merged.origin |= mine->origin & (Message::kDomainOwned | Message::kIdentified);
      }
    }
    // The later engine read every delivery line of the message since its slice began: its
    // addresses are the message's.
    if (theirs.seen_more != kNone) merged.seen_more = seen_more_.add(later.seen_more_[theirs.seen_more]);
    place(id, merged);
  });
  identified_ = later.identified_;
  early_ = std::move(later.early_);  // what this engine held after the slice began, the later one read warm
  cwd_ = later.cwd_;
  cwd_.remap([&](uint32_t script) { return script == kNone ? kNone : moved[size_t(ActorKind::Script)][script]; });
}

void Forensics::merge_counts(const Forensics& later) {
  lines_.lines += later.lines_.lines;
  lines_.unparsed += later.lines_.unparsed;
  lines_.continuation += later.lines_.continuation;
  lines_.outside_time_range += later.lines_.outside_time_range;
  for (size_t i = 0; i < lines_.by_kind.size(); ++i) lines_.by_kind[i] += later.lines_.by_kind[i];
  for (const auto& sample : later.lines_.unparsed_samples)
    if (lines_.unparsed_samples.size() < kUnparsedSamples) lines_.unparsed_samples.push_back(sample);
  const MessageCounts& b = later.msgs_;
  msgs_.messages += b.messages, msgs_.bounces += b.bounces, msgs_.local += b.local;
  msgs_.recipients += b.recipients, msgs_.completed += b.completed, msgs_.frozen += b.frozen;
  msgs_.cwd_lines += b.cwd_lines, msgs_.cwd_attached += b.cwd_attached, msgs_.orphan_lines += b.orphan_lines;
  if (later.first_ != 0 && (first_ == 0 || later.first_ < first_)) first_ = later.first_;
  last_ = std::max(last_, later.last_);
  saw_pid_ = saw_pid_ || later.saw_pid_;
  // A step between this engine's newest line and the later one's first. A later slice whose
  // clock went back is not merged (can_merge): its windows would not have started again where
  // the whole log's did, so it has no steps of its own to add.
  const ClockSteps& steps = later.clock_;
  if (steps.first_line != 0) {
    clock_.line(steps.first_line);
    clock_.newest = std::max(clock_.newest, steps.newest);
  }
}

}  // namespace sw::stats

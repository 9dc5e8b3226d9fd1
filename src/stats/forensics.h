// The log-forensics engine: fed parsed main-log lines in time order, it joins the lines of
// each message by id, attaches cwd= lines to the submissions they started, and counts what
// every actor did. One engine is single-threaded; the kinds of actors can be split between
// engines that each read every line in log order (split_off), so each kind is folded exactly
// as one engine folds it, and joined again for the report (adopt).
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/flat_map.h"
#include "base/pooled_map.h"
#include "base/slot_pool.h"
#include "eximlog/cwd_matcher.h"
#include "eximlog/early_outcomes.h"
#include "eximlog/log_line.h"
#include "eximlog/message_id.h"
#include "eximlog/sender_identities.h"
#include "stats/actor_table.h"
#include "stats/evidence.h"
#include "stats/state_io.h"
#include "stats/thresholds.h"

namespace sw::stats {

struct LineCounts {
  uint64_t lines = 0;
  uint64_t unparsed = 0;
  uint64_t continuation = 0;
  uint64_t outside_time_range = 0;
  std::array<uint64_t, 16> by_kind{};
  std::vector<std::string> unparsed_samples;  // first few, for the report
};

struct MessageCounts {
  uint64_t messages = 0;  // arrivals
  uint64_t bounces = 0;   // arrivals with sender <>
  uint64_t local = 0;     // local submissions (scripts, users; not the bounces Exim makes)
  uint64_t recipients = 0;
  uint64_t completed = 0;
  uint64_t frozen = 0;
  uint64_t cwd_lines = 0;     // submission cwd= lines seen
  uint64_t cwd_attached = 0;  // ... attached to a message
  uint64_t orphan_lines = 0;  // delivery lines whose arrival is not in the input
  uint64_t still_queued = 0;  // messages with no Completed by the end of the input
};

// Where the log's clock went back ten minutes or more behind its newest line (daylight saving
// time ending, in a log without zones, writes an hour twice): how often, and the first time.
struct ClockSteps {
  static constexpr int64_t kStepBack = PeakWindow::kClockStepBack;
  uint64_t count = 0;
  CivilSeconds first_from = 0, first_to = 0;  // the first step: the newest line before it, and after
  CivilSeconds first_line = 0, newest = 0;    // the first line counted (a slice's border), the newest
  // True when the line steps back; the clock then goes on from there.
  bool line(CivilSeconds t) {
    if (first_line == 0) first_line = t;
    if (newest != 0 && t <= newest - kStepBack) {
      if (count++ == 0) first_from = newest, first_to = t;
      newest = t;
      return true;
    }
    newest = std::max(newest, t);
    return false;
  }
};

// A step back from `from` to `to` that daylight saving time ending makes: up to an hour (and
// the gaps of a quiet log), landing between 23:00 and 03:59 in the months clocks go back
// (March, April in the south; September to November in the north). A log with two clocks in
// it (a cron's sendmail run with another TZ) steps back at any hour, by any amount.
bool looks_like_clock_change(CivilSeconds from, CivilSeconds to);

class Forensics {
 public:
  explicit Forensics(const Thresholds& t);

  // The kinds of actors this engine folds: all unless split off. Each engine still counts
  // every line and message (the report takes those from the engine that kept the rest).
  static constexpr uint32_t kAllKinds = (1u << kActorKinds) - 1;
  uint32_t kinds() const { return kinds_; }
  // Moves the actors of `kinds` (whole groups: a script with its local user, a sender with its
  // domain) with their part of the messages in flight to a new engine, which folds those kinds
  // from then on while this one folds the rest. Both must then be fed the same lines.
  static constexpr uint32_t kSenderKinds = 1u << unsigned(ActorKind::Sender) | 1u << unsigned(ActorKind::SenderDomain);
  std::unique_ptr<Forensics> split_off(uint32_t kinds);
  // After finish() of both: takes the tables of the kinds `other` folded back, and keeps
  // `other` alive (its copied evidence lines).
  void adopt(std::unique_ptr<Forensics> other);

  // Optional time filter (civil seconds, inclusive since, exclusive until).
  void set_time_range(CivilSeconds since, CivilSeconds until) {
    since_ = since;
    until_ = until;
  }
  CivilSeconds since() const { return since_; }
  CivilSeconds until() const { return until_; }

  // What add() derives from a line before touching any table: the hash of every actor key
  // it names (lowercased where actors are case-blind, subjects unescaped and digit-folded)
  // and the "for" list's length. Pure, so the parse threads compute it, not the engine.
  // Also what the engine would otherwise read from the line's bytes, which were written on
  // another core: the message id's key and, on outcome lines, the recipient address's hash.
  struct LineKeys {
    static constexpr uint32_t kUnknown = UINT32_MAX;
    uint32_t present = 0;       // bit per ActorKind with a key on this line
    uint32_t recipients = 0;    // addresses in the "for" list
    uint32_t address_hash = 0;  // outcome lines: the top-level recipient; rejected RCPT: the address
    bool has_id = false;
    eximlog::MessageKey id;
    std::array<uint64_t, kActorKinds> hash{};
    // Filled by prefetch_actors(): the index of an actor that already existed then (actors
    // never move), so the later stages and add() skip the hash probe. kUnknown: probe.
    std::array<uint32_t, kActorKinds> index;
    LineKeys() { index.fill(kUnknown); }
    bool has(ActorKind k) const { return (present >> unsigned(k)) & 1u; }
  };
  // Fills `out`, a default LineKeys, in place: a LineKeys returned by value and then copied
  // is written in 4- and 8-byte stores and read back in 16-byte loads, which the CPU cannot
  // forward from its store buffer (perf put 5-8 % of a scan's samples on those loads).
  static void fill_line_keys(const eximlog::LogLine& l, LineKeys& out);
  static LineKeys line_keys(const eximlog::LogLine& l) {
    LineKeys k;
    fill_line_keys(l, k);
    return k;
  }

  // `raw` is the whole line as read (for evidence); `line` its parse; `keys` line_keys(line).
  void add(const eximlog::LogLine& line, std::string_view raw, const LineKeys& keys);
  void add(const eximlog::LogLine& line, std::string_view raw) { add(line, raw, line_keys(line)); }
  // Counts a line the engine has no use for beyond statistics; false when it was filtered out.
  // The first kUnparsedSamples Unparsed lines are kept (printable) for the report.
  static constexpr size_t kUnparsedSamples = 5;
  bool count(eximlog::LineKind kind, CivilSeconds time, uint32_t pid, std::string_view raw);
  // Optional hints, issued some lines before add() of the same line: they start loading the
  // actors it will look up in the large tables, so add() finds them in cache. Stage 1 loads
  // index slots; stage 2, issued closer to add(), loads the actors those slots point to.
  void prefetch_slots(const LineKeys& k) const;
  void prefetch_actors(LineKeys& k) const;        // also notes the indices of the actors it finds
  void prefetch_extras(const LineKeys& k) const;  // stages 3 and 4: extras, window tails
  void prefetch_window_tails(const LineKeys& k) const;
  void finish();

  // Slices: engines fold consecutive slices of one log at once, and merge() joins them in
  // order into the engine of the first, with the report one engine would give.
  // The engine of a later slice is fed the slice's first lines through warm() up to the first
  // line two burst windows later (at least) than its start: it fills its windows, messages in
  // flight and pending cwd= lines as they stand there, counting nothing, since the engine of
  // the slice before keeps on counting up to that line. start_counting() then switches to add().
  void warm(const eximlog::LogLine& line, std::string_view raw, const LineKeys& keys);
  // `warm_enough`: the warm-up reached the line two burst windows on (else merge() refuses).
  void start_counting(bool warm_enough);
  // How far a later slice's engine reads warm: from the time of its first line, so far on.
  CivilSeconds warm_up_seconds() const;
  // Called by the engine that counts on into the next slice, at its first line: recipients
  // then added to mail that arrived before it are unknown to that slice's engine, so its
  // windows are exact only from a window's length after the last of them (merge() checks).
  void enter_next_slice();
  // Merges the engine of the next slice, which counted from the line where this one stopped.
  // False when the two cannot be merged exactly (a message that arrived before the next slice
  // and was counted after its warm-up, a step back in time, ...): this engine is then
  // unchanged, and must be fed what the other counted instead.
  bool merge(std::unique_ptr<Forensics> later);

  // The engine's whole state before finish(), messages in flight and pending cwd= lines
  // included: an engine loaded from it and fed the following lines reports exactly what
  // this one would. load_state() fills a fresh engine with the same thresholds; it throws
  // StateError on data that does not hold together (then the engine is unusable).
  // Split engines save one state, that of one engine (`partner`: the engine split off).
  void save_state(StateWriter& w, const Forensics* partner = nullptr) const;
  void load_state(StateReader& r);
  // Whether this engine folded a later slice (start_counting()): what merge() takes.
  bool later_slice() const { return later_slice_; }

  const ActorTable& table(ActorKind k) const { return *tables_[size_t(k)]; }
  const LineCounts& lines() const { return lines_; }
  const MessageCounts& messages() const { return msgs_; }
  CivilSeconds first_time() const { return first_; }
  CivilSeconds last_time() const { return last_; }
  bool saw_pid() const { return saw_pid_; }
  const ClockSteps& clock_steps() const { return clock_; }
  const Thresholds& thresholds() const { return thresholds_; }

  // Evidence lines are kept by reference into the block being added when its input can be
  // read again (set per block), and turned back into text through the reader.
  void set_evidence_origin(std::optional<EvidenceLines::Origin> o) { evidence_.set_origin(o); }
  void set_evidence_reader(EvidenceLines::Reader reader, std::vector<std::string> input_names) {
    evidence_.set_reader(std::move(reader), std::move(input_names));
  }
  std::vector<std::string> evidence_lines(const ActorStats& a) const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Per-message state between its arrival and its Completed line.
  // Saved whole in the summary cache (save_state): every byte is a field and initialised, so
  // no leftover heap bytes reach the file.
  struct Message {
    std::array<uint32_t, kActorKinds> actor{};  // index per kind, kNone when absent
    uint32_t recipients = 0;
    bool listed = false;  // recipients came from the "for" list
    bool bounce = false;
    // kWarm: arrived while this engine read warm; kOld: arrived before the next slice began;
    // kEarlyBefore: took a cutthrough line logged before the next slice began, which the
    // engine of that slice never read.
    // kDomainOwned: its arrival counted its sender's domain as one we send as.
    // kIdentified: cPanel named it (a user, or Mailman), counted then.
    static constexpr uint8_t kWarm = 1, kOld = 2, kEarlyBefore = 4, kDomainOwned = 8, kIdentified = 16;
    uint8_t origin = 0;
    bool frozen = false;  // counted as frozen: thawed and frozen again is still one frozen message
    // Per-recipient outcomes, added to the actors once at Completed (or at the end): one
    // visit to each actor per message instead of one per delivery line.
    uint32_t delivered = 0, deferred = 0, failed = 0;
    // Hashes of the addresses seen in delivery lines, when there was no "for" list: the first
    // two here, the next ten in a block of the engine's seen_more_ (a message in flight is kept
    // small: a stuck queue holds millions). Past twelve every further address counts as new
    // (rare: cPanel logs the list).
    static constexpr size_t kSeenInline = 2, kSeenMost = 12;
    uint8_t seen_count = 0;
    bool bounce_from_elsewhere = false;  // a bounce another server sent us (not one Exim made here)
    // Outcomes on a transport of this host (a mailbox here, not SMTP): a bounce to one of our
    // own mailboxes is no backscatter. Saturates: a bounce has a recipient or two.
    uint8_t outcomes_here = 0;
    // Its "for" list was cut by Exim's 8 KB line buffer (<trunc>): it named only the first
    // recipients, and the deliveries and failures count the rest (settle_outcomes).
    bool truncated_list = false;
    // A bounce listed to more than one address: the case-blind hash of its first, whose outcomes are its
    // own; errors_copy's postmaster follows it and is no target (0: every outcome counts).
    uint32_t bounce_target = 0;
    bool counts_outcome_of(uint32_t address_hash) const { return bounce_target == 0 || address_hash == bounce_target; }
    std::array<uint32_t, kSeenInline> seen{};
    uint32_t seen_more = kNone;  // the block of the next ten in seen_more_, from the third on
  };
  // A stuck queue keeps millions of messages in flight: each is an entry of this size (and
  // its id) in inflight_'s pool (docs/logs.md, "Messages in flight").
  static_assert(sizeof(Message) == 72);
  using SeenMore = std::array<uint32_t, Message::kSeenMost - Message::kSeenInline>;

  bool saw_address(const Message& m, uint32_t address_hash) const;
  // Notes an address from a delivery line; true when it is a recipient not counted before.
  bool note_address(Message& m, uint32_t address_hash);
  // Puts `m` in flight as message `id`, in place of one that arrived under the same id.
  void place(const eximlog::MessageKey& id, const Message& m);
  // Drops message `id`, `m`, which is no longer in flight, with the addresses kept for it.
  void forget(const eximlog::MessageKey& id, const Message& m);

  ActorTable& tab(ActorKind k) { return *tables_[size_t(k)]; }
  bool folds(ActorKind k) const { return (kinds_ >> unsigned(k)) & 1u; }
  template <class Stage>
  void prefetch(const LineKeys& k, uint32_t kinds, Stage stage) const;
  void on_arrival(const eximlog::LogLine& l, std::string_view raw, const LineKeys& keys);
  // Every actor's peak window starts again (the clock went back an hour, see ClockSteps).
  void restart_windows();
  void on_completed(const LineKeys& keys);
  void settle_outcomes(const Message& m);
  // Counts the message frozen, once however often Exim logs it frozen (thawed and frozen again).
  void count_frozen(Message& m);
  void on_outcome(const eximlog::LogLine& l, std::string_view raw, const LineKeys& keys);
  static void count_outcome(Message& m, eximlog::LineKind kind, bool here);
  // A recipient first seen in an outcome line (no "for" list), `time` that line's.
  void add_recipient(Message& m, CivilSeconds time);
  void count_plain_outcome(Message& m, eximlog::LineKind kind, uint32_t address_hash, CivilSeconds time);
  void on_frozen(const LineKeys& keys);
  void on_cwd(const eximlog::LogLine& l, std::string_view raw);
  void on_rejected_rcpt(const eximlog::LogLine& l, std::string_view raw, const LineKeys& keys);
  void on_auth_failure(const eximlog::LogLine& l, std::string_view raw, const LineKeys& keys);
  uint32_t take_script(const eximlog::LogLine& l);
  // The engine of senders needs them too: an identified arrival's sender is ours. One that
  // names a message already in flight counts it for the user now (cPanel's usual order).
  void note_identification(const eximlog::LogLine& l, std::string_view raw, bool warm);
  void credit_identified(const eximlog::LogLine& l, const eximlog::SenderIdentities::Entry& arrival,
                         std::string_view raw, bool warm);
  std::string take_identified(const eximlog::LogLine& l, Message& m);
  void sample_hashes(ActorStats& a, ActorKind kind, const std::vector<uint32_t>& hashes, CivilSeconds time);
  void trust_identified_sender(Message& m);
  // The actor this line names for kind k (created if new), by the hash in `keys`.
  ActorStats& actor_of(ActorKind k, const LineKeys& keys, std::string_view key, bool lower);
  // Counts one message for the actor with this key (hash from LineKeys, `lower` as hashed).
  uint32_t count_actor(ActorKind k, const LineKeys& keys, std::string_view key, bool lower, const eximlog::LogLine& l,
                       uint32_t rcpts, std::string_view raw, bool* was_new = nullptr);
  void count_message(ActorStats& a, bool created, const eximlog::LogLine& l, uint32_t rcpts, std::string_view raw);
  void add_recipients(Message& m, uint32_t n);
  void add_evidence(ActorStats& a, std::string_view raw, Evidence::Mark mark = Evidence::Mark::kNone) {
    if (a.keeps_evidence()) a.extras->evidence.add(evidence_.keep(raw), mark);
  }
  void note_peak_line(ActorStats& a, std::string_view raw);
  // Adds the "for" list's addresses to a script's, user's or account's sample of whom it mailed.
  void sample_recipients(ActorStats& a, ActorKind kind, const eximlog::LogLine& l);
  // A subject's actor key (unescaped, digits folded), in scratch space of this engine.
  std::string_view subject_key_of(std::string_view subject);
  // A message id's fingerprint, to find an id that arrived again in a later slice.
  static uint32_t id_print(const eximlog::MessageKey& id) { return uint32_t(eximlog::MessageKeyHash{}(id) >> 7); }
  void warm_arrival(const eximlog::LogLine& l, const LineKeys& keys);
  void warm_outcome(const eximlog::LogLine& l, std::string_view raw, const LineKeys& keys);
  // Outcomes Exim logged before this arrival (cutthrough deliveries), counted now as its own;
  // `warm`: read as warm_outcome() does. Held lines past their wait are orphans when counting.
  void claim_early_outcomes(const eximlog::MessageKey& id, CivilSeconds now, bool warm);
  bool held_before_next(const eximlog::MessageKey& id) const;
  // Whether the next slice's lines a merge() would take can be taken exactly.
  bool can_merge(const Forensics& later) const;
  void save_slice_state(StateWriter& w) const;
  void load_slice_state(StateReader& r);
  void merge_tables(Forensics& later, std::array<std::vector<uint32_t>, kActorKinds>& moved);
  void merge_actor(ActorKind kind, ActorStats& a, ActorStats& b, const Forensics& later);
  static void merge_ips(ActorExtras& ax, const AccountIps& theirs, const Forensics& later);
  void merge_messages(Forensics& later, const std::array<std::vector<uint32_t>, kActorKinds>& moved);
  void merge_counts(const Forensics& later);
  // Counts a bounce to `address` for that backscatter victim; returns the victim's index.
  static uint32_t folded_address_hash(std::string_view address);
  static std::string_view first_bounce_target(const eximlog::LogLine& l, Message& m);
  uint32_t note_bounce_recipient(std::string_view address, const Message& m, const eximlog::LogLine& l,
                                 std::string_view raw);

  Thresholds thresholds_;
  std::array<std::unique_ptr<ActorTable>, kActorKinds> tables_;  // tables are not movable: owned apart
  uint32_t kinds_ = kAllKinds;
  std::vector<std::unique_ptr<Forensics>> adopted_;
  PooledMap<eximlog::MessageKey, Message, eximlog::MessageKeyHash> inflight_;
  // Message::seen's overflow, for the messages without a "for" list and with more addresses.
  SlotPool<SeenMore> seen_more_;
  eximlog::CwdMatcher cwd_;               // tokens are indices in the script table
  eximlog::SenderIdentities identified_;  // cPanel's users of mail over SMTP without a login
  eximlog::EarlyOutcomes early_;          // cutthrough deliveries waiting for their arrival
  LineCounts lines_;
  MessageCounts msgs_;
  CivilSeconds first_ = 0, last_ = 0;
  CivilSeconds since_ = INT64_MIN, until_ = INT64_MAX;
  bool saw_pid_ = false;
  ClockSteps clock_;
  EvidenceLines evidence_;
  // Slices (see merge()). A later slice's engine keeps what it cannot settle itself: lines
  // about messages it never saw arrive, and completions of those it only saw while warm.
  struct OrphanLine {
    eximlog::MessageKey id;
    eximlog::LineKind kind;
    bool suppressed = false;
    uint32_t address_hash = 0;
    bool here = false;         // on a transport of this host (Message::outcomes_here)
    uint32_t folded_hash = 0;  // of its address, case-blind (Message::bounce_target)
    bool early = false;        // a cutthrough line, also held for an arrival (early_)
  };
  struct WarmCompletion {
    eximlog::MessageKey id;
    std::array<uint32_t, kActorKinds> actor;
  };
  // A message read warm whose identification came once this engine counted: the engine before
  // counted its arrival without the user, this one counted it for the user (index here).
  struct WarmIdentified {
    eximlog::MessageKey id;
    uint32_t user;
  };
  bool later_slice_ = false, warm_enough_ = false;
  std::array<uint32_t, kActorKinds> warm_sizes_{};  // actors interned while warm: the lower indices
  std::vector<OrphanLine> orphan_lines_;
  std::vector<WarmCompletion> warm_completions_;
  std::vector<WarmIdentified> warm_identified_;
  std::vector<uint32_t> arrival_prints_;  // of the ids of messages that arrived while counting
  // The engine that counts on into the next slice (enter_next_slice): the latest time before
  // it, and the latest time recipients were added to mail that arrived before it. The next
  // slice's windows are exact only from a window's length after both.
  CivilSeconds last_before_next_ = 0, last_old_add_ = 0;
  std::vector<eximlog::MessageKey> early_before_next_;  // ids of the lines held then (kEarlyBefore)
  // A later slice's engine: the earliest time of a line it counted, and the earliest end of a
  // window it looked at when recipients were added (the window then ends at its last arrival).
  CivilSeconds min_counted_time_ = INT64_MAX, min_window_end_ = INT64_MAX;
  std::string scratch_;
  std::string subject_;
  std::vector<uint32_t> named_;  // the arrival's recipients' hashes, for sample_recipients()
};

}  // namespace sw::stats

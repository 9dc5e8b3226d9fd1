// `spamwarden logs --actor TYPE:KEY`: one actor's whole story from the main log, the way an
// admin greps for it by hand, in one fast pass. Each block is pre-filtered for the key's bytes
// (no parse unless they occur) and for the message id of every line; the builder, fed the
// blocks in log order, keeps the lines of the actor's messages: the arrival names the actor,
// and every later line with one of its ids belongs to it (so does a bounce Exim made of it).
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/civil_time.h"
#include "base/flat_map.h"
#include "base/ip_cidr.h"
#include "base/pooled_map.h"
#include "detect/actor_type.h"
#include "eximlog/cwd_matcher.h"
#include "eximlog/early_outcomes.h"
#include "eximlog/log_line.h"
#include "eximlog/message_id.h"
#include "eximlog/sender_identities.h"

namespace sw::stats {

// What the report knows of the actor once every input was read.
struct ActorStory {
  detect::ActorRef actor;
  CivilSeconds first = 0, last = 0;                  // any line of the actor's
  CivilSeconds first_message = 0, last_message = 0;  // its arrivals: when it sent
  uint64_t lines = 0;                                // its lines (what --lines prints)
  uint64_t messages = 0, recipients = 0, bytes = 0;
  uint64_t delivered = 0, deferred = 0, failed = 0, frozen = 0, completed = 0;
  uint64_t bounces_generated = 0;  // bounce messages Exim made of its mail
  uint64_t rejected_recipients = 0, other_rejections = 0, failed_logins = 0;
  // Per minute of the log's clock: messages, recipients and attempts (rejections, failed logins).
  struct Minute {
    uint64_t messages = 0, recipients = 0, attempts = 0;
  };
  std::map<CivilSeconds, Minute> minutes;
  // Per client IP: its messages (where its mail came from), and its refused attempts (failed
  // logins, rejections): for a hijacked account, the guessers are not the senders.
  std::map<std::string, uint64_t> client_ips;
  std::map<std::string, uint64_t> refused_ips;
  std::map<std::string, uint64_t> accounts_tried;  // an IP's failed logins per account named (set_id)
  std::map<std::string, uint64_t> recipient_domains;
  std::map<std::string, uint64_t> rejected_domains;  // of its rejected recipients: what a dictionary attack aimed at
  std::map<std::string, uint64_t> subjects;          // unescaped
  std::vector<std::string> message_ids;              // in log order
  bool pid_seen = false;                             // cwd= lines joined by pid (script actors)
  bool utc = false;                                  // its lines carry zones (log_timezone): every time here is UTC
};

// What the pre-filter kept of one block, for the builder. Lines are compact records into the
// block (most are kept only for their message id, which the builder compares by hash with the
// few messages it follows); a script actor's cwd= lines and local arrivals come parsed, so the
// builder, which runs on one thread, parses only the actor's own lines.
struct PrefilteredBlock {
  struct Line {
    static constexpr uint8_t kKeyHit = 1, kHasId = 2, kBounceArrival = 4, kCwd = 8, kLocalArrival = 16,
                             kCutthrough = 32,  // ">>": logged before its arrival
        kArrival = 64,
                             kConnection = 128;  // cPanel's "SMTP connection identification" (local users)
    uint32_t offset = 0, length = 0;             // the raw line in the block
    uint64_t id_hash = 0;                        // kHasId: MessageKeyHash of its id
    uint32_t facts = 0;                          // kCwd, kLocalArrival: its entry in `facts`
    uint8_t flags = 0;
  };
  // A submission's cwd= line, or a local arrival (script actors only).
  struct Facts {
    CivilSeconds time = 0;
    uint32_t pid = 0;
    bool submission = false;        // cwd=: a message submission, not a queue run or query
    bool ours = false;              // cwd=: in the actor's directory
    std::string_view dir_or_login;  // cwd=: the directory; arrival: U=
  };
  std::vector<Line> lines;
  std::vector<Facts> facts;
  void clear() {
    lines.clear();
    facts.clear();
  }
};

// A client IP actor given as a range ("ip:2001:db8:1:2::/64", as `logs` names an IPv6 /64):
// its range, when the key is one.
std::optional<CidrRange> client_ip_range(const detect::ActorRef& actor);

// Where a lower-case needle first occurs in hay from `from`, ASCII case-insensitively; npos if not.
size_t find_folded(std::string_view hay, std::string_view needle, size_t from = 0);
// The same with SSE2 only, what a CPU without AVX2 runs (find_folded uses AVX2 where it can).
size_t find_folded_sse2(std::string_view hay, std::string_view needle, size_t from = 0);

// The per-block part, safe on many threads: finds the lines holding the key (ASCII
// case-insensitively for accounts and senders, whose keys are lower-cased) and every line's
// message id. Lines with neither are left out. Returns how many lines the block holds.
class StoryPrefilter {
 public:
  explicit StoryPrefilter(const detect::ActorRef& actor);
  uint64_t run(std::string_view block, PrefilteredBlock& out) const;

 private:
  class HitFinder;
  void add_facts(std::string_view raw, PrefilteredBlock::Line& line, PrefilteredBlock& out) const;
  detect::ActorRef actor_;
  std::string needle_;  // the key, or the text every address of a range starts with
  bool fold_case_;
  bool want_cwd_;          // script actors: every cwd= and arrival line, to pair them as the report does
  bool want_connections_;  // local users: every connection cPanel names, whoever's (a port is used again)
};

// The message id of a main-log line ("" when it has none), and where the text after the
// prefix (time, zone, pid) starts. Pure.
std::string_view line_message_id(std::string_view raw, size_t* text_start = nullptr);

// The in-order part: decides which lines are the actor's and counts them.
class StoryBuilder {
 public:
  using LineSink = std::function<void(std::string_view)>;
  StoryBuilder(const detect::ActorRef& actor, CivilSeconds since, CivilSeconds until, LineSink sink = nullptr);
  // One block's kept lines, blocks in log order.
  void add(std::string_view block, const PrefilteredBlock& kept);
  const ActorStory& story() const { return story_; }

 private:
  struct Message {
    bool own = true;  // false: a bounce Exim made of one of the actor's messages
    bool listed = false;
    // Address hashes, sorted, when there was no "for" list (from outcome lines) or Exim cut it
    // at 8 KB (<trunc>: the listed ones first): each address not among them is one more recipient.
    std::vector<uint32_t> seen;
    CivilSeconds minute = 0;  // of its arrival: the timeline's bucket for recipients found later
    // A local user's message over SMTP from this host, as cPanel's "Sender identification"
    // line named it: that line, shown once the arrival proves it had no login of its own.
    std::string identification;
  };
  using Line = PrefilteredBlock::Line;
  bool in_range(CivilSeconds t) const { return t >= since_ && t < until_; }
  bool names_actor(const eximlog::LogLine& l, std::string_view raw) const;
  bool in_client_range(std::string_view ip) const {
    auto address = parse_ip(ip);
    return address && cidr_contains(*range_, *address);
  }
  void add_line(std::string_view raw, const Line& line, const PrefilteredBlock::Facts* facts);
  void follow_line(std::string_view raw, const Line& line, const PrefilteredBlock::Facts* facts);
  void add_script_line(std::string_view raw, const Line& line, const PrefilteredBlock::Facts& f);
  Message* joined_message(std::string_view raw, const Line& line);
  bool bounce_of_ours(std::string_view raw, const Line& line) const;
  Message& follow(const eximlog::MessageKey& id);
  void unfollow(const eximlog::MessageKey& id);
  void keep(CivilSeconds time, std::string_view raw, bool zoned = false);
  void on_arrival(const eximlog::LogLine& l, std::string_view raw);
  void on_attempt(const eximlog::LogLine& l, std::string_view raw);
  void on_identified_line(Message& m, const eximlog::LogLine& l, std::string_view raw);
  bool claim_connected_arrival(std::string_view raw);
  const std::vector<std::string>& connection_ips();
  void on_connection(std::string_view raw);
  bool named_before(std::string_view id, std::string_view raw) const;
  bool claim_earlier_arrival(const eximlog::LogLine& l, std::string_view raw);
  // Lines looked back over: a busy server's others between an arrival and its routing; and
  // between an ACL's identification and its arrival (the end of the same DATA).
  static constexpr size_t kLookBack = 256, kLookBackNamed = 32;
  template <class Wanted>
  std::string_view line_of_message_before(std::string_view id, size_t end, Wanted wanted,
                                          size_t lines = kLookBack) const;
  void on_message_line(Message& m, const eximlog::LogLine& l, std::string_view raw);
  void count_message_line(Message& m, const eximlog::LogLine& l);
  // A cutthrough delivery of a message not followed (yet): kept for its arrival, logged next.
  void hold_early(std::string_view raw);

  ActorStory story_;
  std::optional<CidrRange> range_;  // a client IP actor given as a range
  CivilSeconds since_, until_;
  LineSink sink_;
  PooledMap<eximlog::MessageKey, Message, eximlog::MessageKeyHash> inflight_;
  eximlog::SenderIdentities identities_;  // the user's, and others' of the same messages
  // Arrivals another's connection named (the last few thousand): their routing lines claim nothing.
  class RecentIds {
   public:
    void remember(const eximlog::MessageKey& id) {
      if (order_.size() == kMost) set_.erase(set_.find(eximlog::MessageKeyHash{}(order_.front()))), order_.pop_front();
      order_.push_back(id);
      set_.insert(eximlog::MessageKeyHash{}(id));
    }
    bool contains(const eximlog::MessageKey& id) const { return set_.count(eximlog::MessageKeyHash{}(id)) != 0; }

   private:
    static constexpr size_t kMost = 4096;
    std::deque<eximlog::MessageKey> order_;
    std::unordered_multiset<uint64_t> set_;
  } named_elsewhere_;
  struct ConnectionIps {  // of identities_.connections() at a version of theirs
    uint64_t version = UINT64_MAX;
    std::vector<std::string> ips;
  } ips_of_;
  eximlog::EarlyOutcomes early_;  // every message's, until its arrival (hold_early)
  struct SpreadHash {             // keys that are already hashes
    size_t operator()(uint64_t h) const { return size_t(h); }
  };
  FlatMap<uint64_t, uint32_t, SpreadHash> inflight_hashes_;  // how many followed ids have each hash
  eximlog::CwdMatcher cwd_;  // script actors: token 1 for the actor's directory, 0 for others
  std::string_view block_;   // the block add() reads, for arrivals cPanel names after them
};

struct StoryOptions {
  detect::ActorRef actor;
  CivilSeconds since = INT64_MIN, until = INT64_MAX;
  int workers = 0;              // pre-filter threads; 0: one per core
  StoryBuilder::LineSink sink;  // --lines: each of the actor's raw lines, in log order
};

struct StoryResult {
  ActorStory story;
  std::vector<std::string> inputs, warnings;
  size_t unreadable_inputs = 0, damaged_inputs = 0;
  size_t foreign_inputs = 0;  // not one line of an Exim main log in them
  double seconds = 0;
};

// Reads the inputs as `logs` does (ordered by first timestamp, gzip, stdin, each file once).
StoryResult story_of(const std::vector<std::string>& inputs, const StoryOptions& options);

// The timeline's bucket for a span: a minute up to an hour, then 5, 10, 15, 30 minutes, hours,
// days, so that the chart has at most `max_rows` rows.
int64_t timeline_bucket(int64_t span_seconds, size_t max_rows = 48);

nlohmann::json story_json(const StoryResult& r);
std::string story_text(const StoryResult& r);

}  // namespace sw::stats

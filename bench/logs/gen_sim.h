// Discrete-event simulation of a busy cPanel Exim server that writes its main log.
// Arrival streams (inbound mail, submissions, PHP scripts, spam bots, planted culprits) start
// SMTP sessions and messages; each one schedules its later lines (deliveries a moment after
// arrival, deferred retries in hourly queue runs, bounces) on one time-ordered event queue, so
// the output is monotonic in time while lines of concurrent messages interleave as on a real
// host. Shapes follow shared/reference/exim-formats.md section 1.
#pragma once
#include <cstdint>
#include <deque>
#include <queue>
#include <string>
#include <vector>

#include "gen_core.h"
#include "gen_world.h"

namespace sw::bench::gen {

// The simulation's clock counts microseconds.
inline constexpr uint64_t kSec = 1000000;

struct Config {
  uint64_t size_bytes = 1100ull * 1000 * 1000;
  uint64_t seed = 1;
  bool with_pid = true;
  int64_t start_epoch = 1792886400;  // 2026-10-25 00:00:00 (treated as UTC)
  double rate_scale = 1.0;           // multiplies every background arrival rate
  double upgrade_at = 0.6;           // fraction of the log at which Exim 4.96 -> 4.97; >= 1: never
  int max_per_hour = 500;            // cPanel max_emails_per_hour per domain
};

// A first/last time seen, in epoch seconds.
struct Window {
  int64_t first = -1, last = -1;
  void see(int64_t t) {
    if (first < 0) first = t;
    last = t;
  }
};

struct Truth {
  uint64_t lines = 0, bytes = 0;
  int64_t first_epoch = -1, last_epoch = -1, upgrade_epoch = -1;
  uint64_t received = 0, received_bounces = 0, ids_old = 0, ids_new = 0;
  uint64_t delivered = 0, delivered_more = 0, deferred = 0, failed = 0, completed = 0, frozen = 0;
  uint64_t rejected_rcpt = 0, auth_failed = 0, cwd_lines = 0, connections = 0, queue_runs = 0;

  struct Script {
    uint64_t messages = 0, rcpts = 0, limited = 0;
    Window w;
  } script, shop;
  struct Account {
    uint64_t failed_logins = 0, brute_ips = 0, messages = 0, rcpts = 0, ips = 0;
    Window brute, sending;
  } account;
  struct Dict {
    uint64_t rejected = 0, sessions = 0;
    Window w;
  } dict;
  struct RandSend {
    uint64_t messages = 0, senders = 0;
    Window w;
  } randsend;
  struct Backscatter {
    uint64_t bounces = 0;
    Window w;
  } backscatter;
};

class Sim {
 public:
  Sim(const Config& cfg, const World& world, FILE* out);
  void run();
  const Truth& truth() const { return truth_; }
  bool write_failed() const { return out_.failed(); }

  // Expected output rate at rate_scale 1, used to lay the story out over the log's span.
  static constexpr double kBytesPerSimSecond = 1820.0;

 private:
  // ---- engine ----
  enum EvKind : uint8_t { kStream, kSession, kPhpReceive, kDeliver, kRemoteDone, kQueueRun, kQueueStep, kUpgrade };
  struct Ev {
    uint64_t t;
    uint64_t seq;
    uint32_t kind;
    uint32_t a;
  };
  struct EvLater {
    bool operator()(const Ev& x, const Ev& y) const { return x.t != y.t ? x.t > y.t : x.seq > y.seq; }
  };
  void at(uint64_t t, EvKind kind, uint32_t a) { q_.push({t, seq_++, kind, a}); }
  void after_ms(double lo, double hi, EvKind kind, uint32_t a) {
    at(now_ + uint64_t((lo + (hi - lo) * rng_.unit()) * 1000.0), kind, a);
  }
  int64_t epoch() const { return cfg_.start_epoch + int64_t(now_ / 1000000); }
  uint32_t fork_pid();

  // ---- line output ----
  void begin(uint32_t pid);
  void begin(uint32_t pid, const char* id, int idlen);
  void end();
  // A recycled slot of `items` if one is free, else a new one at the end.
  template <class T>
  static uint32_t take_slot(std::vector<uint32_t>& free, T& items) {
    if (free.empty()) {
      items.emplace_back();
      return uint32_t(items.size() - 1);
    }
    uint32_t i = free.back();
    free.pop_back();
    return i;
  }

  // ---- messages ----
  enum class Dest : uint8_t { kBox, kHostUser, kBlackhole, kRemote, kForward, kForward2, kPipe, kFilter };
  enum class Plan : uint8_t { kOk, kGrey, kQuota, kVolume, kTimeout, kNoUser, kSpam, kLimit };
  enum class Origin : uint8_t {
    kInbound,
    kAuth,
    kWebmail,
    kPhp,
    kCron,
    kBounce,
    kXScript,
    kXShop,
    kXAccount,
    kXRandSend,
    kXBackscatter
  };
  struct Rcpt {
    std::string addr;  // as listed after "for"
    uint32_t box = 0;  // local mailbox (kBox/kForward*/kPipe/kFilter)
    uint32_t rd = 0;   // remote domain of the final address
    Dest dest = Dest::kBox;
    Plan plan = Plan::kOk;
    uint8_t attempts = 0;
    bool done = false;
    bool visited = false;  // scratch for grouping one delivery attempt by destination
  };
  struct Msg {
    char id[24];
    int idlen = 0;
    Origin origin = Origin::kInbound;
    bool frozen = false;
    bool any_failed = false;
    bool sender_local = false;  // bounces to the sender stay on this host
    Dest sender_dest = Dest::kRemote;
    uint32_t sender_box = 0, sender_rd = 0;
    uint32_t user = UINT32_MAX;    // cPanel user that sent it (outbound)
    uint32_t domain = UINT32_MAX;  // local domain charged for it (outbound)
    uint32_t size = 0;
    uint32_t retry_step = 0;
    uint32_t dpid = 0;  // pid of the delivery process in progress
    uint32_t gen = 0;   // bumped on reuse, so stale queue entries are recognised
    uint32_t nr = 0;    // live entries of rcpts (the vector keeps spare capacity)
    bool queued = false;
    bool has_deferred = false;
    uint64_t first_defer = 0, next_retry = 0, thaw = 0;
    std::string sender;  // empty for <>
    std::string hdr_id;  // Message-ID header value, may be empty
    std::vector<Rcpt> rcpts;
  };
  uint32_t new_msg(Origin origin, uint32_t pid);
  void free_msg(uint32_t m);
  Rcpt& push_rcpt(Msg& m);
  void add_local_rcpt(Msg& m, uint32_t box);
  void add_remote_rcpt(Msg& m, uint32_t rd, Plan plan);
  void add_remote_person(Msg& m, bool spammy);
  Plan pick_plan(uint32_t rd, bool spammy);
  void write_for_list(const Msg& m);
  void write_subject(std::string_view raw);
  void write_arrival_tail(const Msg& m, std::string_view subject);
  void make_hdr_id(Msg& m, Provider p, std::string_view domain);
  void rand_into(std::string& dst, int n, const char* alphabet, int bits);

  // ---- delivery ----
  void on_deliver(uint32_t m);
  void on_remote_done(uint32_t m);
  void deliver_local(Msg& m, Rcpt& r, uint32_t pid);
  void attempt_remote(Msg& m, bool in_queue_run);
  void write_address(const Msg& m, const Rcpt& r);
  void write_remote_host(uint32_t rd);
  void write_confirmation(const Msg& m, uint32_t rd);
  void write_smtp_error(const Rcpt& r, Plan p, bool defer);
  void finish(uint32_t m);
  void write_rand(int n, const char* alphabet, int bits);
  void make_bounce(const Msg& orig);
  void enqueue_deferred(uint32_t m);
  void schedule_retry(Msg& m);

  // ---- queue runs ----
  struct QueueRef {
    uint32_t slot, gen;
  };
  struct QueueRun {
    uint32_t pid = 0;
    std::vector<QueueRef> msgs;
    size_t next = 0;
  };
  void on_queue_run();
  void on_queue_step(uint32_t qr);
  bool retry_one(uint32_t m);
  std::vector<uint32_t> free_runs_;

  // ---- streams and sessions (gen_flows.cc) ----
  enum Stream : uint8_t {
    sInbound,
    sReject,
    sNoise,
    sAuth,
    sWebmail,
    sPhp,
    sCron,
    sShop,
    sXScript,
    sXBrute,
    sXAccount,
    sXDict,
    sXRandSend,
    sXBackscatter,
    kStreamCount
  };
  struct StreamState {
    double rate = 0;  // arrivals per second at diurnal factor 1
    bool diurnal = true;
    uint64_t start = 0;               // sim microseconds
    uint64_t remaining = UINT64_MAX;  // units still to produce (culprits)
  };
  enum class SessKind : uint8_t {
    kInbound,
    kReject,
    kNoise,
    kAuth,
    kWebmail,
    kXBrute,
    kXAccount,
    kXDict,
    kXRandSend,
    kBackscatter
  };
  struct Session {
    SessKind kind;
    uint8_t step = 0;
    uint16_t left = 0;
    uint32_t pid = 0, port = 0;
    uint32_t aux = 0;  // auth mailbox, stream, ...
    const Client* cl = nullptr;
    uint64_t t0 = 0;
  };
  void write_local_identification(const Session& ss, const User& u);
  void setup_streams();
  double diurnal(uint64_t t) const;
  void on_stream(uint32_t s);
  uint32_t open_session(SessKind kind, const Client* cl, uint32_t aux, uint16_t left);
  void close_session(uint32_t s, bool quit);
  void on_session(uint32_t s);
  void write_hostinfo(const Session& ss);
  void write_fullhost(const Session& ss);
  void write_auth_failure(const Session& ss, std::string_view set_id);
  void session_inbound(uint32_t s);
  void session_reject(uint32_t s);
  void session_noise(uint32_t s);
  void session_auth(uint32_t s);
  void session_xbrute(uint32_t s);
  void session_xaccount(uint32_t s);
  void session_xdict(uint32_t s);
  void session_xrandsend(uint32_t s);
  void session_backscatter(uint32_t s);
  void start_php(uint32_t script, Origin origin);
  void on_php_receive(uint32_t m);
  void start_cron();
  void on_upgrade();
  enum class Subj : uint8_t { kLegit, kSpam, kShop, kPhp, kBounce };
  void make_subject(Subj kind, Provider from = Provider::kGeneric);  // into subj_raw_
  void write_close_duration(const Session& ss);
  void maybe_no_host_name(const Session& ss);

  const Config cfg_;
  const World& w_;
  Rng rng_;
  Out out_;
  TimestampCache ts_;
  Truth truth_;
  std::priority_queue<Ev, std::vector<Ev>, EvLater> q_;
  uint64_t seq_ = 0, now_ = 0;
  uint64_t span_us_ = 0;
  uint32_t next_pid_ = 1187342, daemon_pid_ = 1843;
  uint32_t active_conns_ = 0;
  bool new_exim_ = false;  // after the 4.96 -> 4.97 upgrade
  std::deque<Msg> msgs_;   // deque: references stay valid while new messages are added
  std::vector<uint32_t> free_msgs_;
  std::deque<Session> sessions_;
  std::vector<uint32_t> free_sessions_;
  std::vector<QueueRef> queue_;  // deferred or frozen messages, in arrival order
  std::vector<QueueRun> runs_;
  StreamState streams_[kStreamCount];
  // cPanel hourly send counters per local domain.
  std::vector<uint32_t> hour_count_;
  std::vector<int64_t> hour_stamp_;
  // Scratch.
  std::string subj_raw_, scratch_, tmp_;
  bool account_first_done_ = false;
  std::vector<uint8_t> seen_brute_ip_, seen_account_ip_;
};

}  // namespace sw::bench::gen

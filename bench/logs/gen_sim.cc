// Simulation engine, message bookkeeping, deliveries, bounces and queue runs (gen_sim.h).
// Line shapes: exim-formats.md 1.5 (<=), 1.6 (=> -> == **), 1.7 (Completed, Frozen, queue
// runs), 1.10 (+arguments cwd= lines) and 1.12 (cPanel's Sender identification, SMTP
// connection outbound, enforce_mail_permissions).
#include "gen_sim.h"

#include <algorithm>

namespace sw::bench::gen {
namespace {

constexpr uint64_t kHour = 3600 * kSec;
constexpr uint64_t kDay = 24 * kHour;
constexpr const char* kServerIp = "185.199.220.17";
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const char kHexU[] = "0123456789ABCDEF";
const char kHexL[] = "0123456789abcdef";
const char kLowerAlnum32[] = "abcdefghijklmnopqrstuvwxyz234567";
const char kUpperAlnum32[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

bool is_remote(uint8_t d) { return d == 3 || d == 4 || d == 5; }  // kRemote, kForward, kForward2

}  // namespace

Sim::Sim(const Config& cfg, const World& w, FILE* out) : cfg_(cfg), w_(w), rng_(cfg.seed), out_(out) {
  span_us_ = uint64_t(double(cfg.size_bytes) / (kBytesPerSimSecond * cfg.rate_scale) * 1e6);
  hour_count_.assign(w.domains.size(), 0);
  hour_stamp_.assign(w.domains.size(), -1);
  seen_brute_ip_.assign(w.brute_clients.size(), 0);
  seen_account_ip_.assign(w.compromised_clients.size(), 0);
}

uint32_t Sim::fork_pid() {
  next_pid_ += 1 + rng_.below(5);  // other processes on the host take pids too
  if (next_pid_ >= 4194304) next_pid_ = 1000 + rng_.below(1000);
  return next_pid_;
}

void Sim::begin(uint32_t pid) {
  out_.reserve_line();
  int64_t e = epoch();
  if (truth_.first_epoch < 0) truth_.first_epoch = e;
  truth_.last_epoch = e;
  out_.s(std::string_view(ts_.get(e), TimestampCache::kLen));
  if (cfg_.with_pid) {
    out_.s(" [");
    out_.u(pid);
    out_.c(']');
  }
  out_.c(' ');
}

void Sim::begin(uint32_t pid, const char* id, int idlen) {
  begin(pid);
  out_.s(std::string_view(id, size_t(idlen)));
  out_.c(' ');
}

void Sim::end() {
  out_.nl();
  ++truth_.lines;
}

void Sim::run() {
  setup_streams();
  while (!q_.empty() && out_.bytes() < cfg_.size_bytes) {
    Ev e = q_.top();
    q_.pop();
    now_ = e.t;
    switch (e.kind) {
      case kStream: on_stream(e.a); break;
      case kSession: on_session(e.a); break;
      case kPhpReceive: on_php_receive(e.a); break;
      case kDeliver: on_deliver(e.a); break;
      case kRemoteDone: on_remote_done(e.a); break;
      case kQueueRun: on_queue_run(); break;
      case kQueueStep: on_queue_step(e.a); break;
      case kUpgrade: on_upgrade(); break;
    }
  }
  out_.flush();
  truth_.bytes = out_.bytes();
}

// ---------------------------------------------------------------- messages

uint32_t Sim::new_msg(Origin origin, uint32_t pid) {
  uint32_t mi = take_slot(free_msgs_, msgs_);
  Msg& m = msgs_[mi];
  m.origin = origin;
  m.frozen = m.any_failed = m.sender_local = m.queued = m.has_deferred = false;
  m.sender_dest = Dest::kRemote;
  m.sender_box = m.sender_rd = 0;
  m.user = m.domain = UINT32_MAX;
  m.size = m.retry_step = m.dpid = m.nr = 0;
  m.first_defer = m.next_retry = m.thaw = 0;
  ++m.gen;
  m.sender.clear();
  m.hdr_id.clear();
  m.idlen = make_message_id(m.id, epoch(), uint32_t(now_ % kSec), pid, new_exim_);
  if (new_exim_) ++truth_.ids_new;
  else ++truth_.ids_old;
  return mi;
}

void Sim::free_msg(uint32_t m) {
  msgs_[m].queued = false;
  free_msgs_.push_back(m);
}

Sim::Rcpt& Sim::push_rcpt(Msg& m) {
  if (m.nr == m.rcpts.size()) m.rcpts.emplace_back();
  Rcpt& r = m.rcpts[m.nr++];
  r.addr.clear();
  r.box = r.rd = 0;
  r.dest = Dest::kBox;
  r.plan = Plan::kOk;
  r.attempts = 0;
  r.done = r.visited = false;
  return r;
}

void Sim::add_local_rcpt(Msg& m, uint32_t box) {
  Rcpt& r = push_rcpt(m);
  const Mailbox& b = w_.boxes[box];
  r.addr += b.local;
  r.addr += '@';
  r.addr += w_.domains[b.domain].name;
  r.box = box;
  switch (b.kind) {
    case BoxKind::kMailbox: r.dest = Dest::kBox; break;
    case BoxKind::kFilterNull: r.dest = Dest::kFilter; break;
    case BoxKind::kPipe: r.dest = Dest::kPipe; break;
    case BoxKind::kForwardRemote:
    case BoxKind::kForwardTwoLevel:
      r.dest = b.kind == BoxKind::kForwardRemote ? Dest::kForward : Dest::kForward2;
      r.rd = b.forward_rd;
      // Forwarded spam gets refused by the big providers now and then.
      r.plan = pick_plan(r.rd, m.origin == Origin::kInbound && rng_.chance(0.03));
      break;
  }
}

void Sim::add_remote_rcpt(Msg& m, uint32_t rd, Plan plan) {
  Rcpt& r = push_rcpt(m);
  append_remote_person(r.addr, rng_, w_, rd);
  r.rd = rd;
  r.dest = Dest::kRemote;
  r.plan = plan;
}

void Sim::add_remote_person(Msg& m, bool spammy) {
  uint32_t rd = pick_remote_domain(rng_, w_);
  add_remote_rcpt(m, rd, pick_plan(rd, spammy));
}

Sim::Plan Sim::pick_plan(uint32_t rd, bool spammy) {
  Provider p = w_.remote[rd].provider;
  double u = rng_.unit();
  if (!spammy) {
    bool grey_capable = p == Provider::kGeneric || p == Provider::kExim;
    if (u < 0.010) return grey_capable ? Plan::kGrey : Plan::kOk;
    if (u < 0.013) return Plan::kQuota;
    if (u < 0.0145) return grey_capable ? Plan::kTimeout : Plan::kOk;
    if (u < 0.026) return Plan::kNoUser;
    if (u < 0.027) return Plan::kSpam;
    return Plan::kOk;
  }
  switch (p) {
    case Provider::kGmail:
    case Provider::kWorkspace:
      return u < 0.30 ? Plan::kSpam : u < 0.45 ? Plan::kNoUser : u < 0.52 ? Plan::kVolume : Plan::kOk;
    case Provider::kYahoo: return u < 0.45 ? Plan::kVolume : u < 0.60 ? Plan::kNoUser : Plan::kOk;
    case Provider::kOutlook:
    case Provider::kO365: return u < 0.30 ? Plan::kSpam : u < 0.45 ? Plan::kNoUser : Plan::kOk;
    default: return u < 0.22 ? Plan::kNoUser : u < 0.27 ? Plan::kGrey : u < 0.29 ? Plan::kTimeout : Plan::kOk;
  }
}

void Sim::rand_into(std::string& dst, int n, const char* alphabet, int bits) {
  uint64_t r = 0;
  int avail = 0;
  const uint64_t mask = (1u << bits) - 1;
  for (int k = 0; k < n; ++k) {
    if (avail < bits) {
      r = rng_.next();
      avail = 64;
    }
    dst += alphabet[r & mask];
    r >>= bits;
    avail -= bits;
  }
}

void Sim::write_rand(int n, const char* alphabet, int bits) {
  uint64_t r = 0;
  int avail = 0;
  const uint64_t mask = (1u << bits) - 1;
  for (int k = 0; k < n; ++k) {
    if (avail < bits) {
      r = rng_.next();
      avail = 64;
    }
    out_.c(alphabet[r & mask]);
    r >>= bits;
    avail -= bits;
  }
}

// The Message-ID header as each kind of sender writes it (logged as id=).
void Sim::make_hdr_id(Msg& m, Provider p, std::string_view domain) {
  std::string& h = m.hdr_id;
  h.clear();
  switch (p) {
    case Provider::kGmail:
    case Provider::kWorkspace:
      h += "CA";
      rand_into(h, 2, kUpperAlnum32, 5);
      rand_into(h, 40, kB64Url, 6);
      h += "@mail.gmail.com";
      break;
    case Provider::kOutlook:
    case Provider::kO365: {
      static const char* const kSrv[] = {"AM9PR04MB", "DB9PR10MB", "PAXPR08MB", "BN8PR12MB",
                                         "SJ0PR11MB", "MW4PR84MB", "VI1PR07MB", "CH3PR20MB"};
      size_t start = h.size();
      h += kSrv[rng_.below(8)];
      h += std::to_string(rng_.range(1000, 9999));
      std::string srv = h.substr(start);
      rand_into(h, 32, kHexU, 4);
      h += '@';
      h += srv;
      h += ".namprd12.prod.outlook.com";
      break;
    }
    case Provider::kYahoo:
      h += std::to_string(rng_.range(1000000000u, 2100000000u));
      h += '.';
      h += std::to_string(rng_.range(1000000, 9999999));
      h += '.';
      h += std::to_string(epoch());
      h += std::to_string(rng_.range(100, 999));
      h += "@mail.yahoo.com";
      break;
    case Provider::kExim: {  // PHP mailers (PHPMailer, WordPress): hash@site
      if (rng_.chance(0.5)) rand_into(h, 32, kHexL, 4);
      else rand_into(h, 43, kB64Url, 6);
      h += '@';
      h += domain;
      break;
    }
    case Provider::kGeneric: {
      double u = rng_.unit();
      if (u < 0.4) {
        const char* t = ts_.get(epoch());
        for (int k = 0; k < 19; ++k)
          if (t[k] >= '0' && t[k] <= '9') h += t[k];
        h += '.';
        rand_into(h, 10, kHexU, 4);
        h += "@mail.";
      } else if (u < 0.7) {
        rand_into(h, 32, kHexL, 4);
        h += '@';
      } else {  // Thunderbird and friends: a UUID
        rand_into(h, 8, kHexL, 4);
        h += '-';
        rand_into(h, 4, kHexL, 4);
        h += '-';
        rand_into(h, 4, kHexL, 4);
        h += '-';
        rand_into(h, 4, kHexL, 4);
        h += '-';
        rand_into(h, 12, kHexL, 4);
        h += '@';
      }
      h += domain;
      break;
    }
  }
}

void Sim::write_subject(std::string_view raw) {
  if (raw.size() > 100) raw = raw.substr(0, 100);
  out_.c('"');
  for (unsigned char ch : raw) {
    if (ch >= 0x20 && ch < 0x7f) {
      if (ch == '"' || ch == '\\') out_.c('\\');
      out_.c(char(ch));
      continue;
    }
    out_.c('\\');
    switch (ch) {
      case '\n': out_.c('n'); break;
      case '\r': out_.c('r'); break;
      case '\t': out_.c('t'); break;
      default:
        out_.c(char('0' + (ch >> 6)));
        out_.c(char('0' + ((ch >> 3) & 7)));
        out_.c(char('0' + (ch & 7)));
    }
  }
  out_.c('"');
}

void Sim::write_for_list(const Msg& m) {
  out_.s(" for");
  for (uint32_t k = 0; k < m.nr; ++k) {
    out_.c(' ');
    out_.s(m.rcpts[k].addr);
  }
}

// " S=... [id=...] T="..." for ..." -- the common end of every <= line.
void Sim::write_arrival_tail(const Msg& m, std::string_view subject) {
  out_.s(" S=");
  out_.u(m.size);
  if (!m.hdr_id.empty()) {
    out_.s(" id=");
    out_.s(m.hdr_id);
  }
  out_.s(" T=");
  write_subject(subject);
  write_for_list(m);
  ++truth_.received;
}

// ---------------------------------------------------------------- delivery

void Sim::on_deliver(uint32_t mi) {
  Msg& m = msgs_[mi];
  m.dpid = fork_pid();
  // The daemon (or the submitting exim) re-execs exim to deliver: +arguments logs it.
  begin(m.dpid);
  out_.s("cwd=/var/spool/exim 3 args: /usr/sbin/exim -Mc ");
  out_.s(std::string_view(m.id, size_t(m.idlen)));
  end();
  ++truth_.cwd_lines;

  bool any_plain_remote = false;
  for (uint32_t k = 0; k < m.nr; ++k) any_plain_remote |= m.rcpts[k].dest == Dest::kRemote;
  // Routing: cPanel identifies the sender and counts each remote recipient against the
  // domain's hourly limit (exim-formats.md 1.12).
  if (any_plain_remote && m.user != UINT32_MAX) {
    const std::string& dom = w_.domains[m.domain].name;
    begin(m.dpid, m.id, m.idlen);
    out_.s("Sender identification U=");
    out_.s(w_.users[m.user].name);
    out_.s(" D=");
    out_.s(dom);
    out_.s(" S=");
    out_.s(m.sender);
    end();
    int64_t hour = epoch() / 3600;
    for (uint32_t k = 0; k < m.nr; ++k) {
      Rcpt& r = m.rcpts[k];
      if (r.dest != Dest::kRemote) continue;
      if (hour_stamp_[m.domain] != hour) {
        hour_stamp_[m.domain] = hour;
        hour_count_[m.domain] = 0;
      }
      uint32_t c = ++hour_count_[m.domain];
      begin(m.dpid, m.id, m.idlen);
      if (cfg_.max_per_hour > 0 && c > uint32_t(cfg_.max_per_hour)) {
        out_.s("** ");
        out_.s(r.addr);
        out_.s(" F=<");
        out_.s(m.sender);
        out_.s("> R=enforce_mail_permissions: Domain ");
        out_.s(dom);
        out_.s(" has exceeded the max emails per hour (");
        out_.u(c);
        out_.c('/');
        out_.u(uint64_t(cfg_.max_per_hour));
        out_.s(" (");
        out_.u(uint64_t(c) * 100 / uint64_t(cfg_.max_per_hour));
        out_.s("%)) allowed.  Message discarded.");
        r.plan = Plan::kLimit;
        r.done = true;
        m.any_failed = true;
        ++truth_.failed;
        if (m.origin == Origin::kXScript) ++truth_.script.limited;
      } else {
        out_.s("SMTP connection outbound ");
        out_.u(uint64_t(epoch()));
        out_.c(' ');
        out_.s(std::string_view(m.id, size_t(m.idlen)));
        out_.c(' ');
        out_.s(dom);
        out_.c(' ');
        out_.s(r.addr);
      }
      end();
    }
  }
  for (uint32_t k = 0; k < m.nr; ++k) {
    Rcpt& r = m.rcpts[k];
    if (!r.done && !is_remote(uint8_t(r.dest))) deliver_local(m, r, m.dpid);
  }
  bool pending_remote = false;
  for (uint32_t k = 0; k < m.nr; ++k) pending_remote |= !m.rcpts[k].done;
  if (pending_remote) after_ms(250, 2500, kRemoteDone, mi);
  else finish(mi);
}

void Sim::deliver_local(Msg& m, Rcpt& r, uint32_t pid) {
  auto lmtp_ok = [&](std::string_view who) {
    out_.s(" C=\"250 2.0.0 <");
    out_.s(who);
    out_.s("> ");
    write_rand(22, kB64, 6);
    out_.s(" Saved\"");
  };
  auto sender = [&] {
    out_.s(" F=<");
    out_.s(m.sender);
    out_.c('>');
  };
  begin(pid, m.id, m.idlen);
  switch (r.dest) {
    case Dest::kFilter:
      if (m.origin == Origin::kInbound && rng_.chance(0.35)) {  // the user's spam rule
        out_.s("=> /dev/null <");
        out_.s(r.addr);
        out_.c('>');
        sender();
        out_.s(" R=virtual_user_filter T=**bypassed**");
        break;
      }
      [[fallthrough]];
    case Dest::kBox:
      out_.s("=> ");
      out_.s(r.addr);
      sender();
      out_.s(" R=virtual_user T=dovecot_virtual_delivery");
      lmtp_ok(r.addr);
      break;
    case Dest::kPipe: {
      const User& u = w_.users[w_.domains[w_.boxes[r.box].domain].owner];
      out_.s("=> |/usr/local/cpanel/bin/autorespond ");
      out_.s(r.addr);
      out_.s(" /home/");
      out_.s(u.name);
      out_.s("/.autorespond <");
      out_.s(r.addr);
      out_.c('>');
      sender();
      out_.s(" R=virtual_aliases_nostar T=virtual_address_pipe");
      end();
      ++truth_.delivered;
      begin(pid, m.id, m.idlen);
      out_.s("=> ");
      out_.s(r.addr);
      sender();
      out_.s(" R=virtual_user T=dovecot_virtual_delivery");
      lmtp_ok(r.addr);
      break;
    }
    case Dest::kHostUser: {
      const std::string& name = w_.users[r.box].name;
      out_.s("=> ");
      out_.s(name);
      out_.s(" <");
      out_.s(r.addr);
      out_.c('>');
      sender();
      out_.s(" R=localuser T=dovecot_delivery");
      lmtp_ok(name);
      break;
    }
    case Dest::kBlackhole:
      out_.s("=> :blackhole: <");
      out_.s(r.addr);
      out_.s("> R=virtual_aliases");
      break;
    default: break;
  }
  end();
  ++truth_.delivered;
  r.done = true;
}

void Sim::write_address(const Msg&, const Rcpt& r) {
  if (r.dest == Dest::kForward || r.dest == Dest::kForward2) {
    const Mailbox& b = w_.boxes[r.box];
    out_.s(b.forward);
    if (r.dest == Dest::kForward2) {
      out_.s(" (");
      out_.s(b.middle);
      out_.c(')');
    }
    out_.s(" <");
    out_.s(r.addr);
    out_.c('>');
    return;
  }
  out_.s(r.addr);
}

void Sim::write_remote_host(uint32_t rd) {
  const RemoteDomain& r = w_.remote[rd];
  out_.s(" H=");
  out_.s(r.mx);
  out_.s(" [");
  out_.s(r.mx_ip);
  out_.c(']');
  switch (r.provider) {
    case Provider::kYahoo: out_.s(" X=TLS1.3:TLS_AES_128_GCM_SHA256:128 CV=yes"); return;
    case Provider::kGmail:
    case Provider::kWorkspace:
    case Provider::kOutlook:
    case Provider::kO365: out_.s(" X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes"); return;
    default: break;
  }
  uint32_t h = uint32_t(mix64(rd) % 10);
  if (h < 5) out_.s(" X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes");
  else if (h < 7) out_.s(" X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
  else if (h < 9) out_.s(" X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no");
}

void Sim::write_confirmation(const Msg& m, uint32_t rd) {
  out_.s(" C=\"");
  switch (w_.remote[rd].provider) {
    case Provider::kGmail:
    case Provider::kWorkspace:
      out_.s("250 2.0.0 OK  ");
      out_.u(uint64_t(epoch()));
      out_.c(' ');
      write_rand(13, kHexL, 4);
      out_.c('-');
      write_rand(20, kLowerAlnum32, 5);
      out_.c('.');
      out_.u(rng_.range(1, 999));
      out_.s(" - gsmtp");
      break;
    case Provider::kOutlook:
    case Provider::kO365:
      out_.s("250 2.6.0 ");
      if (!m.hdr_id.empty()) {
        out_.c('<');
        out_.s(m.hdr_id);
        out_.s("> ");
      }
      out_.s("[InternalId=");
      out_.u(10000000000000ull + rng_.next() % 89999999999999ull);
      out_.s(", Hostname=");
      write_rand(4, kUpperAlnum32, 5);
      out_.s("PR0");
      out_.u(rng_.range(1, 9));
      out_.s("MB");
      out_.u(rng_.range(1000, 9999));
      out_.s(".eurprd0");
      out_.u(rng_.range(1, 9));
      out_.s(".prod.outlook.com] ");
      out_.u(m.size + 900 + rng_.below(600));
      out_.s(" bytes in 0.");
      out_.u(rng_.range(100, 999));
      out_.s(", ");
      out_.u(rng_.range(10, 400));
      out_.c('.');
      out_.u(rng_.range(100, 999));
      out_.s(" KB/sec Queued mail for delivery");
      break;
    case Provider::kYahoo: out_.s("250 ok dirdel"); break;
    case Provider::kExim:
      out_.s("250 OK id=1");
      write_rand(5, kB64Url, 6);
      out_.s("-000");
      write_rand(3, kUpperAlnum32, 5);
      out_.c('-');
      write_rand(2, kB64Url, 6);
      break;
    case Provider::kGeneric:
      out_.s("250 2.0.0 Ok: queued as ");
      write_rand(12, kUpperAlnum32, 5);
      break;
  }
  out_.c('"');
}

// The tail of a == line (defer=true, starting at " defer (") or of a ** line (starting at
// the host). Remote texts are multi-line SMTP replies joined with a literal "\n".
void Sim::write_smtp_error(const Rcpt& r, Plan p, bool defer) {
  const RemoteDomain& rd = w_.remote[r.rd];
  const bool google = rd.provider == Provider::kGmail || rd.provider == Provider::kWorkspace;
  const bool msft = rd.provider == Provider::kOutlook || rd.provider == Provider::kO365;
  auto host = [&] {
    out_.s(" H=");
    out_.s(rd.mx);
    out_.s(" [");
    out_.s(rd.mx_ip);
    out_.c(']');
  };
  const std::string_view final_addr = (r.dest == Dest::kForward || r.dest == Dest::kForward2)
                                          ? std::string_view(w_.boxes[r.box].forward)
                                          : std::string_view(r.addr);
  auto after_rcpt = [&](const char* pipelined) {
    out_.s(": SMTP error from remote mail server after ");
    out_.s(pipelined);
    out_.s("RCPT TO:<");
    out_.s(final_addr);
    out_.s(">: ");
  };
  if (defer) {
    switch (p) {
      case Plan::kTimeout: out_.s(" defer (110): Connection timed out"); return;
      case Plan::kVolume:
        out_.s(" defer (-46)");
        host();
        out_.s(": SMTP error from remote mail server after end of data: ");
        if (rd.provider == Provider::kYahoo) {
          out_.s("421 4.7.0 [TSS04] Messages from ");
          out_.s(kServerIp);
          out_.s(
              " temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; "
              "see https://postmaster.yahooinc.com/error-codes");
        } else if (google) {
          out_.s(
              "421-4.7.28 Gmail has detected an unusual rate of unsolicited mail. To protect our\\n"
              "421-4.7.28 users from spam, mail has been temporarily rate limited. For more\\n"
              "421 4.7.28 information, go to  https://support.google.com/mail/?p=UnsolicitedRateLimitError - gsmtp");
        } else {
          out_.s("421 4.7.0 Try again later, closing connection. (DATA)");
        }
        return;
      case Plan::kQuota:
        out_.s(" defer (-44)");
        host();
        after_rcpt("");
        if (google)
          out_.s(
              "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\\n"
              "452-4.2.2 recipient to\\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp - gsmtp");
        else out_.s("452 4.2.2 Mailbox full");
        return;
      default:  // greylisting
        out_.s(" defer (-44)");
        host();
        after_rcpt("");
        out_.s("451 4.7.1 <");
        out_.s(final_addr);
        out_.s(">: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/");
        out_.s(rd.name);
        out_.s(".html");
        return;
    }
  }
  host();
  if (rd.provider != Provider::kGeneric || mix64(r.rd) % 10 < 9)
    out_.s(rd.provider == Provider::kYahoo ? " X=TLS1.3:TLS_AES_128_GCM_SHA256:128 CV=yes"
                                           : " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes");
  if (p == Plan::kSpam) {
    if (google) {
      out_.s(
          ": SMTP error from remote mail server after pipelined end of data: "
          "550-5.7.1 [");
      out_.s(kServerIp);
      out_.s(
          "      12] Our system has detected that this message is\\n"
          "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\\n"
          "550-5.7.1 this message has been blocked. For more information, go to\\n"
          "550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError ");
      write_rand(13, kHexL, 4);
      out_.s(" - gsmtp");
    } else if (msft) {
      after_rcpt("");
      out_.s("550 5.7.1 Service unavailable, Client host [");
      out_.s(kServerIp);
      out_.s(
          "] blocked using Spamhaus. To request removal from this list see "
          "https://www.spamhaus.org/query/ip/");
      out_.s(kServerIp);
      out_.s(
          " (AS3130). [BN8NAM12FT052.eop-nam12.prod.protection.outlook.com 2026-10-25T00:00:00.000Z 08DCF3A1B2C4D5E6]");
    } else {
      out_.s(
          ": SMTP error from remote mail server after end of data: 554 5.7.1 Message rejected: spam content detected");
    }
    return;
  }
  // No such user (or anything else permanent).
  if (google) {
    after_rcpt("pipelined ");
    out_.s(
        "550-5.1.1 The email account that you tried to reach does not exist. Please try\\n"
        "550-5.1.1 double-checking the recipient's email address for typos or\\n"
        "550-5.1.1 unnecessary spaces. For more information, go to\\n"
        "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser ");
    write_rand(13, kHexL, 4);
    out_.s(" - gsmtp");
  } else if (msft) {
    after_rcpt("");
    out_.s(
        "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
        "[AM4PEPF00027A67.eurprd04.prod.outlook.com 2026-10-25T00:00:00.000Z 08DCF3A1B2C4D5E6]");
  } else if (rd.provider == Provider::kYahoo) {
    after_rcpt("");
    out_.s("554 delivery error: dd This user doesn't have a ");
    out_.s(rd.name);
    out_.s(" account (");
    out_.s(final_addr);
    out_.s(") [0] - mta6.am0.yahoodns.net");
  } else {
    after_rcpt("");
    out_.s("550 5.1.1 <");
    out_.s(final_addr);
    out_.s(">: Recipient address rejected: User unknown in virtual mailbox table");
  }
}

void Sim::on_remote_done(uint32_t mi) {
  Msg& m = msgs_[mi];
  attempt_remote(m, false);
  bool pending = false;
  for (uint32_t k = 0; k < m.nr; ++k) pending |= !m.rcpts[k].done;
  if (!pending) {
    finish(mi);
    return;
  }
  if (!m.frozen) enqueue_deferred(mi);
  if (!m.queued) {
    m.queued = true;
    queue_.push_back({mi, m.gen});
  }
}

// One delivery attempt for every pending remote recipient, grouped by destination so that
// the first success in a transaction is "=>" and further ones are "->".
void Sim::attempt_remote(Msg& m, bool retry) {
  const bool timed_out = retry && m.has_deferred && now_ - m.first_defer > 4 * kDay;
  bool bounce_failed = false;
  for (uint32_t i = 0; i < m.nr; ++i) {
    if (m.rcpts[i].done || m.rcpts[i].visited || !is_remote(uint8_t(m.rcpts[i].dest))) continue;
    const uint32_t rd = m.rcpts[i].rd;
    bool first = true;
    for (uint32_t j = i; j < m.nr; ++j) {
      Rcpt& r = m.rcpts[j];
      if (r.done || r.visited || r.rd != rd || !is_remote(uint8_t(r.dest))) continue;
      r.visited = true;
      Plan p = r.plan;
      enum { kOk, kDefer, kFail } res;
      if (timed_out) {
        res = kFail;
      } else if (!retry) {
        res = p == Plan::kOk ? kOk : (p == Plan::kNoUser || p == Plan::kSpam) ? kFail : kDefer;
      } else {
        switch (p) {
          case Plan::kOk: res = kOk; break;
          case Plan::kGrey: res = rng_.chance(0.9) ? kOk : kDefer; break;
          case Plan::kQuota: res = rng_.chance(0.35) ? kOk : kDefer; break;
          case Plan::kVolume: {
            double u = rng_.unit();
            res = u < 0.45 ? kOk : u < 0.55 ? kFail : kDefer;
            if (res == kFail) p = r.plan = Plan::kSpam;
            break;
          }
          case Plan::kTimeout: res = kDefer; break;
          default: res = kFail; break;
        }
      }
      ++r.attempts;
      begin(m.dpid, m.id, m.idlen);
      if (res == kOk) {
        out_.s(first ? "=> " : "-> ");
        write_address(m, r);
        out_.s(" F=<");
        out_.s(m.sender);
        out_.s("> R=dkim_lookuphost T=dkim_remote_smtp");
        write_remote_host(rd);
        write_confirmation(m, rd);
        if (first) ++truth_.delivered;
        else ++truth_.delivered_more;
        first = false;
        r.done = true;
      } else if (res == kDefer) {
        out_.s("== ");
        write_address(m, r);
        out_.s(" R=dkim_lookuphost T=dkim_remote_smtp");
        write_smtp_error(r, p, true);
        ++truth_.deferred;
      } else {
        out_.s("** ");
        write_address(m, r);
        out_.s(" F=<");
        out_.s(m.sender);
        out_.s("> R=dkim_lookuphost T=dkim_remote_smtp");
        if (timed_out) out_.s(": retry timeout exceeded");
        else write_smtp_error(r, p, false);
        ++truth_.failed;
        if (m.sender.empty() && !timed_out) {
          bounce_failed = true;  // a bounce that bounces: frozen, retried at thaw
          r.plan = p;
        } else {
          r.done = true;
          m.any_failed = true;
        }
      }
      end();
    }
  }
  for (uint32_t k = 0; k < m.nr; ++k) m.rcpts[k].visited = false;
  if (bounce_failed) {
    begin(m.dpid, m.id, m.idlen);
    out_.s("Frozen (delivery error message)");
    end();
    m.frozen = true;
    m.thaw = now_ + kDay;  // ignore_bounce_errors_after = 1d
    ++truth_.frozen;
  }
}

void Sim::finish(uint32_t mi) {
  Msg& m = msgs_[mi];
  if (m.any_failed && !m.sender.empty()) make_bounce(m);
  begin(m.dpid, m.id, m.idlen);
  out_.s("Completed");
  end();
  ++truth_.completed;
  free_msg(mi);
}

// Exim's own bounce: a new exim process (logged by +arguments) receives it.
void Sim::make_bounce(const Msg& orig) {
  uint32_t bpid = fork_pid();
  begin(bpid);
  out_.s("cwd=/var/spool/exim 7 args: /usr/sbin/exim -t -oem -oi -f <> -E");
  out_.s(std::string_view(orig.id, size_t(orig.idlen)));
  end();
  ++truth_.cwd_lines;
  uint32_t bi = new_msg(Origin::kBounce, bpid);
  Msg& b = msgs_[bi];
  b.size = std::min<uint32_t>(orig.size, 60000) + 1300 + rng_.below(900);
  Rcpt& r = push_rcpt(b);
  r.addr = orig.sender;
  if (orig.sender_local) {
    r.dest = orig.sender_dest;
    r.box = orig.sender_box;
  } else {
    r.dest = Dest::kRemote;
    r.rd = orig.sender_rd;
    r.plan = rng_.chance(0.4) ? Plan::kNoUser : Plan::kOk;  // many senders are forged
  }
  begin(bpid, b.id, b.idlen);
  out_.s("<= <> R=");
  out_.s(std::string_view(orig.id, size_t(orig.idlen)));
  out_.s(" U=mailnull P=local S=");
  out_.u(b.size);
  out_.s(" T=\"Mail delivery failed: returning message to sender\" for ");
  out_.s(r.addr);
  end();
  ++truth_.received;
  ++truth_.received_bounces;
  after_ms(20, 400, kDeliver, bi);
}

// cPanel's retry rule: F,2h,15m; G,16h,1h,1.5; F,4d,6h.
void Sim::schedule_retry(Msg& m) {
  uint64_t elapsed = now_ - m.first_defer;
  if (elapsed < 2 * kHour) {
    m.next_retry = now_ + 15 * 60 * kSec;
  } else if (elapsed < 16 * kHour) {
    double iv = 3600.0 * std::pow(1.5, double(m.retry_step++));
    m.next_retry = now_ + uint64_t(iv * 1e6);
  } else {
    m.next_retry = now_ + 6 * kHour;
  }
}

void Sim::enqueue_deferred(uint32_t mi) {
  Msg& m = msgs_[mi];
  if (!m.has_deferred) {
    m.has_deferred = true;
    m.first_defer = now_;
  }
  schedule_retry(m);
  if (!m.queued) {
    m.queued = true;
    queue_.push_back({mi, m.gen});
  }
}

// ---------------------------------------------------------------- queue runs

void Sim::on_queue_run() {
  at(now_ + kHour, kQueueRun, 0);
  // Drop entries of messages that completed or whose slot was reused.
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const QueueRef& q) {
                                const Msg& m = msgs_[q.slot];
                                return m.gen != q.gen || !m.queued;
                              }),
               queue_.end());
  uint32_t ri = take_slot(free_runs_, runs_);
  QueueRun& run = runs_[ri];
  run.pid = fork_pid();
  run.msgs = queue_;
  run.next = 0;
  begin(run.pid);
  out_.s("cwd=/var/spool/exim 2 args: /usr/sbin/exim -q");
  end();
  ++truth_.cwd_lines;
  begin(run.pid);
  out_.s("Start queue run: pid=");
  out_.u(run.pid);
  end();
  ++truth_.queue_runs;
  after_ms(30, 200, kQueueStep, ri);
}

void Sim::on_queue_step(uint32_t ri) {
  QueueRun& run = runs_[ri];
  if (run.next >= run.msgs.size()) {
    begin(run.pid);
    out_.s("End queue run: pid=");
    out_.u(run.pid);
    end();
    free_runs_.push_back(ri);
    return;
  }
  QueueRef ref = run.msgs[run.next++];
  bool attempted = false;
  if (msgs_[ref.slot].gen == ref.gen && msgs_[ref.slot].queued) attempted = retry_one(ref.slot);
  if (attempted) after_ms(150, 1800, kQueueStep, ri);
  else after_ms(3, 40, kQueueStep, ri);
}

bool Sim::retry_one(uint32_t mi) {
  Msg& m = msgs_[mi];
  if (m.frozen) {
    if (now_ < m.thaw) return false;
    m.dpid = fork_pid();
    begin(m.dpid, m.id, m.idlen);
    out_.s("Unfrozen by errmsg timer");
    end();
    for (uint32_t k = 0; k < m.nr; ++k) {
      Rcpt& r = m.rcpts[k];
      if (r.done) continue;
      begin(m.dpid, m.id, m.idlen);
      out_.s("** ");
      write_address(m, r);
      out_.s(" F=<> R=dkim_lookuphost T=dkim_remote_smtp");
      write_smtp_error(r, r.plan, false);
      end();
      ++truth_.failed;
      r.done = true;
    }
    m.queued = false;
    finish(mi);  // no bounce of a bounce: the sender is <>
    return true;
  }
  m.dpid = fork_pid();
  if (now_ < m.next_retry) {
    for (uint32_t k = 0; k < m.nr; ++k) {
      const Rcpt& r = m.rcpts[k];
      if (r.done) continue;
      begin(m.dpid, m.id, m.idlen);
      out_.s("== ");
      write_address(m, r);
      out_.s(" R=dkim_lookuphost T=dkim_remote_smtp defer (-53): retry time not reached for any host for '");
      out_.s(w_.remote[r.rd].name);
      out_.c('\'');
      end();
      ++truth_.deferred;
    }
    return false;
  }
  attempt_remote(m, true);
  bool pending = false;
  for (uint32_t k = 0; k < m.nr; ++k) pending |= !m.rcpts[k].done;
  if (!pending) {
    finish(mi);
  } else if (!m.frozen) {
    schedule_retry(m);
  }
  return true;
}

}  // namespace sw::bench::gen

// Arrival streams and SMTP sessions of the simulated server (gen_sim.h): inbound mail from
// remote MTAs, rejected spam runs, connection noise, SMTP-AUTH and webmail submissions, PHP
// scripts, cron mail, and the planted culprits. Session line shapes: exim-formats.md 1.8;
// cPanel identification lines: 1.12.
#include <algorithm>
#include <cmath>

#include "gen_sim.h"

namespace sw::bench::gen {
namespace {

// Subject templates. '#' becomes a random digit and '%' a first name. Some carry the
// characters Exim must escape: quotes, backslashes, tabs, UTF-8, over-long text.
const char* const kLegitSubjects[] = {
    "Re: Meeting tomorrow",
    "Invoice ####",
    "Your order ######## has shipped",
    "Fw: Quote request for %",
    "RE: \"Project Atlas\" status update",
    "Newsletter \xe2\x80\x93 October edition",
    "Caf\xc3\xa9 menu update",
    "Backup C:\\Backups\\daily completed",
    "[Ticket ######] Cannot log in to my account",
    "Welcome to our community!",
    "Password reset request",
    "Re: Re: Fwd: photos from the weekend",
    "Your statement is ready",
    "Appointment reminder for %",
    "Payment received - thank you",
    "Re: contract draft v#",
    "Weekly report ##",
    "Invitation: Team sync @ Mon 10:00",
    "",
    "Ihre Bestellung Nr. ###### ist unterwegs",
    "\xd0\x92\xd0\xb0\xd1\x88 \xd0\xb7\xd0\xb0\xd0\xba\xd0\xb0\xd0\xb7 ####",
    "Important information about your account and the changes to our terms of service that take effect next month - "
    "please read",
    "Re: % said \"see you at 5\"",
    "Tab\tseparated report ##",
    "Re: question about the \\\\server\\share path",
    "Lunch?",
    "Re: Site visit on Thursday",
    "Quarterly figures Q# 2026",
};
const char* const kSpamSubjects[] = {
    "Your account has been suspended",
    "Congratulations! You've won a $1000 gift card",
    "Payment confirmation #######",
    "RE: Invoice ##### overdue",
    "Cheap meds online - 80% off",
    "URGENT: verify your mailbox now",
    "\xd0\x92\xd0\xb0\xd1\x88 \xd0\xb2\xd1\x8b\xd0\xb8\xd0\xb3\xd1\x80\xd1\x8b\xd1\x88 ####",
    "Re: your \"package\" delivery failed",
    "Business proposal from %",
    "Bitcoin investment opportunity ###% returns",
    "Document shared with you: Invoice_#####.pdf",
    "\xe2\x9c\x85 Action required: mailbox storage full",
};
const char* const kShopSubjects[] = {
    "Your Lumashop order #####-## has been received!",
    "[Lumashop] Order ###### confirmation",
    "Your Lumashop order is now complete",
    "Lumashop: your order ###### has shipped",
};
const char* const kPhpSubjects[] = {
    "New contact form submission",
    "[WordPress] New User Registration",
    "Message from website visitor %",
    "[WordPress] Password Reset",
    "New order ######",
    "Booking confirmation ####",
    "Form submission: Contact Us",
    "New comment on \"Hello world!\"",
};
// Remote bounces, as each kind of MTA titles them.
const char* bounce_subject_for(Provider p, bool alt) {
  switch (p) {
    case Provider::kGmail:
    case Provider::kWorkspace: return "Delivery Status Notification (Failure)";
    case Provider::kOutlook:
    case Provider::kO365: return alt ? "Undeliverable: Re: Invoice ####" : "Undeliverable: Payment confirmation";
    case Provider::kYahoo: return "Failure Notice";
    case Provider::kExim: return "Mail delivery failed: returning message to sender";
    case Provider::kGeneric: break;
  }
  return alt ? "Returned mail: see transcript for details" : "Undelivered Mail Returned to Sender";
}
const char* const kNames[] = {"John", "Maria", "Ahmed", "Sofia", "Chen", "Olga", "Pierre", "Priya"};
const char* const kRblTexts[] = {
    "https://www.spamhaus.org/query/ip/",
    "Blocked - see https://www.spamcop.net/bl.shtml?",
    "Listed by BARRACUDA, see http://www.barracudacentral.org/rbl/removal-request/",
};
const char* const kBruteIds[] = {"admin", "test",  "info",    "webmaster", "postmaster",
                                 "user",  "sales", "support", "contact",   "office"};

}  // namespace

void Sim::make_subject(Subj kind, Provider from) {
  const char* t = nullptr;
  switch (kind) {
    case Subj::kLegit: t = rng_.pick(kLegitSubjects); break;
    case Subj::kSpam: t = rng_.pick(kSpamSubjects); break;
    case Subj::kShop: t = rng_.pick(kShopSubjects); break;
    case Subj::kPhp: t = rng_.pick(kPhpSubjects); break;
    case Subj::kBounce: t = bounce_subject_for(from, rng_.chance(0.3)); break;
  }
  subj_raw_.clear();
  for (const char* p = t; *p; ++p) {
    if (*p == '#') subj_raw_ += char('0' + rng_.below(10));
    else if (*p == '%') subj_raw_ += rng_.pick(kNames);
    else subj_raw_ += *p;
  }
}

double Sim::diurnal(uint64_t t) const {
  int64_t sec = cfg_.start_epoch + int64_t(t / kSec);
  double h = double(sec % 86400) / 3600.0;
  double f = 1.0 + 0.55 * std::sin(2.0 * M_PI * (h - 9.0) / 24.0);  // peak 15:00, trough 03:00
  int64_t dow = (sec / 86400 + 4) % 7;                              // 0 = Sunday
  if (dow == 0 || dow == 6) f *= 0.72;
  return f;
}

void Sim::setup_streams() {
  const double rs = cfg_.rate_scale;
  auto bg = [&](Stream s, double rate, bool diurnal_on) {
    streams_[s].rate = rate * rs;
    streams_[s].diurnal = diurnal_on;
  };
  // Sessions (or submissions) per second at the daily mean; ~1.3 messages/s in all.
  bg(sInbound, 0.72, true);
  bg(sReject, 0.28, false);
  bg(sNoise, 0.20, false);
  bg(sAuth, 0.20, true);
  bg(sWebmail, 0.05, true);
  bg(sPhp, 0.16, true);
  bg(sCron, 0.011, false);
  bg(sShop, 4000.0 / 86400.0, true);  // a busy shop: ~4000 order mails a day, all week

  // The planted story, laid out over the expected span of the log. Volumes and durations
  // shrink for logs smaller than the 1100 MB benchmark size so that small samples still
  // contain every culprit.
  const double span_s = double(span_us_) / 1e6;
  const double sv = std::clamp(double(cfg_.size_bytes) / 1.1e9, 0.02, 1.0);
  auto culprit = [&](Stream s, double at_s, double dur_s, double units, double min_units) {
    StreamState& st = streams_[s];
    st.diurnal = false;
    st.start = uint64_t(at_s * 1e6);
    st.remaining = uint64_t(std::max(min_units, std::round(units * sv)));
    st.rate = double(st.remaining) / std::max(60.0, dur_s);
  };
  culprit(sXScript, 0.29 * span_s, 15 * 60 * sv, 3000, 40);
  const double brute_dur = 3 * 3600 * sv;
  culprit(sXBrute, 0.44 * span_s, brute_dur, 2400, 30);
  culprit(sXAccount, 0.44 * span_s + std::max(60.0, brute_dur) + 1200 * sv, 6 * 3600 * sv, 4000, 40);
  culprit(sXDict, 0.63 * span_s, 5 * 3600 * sv, 9000, 60);
  culprit(sXRandSend, 0.76 * span_s, 75 * 60 * sv, 2500, 30);
  culprit(sXBackscatter, 0.38 * span_s, 0.54 * span_s, 3500, 30);

  for (uint32_t s = 0; s < kStreamCount; ++s) {
    const StreamState& st = streams_[s];
    if (st.rate <= 0) continue;
    at(st.start + uint64_t(rng_.expo(1.0 / st.rate) * 1e6), kStream, s);
  }
  at(uint64_t((17 * 60 + rng_.below(600)) * kSec), kQueueRun, 0);
  if (cfg_.upgrade_at < 1.0) at(uint64_t(cfg_.upgrade_at * double(span_us_)), kUpgrade, 0);
}

void Sim::on_stream(uint32_t s) {
  StreamState& st = streams_[s];
  uint32_t units = 1;
  switch (Stream(s)) {
    case sInbound: {
      uint32_t mta = rng_.skewed(uint32_t(w_.inbound_mtas.size()), 1.3);
      uint16_t n = uint16_t(rng_.chance(0.1) ? 2 + rng_.below(3) : 1);
      open_session(SessKind::kInbound, &w_.inbound_mtas[mta], mta, n);
      break;
    }
    case sReject:
      open_session(SessKind::kReject, &w_.bot_clients[rng_.below(uint32_t(w_.bot_clients.size()))], 0, 1);
      break;
    case sNoise:
      open_session(SessKind::kNoise, &w_.bot_clients[rng_.below(uint32_t(w_.bot_clients.size()))], 0, 1);
      break;
    case sAuth: {
      uint32_t box = w_.auth_boxes[rng_.skewed(uint32_t(w_.auth_boxes.size()), 1.8)];
      // Each account mostly uses the same one or two devices.
      uint64_t h = mix64(box * 2 + (rng_.chance(0.3) ? 1 : 0));
      const Client* cl = &w_.auth_clients[h % w_.auth_clients.size()];
      open_session(SessKind::kAuth, cl, box, uint16_t(rng_.chance(0.15) ? 2 : 1));
      break;
    }
    case sWebmail: {
      uint32_t box = w_.auth_boxes[rng_.skewed(uint32_t(w_.auth_boxes.size()), 1.5)];
      open_session(SessKind::kWebmail, &w_.webmail_client, box, 1);
      break;
    }
    case sPhp: start_php(rng_.skewed(w_.script_spam, 2.2), Origin::kPhp); break;
    case sCron: start_cron(); break;
    case sShop: start_php(w_.script_shop, Origin::kXShop); break;
    case sXScript: start_php(w_.script_spam, Origin::kXScript); break;
    case sXBrute: {
      units = std::min<uint32_t>(uint32_t(st.remaining), 5 + rng_.below(36));
      uint32_t ci = rng_.below(uint32_t(w_.brute_clients.size()));
      open_session(SessKind::kXBrute, &w_.brute_clients[ci], ci, uint16_t(units));
      break;
    }
    case sXAccount: {
      units = std::min<uint32_t>(uint32_t(st.remaining), 1 + rng_.below(5));
      // The first successful login comes from one of the guessing hosts.
      bool first = !account_first_done_;
      account_first_done_ = true;
      uint32_t ci = rng_.below(uint32_t(w_.compromised_clients.size()));
      const Client* cl = first ? &w_.brute_clients[0] : &w_.compromised_clients[ci];
      open_session(SessKind::kXAccount, cl, first ? UINT32_MAX : ci, uint16_t(units));
      break;
    }
    case sXDict:
      units = std::min<uint32_t>(uint32_t(st.remaining), 5 + rng_.below(26));
      open_session(SessKind::kXDict, &w_.dict_client, 0, uint16_t(units));
      break;
    case sXRandSend:
      units = std::min<uint32_t>(uint32_t(st.remaining), 1 + rng_.below(10));
      open_session(SessKind::kXRandSend, &w_.randsend_client, 0, uint16_t(units));
      break;
    case sXBackscatter: {
      uint32_t mta = rng_.below(uint32_t(w_.inbound_mtas.size()));
      open_session(SessKind::kBackscatter, &w_.inbound_mtas[mta], mta, 1);
      break;
    }
    case kStreamCount: break;
  }
  if (st.remaining != UINT64_MAX) {
    st.remaining -= std::min<uint64_t>(st.remaining, units);
    if (st.remaining == 0) return;
  }
  double rate = st.rate * (st.diurnal ? diurnal(now_) : 1.0);
  at(now_ + 1 + uint64_t(rng_.expo(double(units) / rate) * 1e6), kStream, s);
}

// ---------------------------------------------------------------- sessions

uint32_t Sim::open_session(SessKind kind, const Client* cl, uint32_t aux, uint16_t left) {
  uint32_t si = take_slot(free_sessions_, sessions_);
  Session& ss = sessions_[si];
  ss.kind = kind;
  ss.step = 0;
  ss.left = left;
  ss.aux = aux;
  ss.cl = cl;
  ss.t0 = now_;
  ss.pid = fork_pid();
  ss.port = rng_.range(32768, 65535);
  ++active_conns_;
  ++truth_.connections;
  // Logged by the daemon before it forks the session's process (daemon.c).
  begin(daemon_pid_);
  out_.s("SMTP connection from [");
  out_.s(cl->ip);
  out_.s("]:");
  out_.u(ss.port);
  out_.s(" (TCP/IP connection count = ");
  out_.u(active_conns_);
  out_.s(")");
  end();
  double lo = 150, hi = 2500;
  if (kind == SessKind::kWebmail || kind == SessKind::kXRandSend) lo = 5, hi = 60;
  after_ms(lo, hi, kSession, si);
  return si;
}

void Sim::write_fullhost(const Session& ss) {
  out_.s(ss.cl->fullhost);
  out_.c('[');
  out_.s(ss.cl->ip);
  out_.s("]:");
  out_.u(ss.port);
}

void Sim::write_hostinfo(const Session& ss) {
  out_.s("H=");
  write_fullhost(ss);
}

void Sim::write_close_duration(const Session& ss) {
  uint64_t d = (now_ - ss.t0) / kSec;
  out_.s(" D=");
  if (d >= 3600) {
    out_.u(d / 3600);
    out_.c('h');
  }
  if (d >= 60) {
    out_.u(d / 60 % 60);
    out_.c('m');
  }
  out_.u(d % 60);
  out_.c('s');
}

void Sim::close_session(uint32_t si, bool quit) {
  Session& ss = sessions_[si];
  begin(ss.pid);
  out_.s("SMTP connection from ");
  write_fullhost(ss);
  if (quit) {
    if (new_exim_) write_close_duration(ss);  // 4.97 added D= here
    out_.s(" closed by QUIT");
  } else {
    out_.s(" lost");
    if (new_exim_) write_close_duration(ss);
  }
  end();
  --active_conns_;
  free_sessions_.push_back(si);
}

void Sim::maybe_no_host_name(const Session& ss) {
  if (!ss.cl->fullhost.empty() && ss.cl->fullhost[0] != '(') return;
  if (!rng_.chance(0.3)) return;
  begin(ss.pid);
  out_.s("no host name found for IP address ");
  out_.s(ss.cl->ip);
  end();
}

void Sim::write_auth_failure(const Session& ss, std::string_view set_id) {
  begin(ss.pid);
  out_.s(rng_.chance(0.7) ? "dovecot_login" : "dovecot_plain");
  out_.s(" authenticator failed for ");
  if (new_exim_) out_.s("H=");  // 4.96 logs host_and_ident(FALSE); newer builds flag it
  write_fullhost(ss);
  out_.s(": 535 Incorrect authentication data (set_id=");
  out_.s(set_id);
  out_.c(')');
  end();
  ++truth_.auth_failed;
}

void Sim::on_session(uint32_t si) {
  switch (sessions_[si].kind) {
    case SessKind::kInbound: session_inbound(si); break;
    case SessKind::kReject: session_reject(si); break;
    case SessKind::kNoise: session_noise(si); break;
    case SessKind::kAuth:
    case SessKind::kWebmail: session_auth(si); break;
    case SessKind::kXBrute: session_xbrute(si); break;
    case SessKind::kXAccount: session_xaccount(si); break;
    case SessKind::kXDict: session_xdict(si); break;
    case SessKind::kXRandSend: session_xrandsend(si); break;
    case SessKind::kBackscatter: session_backscatter(si); break;
  }
}

void Sim::session_inbound(uint32_t si) {
  Session& ss = sessions_[si];
  if (ss.left == 0) {
    close_session(si, rng_.chance(0.97));
    return;
  }
  --ss.left;
  const uint32_t rd = w_.inbound_mta_domain[ss.aux];
  const RemoteDomain& from = w_.remote[rd];
  uint32_t mi = new_msg(Origin::kInbound, ss.pid);
  Msg& m = msgs_[mi];
  const bool bounce = rng_.chance(0.04);  // everyday backscatter and genuine bounces
  if (!bounce) {
    double u = rng_.unit();
    if (u < 0.85) {
      append_remote_person(m.sender, rng_, w_, rd);
    } else {
      m.sender = u < 0.93 ? "newsletter@" : "noreply@";
      m.sender += from.name;
    }
  }
  m.sender_rd = rd;
  uint32_t d = w_.domain_rank[rng_.skewed(uint32_t(w_.domains.size()), 1.6)];
  const Domain& dom = w_.domains[d];
  uint32_t n = rng_.chance(0.85) ? 1 : 2 + rng_.below(3);
  for (uint32_t k = 0; k < n; ++k) add_local_rcpt(m, dom.first_box + rng_.below(dom.n_boxes));
  make_hdr_id(m, from.provider, from.name);
  m.size = 1800 + uint32_t(rng_.expo(24000));
  if (rng_.chance(0.02)) m.size += 2000000 + rng_.below(15000000);
  if (rng_.chance(0.6)) {  // cPanel's SpamAssassin warn statement, logged in the DATA ACL
    bool spam = rng_.chance(0.06);
    begin(ss.pid, m.id, m.idlen);
    write_hostinfo(ss);
    out_.s(" Warning: \"SpamAssassin as ");
    out_.s(w_.users[dom.owner].name);
    out_.s(spam ? " detected message as spam (" : " detected message as NOT spam (");
    double score = spam ? 5.0 + rng_.unit() * 20 : -3.0 + rng_.unit() * 7.5;
    out_.i(int64_t(std::floor(score)));
    out_.c('.');
    out_.u(rng_.below(10));
    out_.s(")\"");
    end();
  }
  make_subject(bounce ? Subj::kBounce : Subj::kLegit, from.provider);
  begin(ss.pid, m.id, m.idlen);
  out_.s(bounce ? "<= <>" : "<= ");
  if (!bounce) out_.s(m.sender);
  out_.c(' ');
  write_hostinfo(ss);
  if (mix64(ss.aux) % 10 == 0) out_.s(" P=esmtp");
  else out_.s(" P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
  write_arrival_tail(m, subj_raw_);
  end();
  if (bounce) ++truth_.received_bounces;
  after_ms(5, 400, kDeliver, mi);
  if (ss.left) after_ms(100, 1500, kSession, si);
  else after_ms(10, 300, kSession, si);
}

void Sim::session_backscatter(uint32_t si) {
  Session& ss = sessions_[si];
  if (ss.left == 0) {
    close_session(si, true);
    return;
  }
  --ss.left;
  const RemoteDomain& from = w_.remote[w_.inbound_mta_domain[ss.aux]];
  uint32_t mi = new_msg(Origin::kXBackscatter, ss.pid);
  Msg& m = msgs_[mi];
  add_local_rcpt(m, w_.box_backscatter);
  make_hdr_id(m, from.provider, from.name);
  m.size = 3000 + rng_.below(9000);
  make_subject(Subj::kBounce, from.provider);
  begin(ss.pid, m.id, m.idlen);
  out_.s("<= <> ");
  write_hostinfo(ss);
  out_.s(" P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
  write_arrival_tail(m, subj_raw_);
  end();
  ++truth_.received_bounces;
  ++truth_.backscatter.bounces;
  truth_.backscatter.w.see(epoch());
  after_ms(5, 400, kDeliver, mi);
  after_ms(10, 300, kSession, si);
}

void Sim::session_reject(uint32_t si) {
  Session& ss = sessions_[si];
  maybe_no_host_name(ss);
  scratch_.clear();  // the envelope sender the bot claims
  uint32_t kind = rng_.below(20);
  if (kind < 17) append_remote_person(scratch_, rng_, w_, pick_remote_domain(rng_, w_));
  else {
    append_token(scratch_, rng_, 8);
    scratch_ += '@';
    append_token(scratch_, rng_, 10);
    scratch_ += ".top";
  }
  uint32_t reason = rng_.below(100);
  uint32_t n = 1 + rng_.skewed(3, 2.0);
  if (reason >= 85) {  // sender verification happens once, before the RCPT rejections
    begin(ss.pid);
    write_hostinfo(ss);
    out_.s(" sender verify fail for <");
    out_.s(scratch_);
    out_.s(">: Unrouteable address");
    end();
  }
  for (uint32_t k = 0; k < n; ++k) {
    begin(ss.pid);
    write_hostinfo(ss);
    out_.s(" F=<");
    out_.s(scratch_);
    out_.s("> rejected RCPT <");
    if (reason < 40) {  // RBL
      uint32_t d = rng_.below(uint32_t(w_.domains.size()));
      const Domain& dom = w_.domains[d];
      const Mailbox& b = w_.boxes[dom.first_box + rng_.below(dom.n_boxes)];
      out_.s(b.local);
      out_.c('@');
      out_.s(dom.name);
      out_.s(">: JunkMail rejected - ");
      write_fullhost(ss);
      out_.s(" is in an RBL: ");
      uint32_t which = rng_.below(3);
      out_.s(kRblTexts[which]);
      out_.s(ss.cl->ip);
    } else if (reason < 65) {  // guessed local part
      uint32_t d = w_.domain_rank[rng_.skewed(uint32_t(w_.domains.size()), 1.5)];
      tmp_.clear();
      if (rng_.chance(0.5)) tmp_ = rng_.pick(kBruteIds);
      else append_token(tmp_, rng_, 5 + int(rng_.below(5)));
      out_.s(tmp_);
      out_.c('@');
      out_.s(w_.domains[d].name);
      out_.s(mix64(d) % 10 < 3 ? ">: No Such User Here" : ">: Unknown user");
    } else if (reason < 85) {  // relay attempt
      tmp_.clear();
      append_remote_person(tmp_, rng_, w_, pick_remote_domain(rng_, w_));
      out_.s(tmp_);
      out_.s(">: relay not permitted");
    } else {
      uint32_t d = rng_.below(uint32_t(w_.domains.size()));
      const Domain& dom = w_.domains[d];
      out_.s(w_.boxes[dom.first_box].local);
      out_.c('@');
      out_.s(dom.name);
      out_.s(">: Sender verify failed");
    }
    end();
    ++truth_.rejected_rcpt;
  }
  close_session(si, rng_.chance(0.6));
}

void Sim::session_noise(uint32_t si) {
  Session& ss = sessions_[si];
  maybe_no_host_name(ss);
  uint32_t kind = rng_.below(100);
  if (kind < 45) {  // the background hum of password guessing
    uint32_t n = 1 + rng_.skewed(6, 1.5);
    for (uint32_t k = 0; k < n; ++k) {
      scratch_.clear();
      if (rng_.chance(0.5)) {
        scratch_ = w_.address(w_.auth_boxes[rng_.below(uint32_t(w_.auth_boxes.size()))]);
      } else {
        scratch_ = rng_.pick(kBruteIds);
        if (rng_.chance(0.5)) {
          scratch_ += '@';
          scratch_ += w_.domains[rng_.below(uint32_t(w_.domains.size()))].name;
        }
      }
      write_auth_failure(ss, scratch_);
    }
    close_session(si, rng_.chance(0.5));
    return;
  }
  if (kind >= 90) {  // EHLO, QUIT: a scanner
    close_session(si, true);
    return;
  }
  begin(ss.pid);
  if (kind < 60) {
    out_.s("TLS error on connection from ");
    write_fullhost(ss);
    out_.s(" (SSL_accept): error:0A000126:SSL routines::unexpected eof while reading");
  } else if (kind < 70) {
    out_.s("SMTP command timeout on connection from ");
    write_fullhost(ss);
  } else if (kind < 80) {
    out_.s(
        "SMTP protocol synchronization error (input sent without waiting for greeting): "
        "rejected connection from H=[");
    out_.s(ss.cl->ip);
    out_.s("]:");
    out_.u(ss.port);
    out_.s(" input=\"GET / HTTP/1.1\\r\\nHost: 185.199.220.17:25\\r\\nUser-Agent: Mozilla/5.0 zgrab/0.x\\r\\n\\r\\n\"");
  } else {
    out_.s("unexpected disconnection while reading SMTP command from ");
    write_fullhost(ss);
    write_close_duration(ss);
  }
  end();
  --active_conns_;
  free_sessions_.push_back(si);
}

// SMTP-AUTH submissions from users' devices, and webmail over localhost.
void Sim::session_auth(uint32_t si) {
  Session& ss = sessions_[si];
  const bool webmail = ss.kind == SessKind::kWebmail;
  const uint32_t box = ss.aux;
  const Mailbox& b = w_.boxes[box];
  const Domain& dom = w_.domains[b.domain];
  const User& owner = w_.users[dom.owner];
  if (ss.step == 0) {
    ss.step = 1;
    if (webmail) {
      write_local_identification(ss, owner);
    } else if (rng_.chance(0.03)) {  // a mistyped password first
      write_auth_failure(ss, w_.address(box));
    }
  }
  if (ss.left == 0) {
    close_session(si, true);
    return;
  }
  --ss.left;
  uint32_t mi = new_msg(webmail ? Origin::kWebmail : Origin::kAuth, ss.pid);
  Msg& m = msgs_[mi];
  m.sender = w_.address(box);
  m.user = dom.owner;
  m.domain = b.domain;
  m.sender_local = true;
  m.sender_dest = Dest::kBox;
  m.sender_box = box;
  uint32_t n = 1 + rng_.skewed(4, 2.5);
  for (uint32_t k = 0; k < n; ++k) {
    if (rng_.chance(0.65)) {
      add_remote_person(m, false);
    } else {
      const Domain& d2 = w_.domains[w_.domain_rank[rng_.skewed(uint32_t(w_.domains.size()), 1.6)]];
      add_local_rcpt(m, d2.first_box + rng_.below(d2.n_boxes));
    }
  }
  make_hdr_id(m, Provider::kGeneric, dom.name);
  m.size = 1200 + uint32_t(rng_.expo(30000));
  make_subject(Subj::kLegit);
  begin(ss.pid, m.id, m.idlen);
  out_.s("<= ");
  out_.s(m.sender);
  out_.c(' ');
  write_hostinfo(ss);
  if (webmail) out_.s(" P=esmtpa");
  else if (mix64(box) % 8 == 0) out_.s(" P=esmtpsa X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no");
  else out_.s(" P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
  out_.s(mix64(box) % 5 == 0 ? " A=dovecot_plain:" : " A=dovecot_login:");
  out_.s(m.sender);
  write_arrival_tail(m, subj_raw_);
  end();
  after_ms(5, 400, kDeliver, mi);
  after_ms(ss.left ? 300 : 10, ss.left ? 5000 : 300, kSession, si);
}

void Sim::session_xbrute(uint32_t si) {
  Session& ss = sessions_[si];
  if (ss.step == 0) {
    ss.step = 1;
    if (!seen_brute_ip_[ss.aux]) {
      seen_brute_ip_[ss.aux] = 1;
      ++truth_.account.brute_ips;
    }
  }
  if (ss.left == 0) {
    close_session(si, false);
    return;
  }
  --ss.left;
  write_auth_failure(ss, w_.address(w_.box_compromised));
  ++truth_.account.failed_logins;
  truth_.account.brute.see(epoch());
  after_ms(1500, 7000, kSession, si);
}

void Sim::session_xaccount(uint32_t si) {
  Session& ss = sessions_[si];
  if (ss.step == 0) {
    ss.step = 1;
    if (ss.aux != UINT32_MAX && !seen_account_ip_[ss.aux]) {
      seen_account_ip_[ss.aux] = 1;
      ++truth_.account.ips;
    } else if (ss.aux == UINT32_MAX) {
      ++truth_.account.ips;  // the guessing host that got in first
    }
  }
  if (ss.left == 0) {
    close_session(si, true);
    return;
  }
  --ss.left;
  const uint32_t box = w_.box_compromised;
  const Mailbox& b = w_.boxes[box];
  uint32_t mi = new_msg(Origin::kXAccount, ss.pid);
  Msg& m = msgs_[mi];
  m.sender = w_.address(box);
  m.user = w_.u_compromised;
  m.domain = b.domain;
  m.sender_local = true;
  m.sender_dest = Dest::kBox;
  m.sender_box = box;
  uint32_t n = 10 + rng_.below(31);
  for (uint32_t k = 0; k < n; ++k) add_remote_person(m, true);
  make_hdr_id(m, Provider::kExim, w_.domains[b.domain].name);
  m.size = 4000 + rng_.below(12000);
  make_subject(Subj::kSpam);
  begin(ss.pid, m.id, m.idlen);
  out_.s("<= ");
  out_.s(m.sender);
  out_.c(' ');
  write_hostinfo(ss);
  out_.s(mix64(ss.pid) % 10 < 7 ? " P=esmtpa A=dovecot_login:"
                                : " P=esmtpsa X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no A=dovecot_login:");
  out_.s(m.sender);
  write_arrival_tail(m, subj_raw_);
  end();
  ++truth_.account.messages;
  truth_.account.rcpts += n;
  truth_.account.sending.see(epoch());
  after_ms(5, 400, kDeliver, mi);
  after_ms(400, 4000, kSession, si);
}

void Sim::session_xdict(uint32_t si) {
  Session& ss = sessions_[si];
  if (ss.step == 0) {
    ss.step = 1;
    ++truth_.dict.sessions;
    scratch_.clear();
    append_remote_person(scratch_, rng_, w_, pick_remote_domain(rng_, w_));
  }
  if (ss.left == 0) {
    close_session(si, true);
    return;
  }
  --ss.left;
  // Guesses at the local parts of a couple of dozen domains.
  uint32_t d = uint32_t(mix64(rng_.below(24) + 7777) % w_.domains.size());
  begin(ss.pid);
  write_hostinfo(ss);
  out_.s(" F=<");
  out_.s(scratch_);
  out_.s("> rejected RCPT <");
  static const char* const kGuess[] = {"a",    "ab",   "abc",     "admin", "alex",   "anna", "bob",  "info1",
                                       "mail", "mike", "office1", "root",  "sales1", "sam",  "test1"};
  out_.s(rng_.pick(kGuess));
  write_rand(1 + int(rng_.below(3)), "abcdefghijklmnopqrstuvwxyz012345", 5);
  out_.c('@');
  out_.s(w_.domains[d].name);
  out_.s(">: Unknown user");
  end();
  ++truth_.rejected_rcpt;
  ++truth_.dict.rejected;
  truth_.dict.w.see(epoch());
  after_ms(200, 1500, kSession, si);
}

// cPanel's line for a connection from webmail or a local process on 127.0.0.1.
void Sim::write_local_identification(const Session& ss, const User& u) {
  begin(ss.pid);
  out_.s("SMTP connection identification H=localhost A=127.0.0.1 P=");
  out_.u(ss.port);
  out_.s(" U=");
  out_.s(u.name);
  out_.s(" ID=");
  out_.u(u.uid);
  out_.s(" S=");
  out_.s(u.name);
  out_.s(" B=identify_local_connection");
  end();
}

void Sim::session_xrandsend(uint32_t si) {
  Session& ss = sessions_[si];
  const User& u = w_.users[w_.u_randsend];
  const std::string& dom = w_.domains[u.main_domain].name;
  if (ss.step == 0) {
    ss.step = 1;
    write_local_identification(ss, u);
  }
  if (ss.left == 0) {
    close_session(si, true);
    return;
  }
  --ss.left;
  uint32_t mi = new_msg(Origin::kXRandSend, ss.pid);
  Msg& m = msgs_[mi];
  append_token(m.sender, rng_, 6 + int(rng_.below(5)));
  m.sender += '@';
  m.sender += dom;
  m.user = w_.u_randsend;
  m.domain = u.main_domain;
  m.sender_local = true;
  m.sender_dest = Dest::kBlackhole;
  uint32_t n = 1 + rng_.below(3);
  for (uint32_t k = 0; k < n; ++k) add_remote_person(m, true);
  make_hdr_id(m, Provider::kExim, dom);
  m.size = 2500 + rng_.below(6000);
  make_subject(Subj::kSpam);
  begin(ss.pid, m.id, m.idlen);
  out_.s("<= ");
  out_.s(m.sender);
  out_.c(' ');
  write_hostinfo(ss);
  out_.s(" P=esmtp");
  write_arrival_tail(m, subj_raw_);
  end();
  ++truth_.randsend.messages;
  ++truth_.randsend.senders;  // a fresh random local part each time
  truth_.randsend.w.see(epoch());
  after_ms(5, 300, kDeliver, mi);
  after_ms(80, 900, kSession, si);
}

// ---------------------------------------------------------------- local submissions

void Sim::start_php(uint32_t script, Origin origin) {
  const Script& sc = w_.scripts[script];
  const User& u = w_.users[sc.user];
  uint32_t pid = fork_pid();
  begin(pid);
  out_.s("cwd=");
  out_.s(sc.cwd);
  out_.c(' ');
  out_.s(sc.args);
  end();
  ++truth_.cwd_lines;
  uint32_t mi = new_msg(origin, pid);
  Msg& m = msgs_[mi];
  m.dpid = pid;
  m.sender = sc.sender;
  m.user = sc.user;
  m.domain = u.main_domain;
  m.sender_local = true;
  if (script == w_.script_shop) {
    m.sender_dest = Dest::kBox;
    m.sender_box = w_.box_shop_archive;
  } else if (sc.sender.find(kHostname) != std::string::npos) {
    m.sender_dest = Dest::kHostUser;
    m.sender_box = sc.user;
  } else {
    m.sender_dest = Dest::kBlackhole;
  }
  const Domain& site = w_.domains[u.main_domain];
  switch (origin) {
    case Origin::kXScript: {
      uint32_t n = 1 + rng_.below(4);
      for (uint32_t k = 0; k < n; ++k) add_remote_person(m, true);
      m.size = 3000 + rng_.below(5000);
      break;
    }
    case Origin::kXShop:
      add_remote_person(m, false);
      add_local_rcpt(m, w_.box_shop_archive);
      m.size = 9000 + rng_.below(30000);
      break;
    default:
      if (rng_.chance(0.5)) add_local_rcpt(m, site.first_box + rng_.below(site.n_boxes));
      else add_remote_person(m, false);
      m.size = 1500 + rng_.below(6000);
      break;
  }
  make_hdr_id(m, Provider::kExim, site.name);
  after_ms(3, 120, kPhpReceive, mi);
}

void Sim::on_php_receive(uint32_t mi) {
  Msg& m = msgs_[mi];
  make_subject(m.origin == Origin::kXScript ? Subj::kSpam : m.origin == Origin::kXShop ? Subj::kShop : Subj::kPhp);
  begin(m.dpid, m.id, m.idlen);
  out_.s("<= ");
  out_.s(m.sender);
  out_.s(" U=");
  out_.s(w_.users[m.user].name);
  out_.s(" P=local");
  write_arrival_tail(m, subj_raw_);
  end();
  Truth::Script* t = m.origin == Origin::kXScript ? &truth_.script
                     : m.origin == Origin::kXShop ? &truth_.shop
                                                  : nullptr;
  if (t) {
    ++t->messages;
    t->rcpts += m.nr;
    t->w.see(epoch());
  }
  after_ms(5, 300, kDeliver, mi);
}

// A cron job's output, mailed to the account owner; -odi delivers in the same process.
void Sim::start_cron() {
  uint32_t ui = w_.user_rank[rng_.skewed(uint32_t(w_.users.size()), 1.5)];
  const User& u = w_.users[ui];
  uint32_t pid = fork_pid();
  begin(pid);
  out_.s("cwd=/home/");
  out_.s(u.name);
  out_.s(" 9 args: /usr/sbin/sendmail -FCronDaemon -i -odi -oem -oi -t -f ");
  out_.s(u.name);
  end();
  ++truth_.cwd_lines;
  uint32_t mi = new_msg(Origin::kCron, pid);
  Msg& m = msgs_[mi];
  m.dpid = pid;
  m.sender = u.name + "@" + kHostname;
  Rcpt& r = push_rcpt(m);
  r.addr = m.sender;
  r.dest = Dest::kHostUser;
  r.box = ui;
  m.size = 900 + rng_.below(4000);
  subj_raw_ = "Cron <" + u.name + "@cpanel01> /usr/local/bin/php /home/" + u.name + "/public_html/cron.php";
  begin(pid, m.id, m.idlen);
  out_.s("<= ");
  out_.s(m.sender);
  out_.s(" U=");
  out_.s(u.name);
  out_.s(" P=local");
  write_arrival_tail(m, subj_raw_);
  end();
  deliver_local(m, r, pid);
  finish(mi);
}

void Sim::on_upgrade() {
  new_exim_ = true;
  daemon_pid_ = fork_pid();
  truth_.upgrade_epoch = epoch();
  begin(daemon_pid_);
  out_.s("exim 4.97.1 daemon started: pid=");
  out_.u(daemon_pid_);
  out_.s(
      ", -q1h, listening for SMTP on port 25 (IPv6 and IPv4) port 587 (IPv6 and IPv4) "
      "and for SMTPS on port 465 (IPv6 and IPv4)");
  end();
}

}  // namespace sw::bench::gen

#include "daemon/spamd_session.h"

#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include "eximlog/log_line.h"

namespace sw::daemon {
namespace {

namespace spamd = proto::spamd;
using State = spamd::RequestParser::State;

class SpamdSession : public Session {
 public:
  SpamdSession(std::shared_ptr<const SpamdEngine> engine, std::shared_ptr<const SpamdOptions> options, std::string peer,
               PeerUid uid, std::shared_ptr<ThinnedLog> refused)
      : engine_(std::move(engine)), options_holder_(std::move(options)), options_(*options_holder_),
        peer_(std::move(peer)), peer_uid_(std::move(uid)), refused_(std::move(refused)), parser_(options_.limits) {}

  bool on_input(std::string_view in, std::string* out) override {
    if (answered_) return false;
    return !settle(parser_.feed(in), out);
  }

  void on_end_of_input(std::string* out) override {
    if (!answered_) settle(parser_.finish(), out);
  }

 private:
  // Answers once the request is complete or bad; true when the connection is done.
  bool settle(State state, std::string* out) {
    if (state == State::kNeedMore) return false;
    answered_ = true;
    if (state == State::kError) {
      if (uint64_t so_far = 0; refused_->next(&so_far))
        log(fmt::format("refused request: {} ({} refusals so far)", parser_.error(), so_far));
      *out += spamd::encode_error(parser_.request().dialect, parser_.error_code());
      return true;
    }
    try {
      answer(parser_.request(), out);
    } catch (const std::exception& e) {
      log(fmt::format("scanner failed: {}", e.what()));
      *out += spamd::encode_error(parser_.request().dialect, spamd::ExitCode::kSoftware);
    }
    return true;
  }

  void answer(const spamd::Request& request, std::string* out) {
    switch (request.command) {
      case spamd::Command::kPing: *out += spamd::encode_ping_reply(); return;
      case spamd::Command::kSkip: return;
      case spamd::Command::kTell: tell(request, out); return;
      default: break;
    }
    if (request.command == spamd::Command::kProcess && request.truncated()) {
      // The rewritten message would lose its tail: spamc passes the original through instead.
      log(fmt::format("PROCESS of a {} byte message refused: over the scan limit", request.message_bytes));
      *out += spamd::encode_error(request.dialect, spamd::ExitCode::kDataErr);
      return;
    }
    classify::Verdict verdict = engine_->scan(request.message);
    if (engine_->hold && verdict.score >= options_.hold_score) {
      // The User header is the client's word: only Exim (root, its own user) names an actor
      // to hold, or any local user could hold any account.
      auto actor = actor_of_request(request);
      if (actor && peer_allowed(options_.hold_uids, "hold of " + detect::format_actor_ref(*actor),
                                "is not Exim's and may not hold an actor", "spamd_hold_users")) {
        log(fmt::format("holding {}: content score {:.1f}", detect::format_actor_ref(*actor), verdict.score));
        engine_->hold(*actor, verdict);
      }
    }
    *out += spamd::encode_scan_reply(request, to_scan_result(verdict, options_.report_reasons), options_.reply);
  }

  void tell(const spamd::Request& request, std::string* out) {
    if (!engine_->learn) {
      *out += spamd::encode_error(request.dialect, spamd::ExitCode::kUnavailable);
      return;
    }
    if (!peer_allowed(options_.tell_uids, "TELL", "may not teach the content model", "spamd_tell_users")) {
      *out += spamd::encode_error(request.dialect, spamd::ExitCode::kNoPerm);
      return;
    }
    // A TELL that could not be applied (a fleet's journal out of reach) is an error spamc exits
    // with (75, try again), not "already learned": scripts that feed a junk folder to spamc -L
    // take exit 0 as done.
    // A message learned before as the same class is answered without DidSet, as spamd does:
    // spamc says "already learned" and exits 0. The model knows what a message was learned as,
    // so a Remove (spamc -L forget sends no Message-class) needs no class. spamc -C revoke sends
    // Set: local with Remove: remote (learn as ham here, withdraw the report elsewhere): there
    // is one database, so a Remove: remote next to a Set is not a forget of what was just set.
    classify::Taught set = classify::Taught::NotLearned, removed = classify::Taught::NotLearned;
    bool sets = request.set_local || request.set_remote;
    if (sets) set = engine_->learn(request.message, request.message_class == "spam");
    bool removes = request.remove_local || (request.remove_remote && !sets);
    if (set != classify::Taught::Failed && removes && engine_->forget) removed = engine_->forget(request.message);
    // What serve could not save it does not teach at all (EX_IOERR): spamc and learn say so,
    // rather than report mail learned that a restart would lose.
    if (set == classify::Taught::Unsaved || removed == classify::Taught::Unsaved) {
      *out += spamd::encode_error(request.dialect, spamd::ExitCode::kIoErr);
      return;
    }
    if (set == classify::Taught::Failed || removed == classify::Taught::Failed) {
      log(fmt::format("TELL: the message could not be {} (answered EX_TEMPFAIL)",
                      set == classify::Taught::Failed ? "learned" : "forgotten"));
      *out += spamd::encode_error(request.dialect, spamd::ExitCode::kTempFail);
      return;
    }
    *out += spamd::encode_tell_reply(request, classify::changed(set), classify::changed(removed));
  }

  // Whoever may connect (the socket is open to every local user, for Exim and spamc) may scan,
  // but teaching changes every later verdict and a hold stops an account's mail: only the
  // configured users may (nullopt: anyone). Else logs why: "<what> refused: uid N <may_not>".
  bool peer_allowed(const std::optional<std::vector<uint32_t>>& allowed, std::string_view what,
                    std::string_view may_not, std::string_view setting) {
    if (!allowed) return true;
    std::optional<uint32_t> uid = peer_uid_ ? peer_uid_() : std::nullopt;
    if (uid && std::find(allowed->begin(), allowed->end(), *uid) != allowed->end()) return true;
    if (uint64_t so_far = 0; refused_->next(&so_far))  // anyone can ask again and again
      log(uid ? fmt::format("{} refused: uid {} {} ([serve] {}; {} refusals so far)", what, *uid, may_not, setting,
                            so_far)
              : fmt::format("{} refused: the peer's user cannot be known ([serve] {}; {} refusals so far)", what,
                            setting, so_far));
    return false;
  }

  void log(std::string_view what) {
    if (engine_->log) engine_->log(fmt::format("spamd {}: {}", peer_, what));
  }

  std::shared_ptr<const SpamdEngine> engine_;
  std::shared_ptr<const SpamdOptions> options_holder_;
  const SpamdOptions& options_;
  std::string peer_;
  PeerUid peer_uid_;
  std::shared_ptr<ThinnedLog> refused_;  // the factory's: bad requests and refused TELLs and holds
  spamd::RequestParser parser_;
  bool answered_ = false;
};

}  // namespace

std::optional<detect::ActorRef> actor_of_spamd_user(std::string_view user) {
  size_t equals = user.find('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == user.size()) return std::nullopt;
  // No actor's name holds a control byte: a NUL would make a hold no release could name.
  if (std::any_of(user.begin(), user.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return std::nullopt;
  std::string text(user);
  text[equals] = ':';
  auto actor = detect::parse_actor_ref(text);
  // Exim's own user scans the bounces it makes (acl_not_smtp): no user's spam, and a hold of
  // it would select every message Exim took over SMTP.
  if (actor && actor->type == detect::ActorType::LocalUser && eximlog::is_exim_login(actor->key)) return std::nullopt;
  return actor;
}

std::optional<detect::ActorRef> actor_of_request(const proto::spamd::Request& request) {
  const std::string& user = request.user;
  if (request.dialect == proto::spamd::Dialect::kRspamc)  // whatever the login holds, '=' too
    return user.empty() ? std::nullopt : actor_of_spamd_user((request.ip.empty() ? "user=" : "auth=") + user);
  return actor_of_spamd_user(user);
}

proto::spamd::ScanResult to_scan_result(const classify::Verdict& verdict, size_t reasons) {
  proto::spamd::ScanResult result;
  result.score = verdict.score;
  result.threshold = verdict.threshold;
  result.is_spam = verdict.is_spam;
  for (size_t i = 0; i < verdict.reasons.size() && i < reasons; ++i) {
    result.symbols.push_back({verdict.reasons[i].name, verdict.reasons[i].weight});
  }
  return result;
}

SpamdSessionFactory::SpamdSessionFactory(SpamdEngine engine, SpamdOptions options)
    : engine_(std::make_shared<const SpamdEngine>(std::move(engine))),
      options_(std::make_shared<const SpamdOptions>(std::move(options))) {}

void SpamdSessionFactory::set_peer_uids(std::optional<std::vector<uint32_t>> tell,
                                        std::optional<std::vector<uint32_t>> hold) {
  std::lock_guard lock(mutex_);
  auto changed = std::make_shared<SpamdOptions>(*options_);
  changed->tell_uids = std::move(tell);
  changed->hold_uids = std::move(hold);
  options_ = std::move(changed);
}

std::unique_ptr<Session> SpamdSessionFactory::open_from(std::string_view peer, PeerUid uid) {
  std::shared_ptr<const SpamdOptions> options;
  {
    std::lock_guard lock(mutex_);
    options = options_;
  }
  return std::make_unique<SpamdSession>(engine_, std::move(options), std::string(peer), std::move(uid), refused_);
}

}  // namespace sw::daemon

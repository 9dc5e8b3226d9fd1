#include "daemon/policy_sessions.h"

#include <algorithm>

#include <fmt/format.h>

#include "proto/exim_request.h"
#include "proto/postfix_policy.h"

namespace sw::daemon {

namespace {

// One readsocket request: bytes up to the first newline (or the half-close), one answer, close.
// The usual request arrives in one read and is parsed where it lies; the request and decision
// objects are the factory's (one thread), so a request allocates little beyond its session.
class EximSession : public Session {
 public:
  EximSession(policy::Engine* engine, DecisionLog* log, EximScratch* scratch)
      : engine_(engine), log_(log), scratch_(scratch) {}

  bool on_input(std::string_view in, std::string* out) override {
    size_t nl = in.find('\n');
    if (line_.size() + std::min(nl, in.size()) > proto::kMaxEximRequestBytes) {
      log_->bad_request("exim", "request longer than " + std::to_string(proto::kMaxEximRequestBytes) + " bytes");
      return false;  // no answer: the snippet's fail string applies
    }
    if (nl == std::string_view::npos) {
      line_.append(in);
      return true;
    }
    if (line_.empty()) {
      answer(in.substr(0, nl), out);
    } else {
      line_.append(in.substr(0, nl));
      answer(line_, out);
    }
    return false;
  }
  void on_end_of_input(std::string* out) override {
    if (!answered_ && !line_.empty()) answer(line_, out);
  }

 private:
  void answer(std::string_view line, std::string* out) {
    answered_ = true;
    if (!proto::parse_exim_request(line, &scratch_->request, &scratch_->error)) {
      log_->bad_request("exim", scratch_->error);
      return;
    }
    engine_->decide(scratch_->request, log_->now_ms(), &scratch_->decision);
    proto::append_exim_reply(scratch_->decision, out);
    log_->decision(scratch_->request, scratch_->decision, "exim");
  }
  policy::Engine* engine_;
  DecisionLog* log_;
  EximScratch* scratch_;
  std::string line_;
  bool answered_ = false;
};

class PostfixSession : public Session {
 public:
  PostfixSession(policy::Engine* engine, DecisionLog* log) : engine_(engine), log_(log) {}

  bool on_input(std::string_view in, std::string* out) override {
    while (!in.empty()) {
      std::string error;
      auto status = reader_.feed(&in, &request_, &error);
      if (status == proto::PostfixRequestReader::Status::Error) {
        log_->bad_request("postfix", error);
        return false;  // the protocol's rule: on trouble, disconnect without a reply
      }
      if (status == proto::PostfixRequestReader::Status::NeedMore) break;
      engine_->decide(request_, log_->now_ms(), &decision_);
      proto::append_postfix_reply(decision_, out);
      log_->decision(request_, decision_, "postfix");
    }
    return true;
  }
  void on_end_of_input(std::string*) override {}

 private:
  policy::Engine* engine_;
  DecisionLog* log_;
  proto::PostfixRequestReader reader_;
  proto::Request request_;
  proto::Decision decision_;
};

// A connection from a local user that is not Postfix: closed at its first bytes, unanswered.
class RefusedSession : public Session {
 public:
  bool on_input(std::string_view, std::string*) override { return false; }
  void on_end_of_input(std::string*) override {}
};

}  // namespace

void DecisionLog::decision(const proto::Request& r, const proto::Decision& d, const char* protocol) {
  if (d.action == proto::Action::Dunno || !write) return;
  std::string reason;
  proto::append_reason(d, &reason);
  std::string where;
  if (!r.client_ip.empty()) where += " H=[" + r.client_ip + "]";
  if (!r.auth.empty()) where += " A=" + r.auth;
  if (!r.local_user.empty()) where += " U=" + r.local_user;
  if (!r.sender.empty()) where += " F=<" + r.sender + ">";
  if (!r.recipient.empty()) where += " R=<" + r.recipient + ">";
  if (!r.message_id.empty()) where += " id=" + r.message_id;
  std::string verb = proto::action_name(d.action);
  if (d.action == proto::Action::Delay) verb += " " + std::to_string(d.delay_seconds) + "s";
  write(fmt::format("{} {} at {} ({}){}", verb, reason, proto::stage_name(r.stage), protocol, where));
}

void DecisionLog::bad_request(const char* protocol, const std::string& why) {
  if (++bad_requests > bad_logged && write) {
    write(fmt::format("refused a {} request: {} (connection closed; {} bad requests so far)", protocol, why,
                      bad_requests));
    bad_logged = bad_requests * 2;
  }
}

std::unique_ptr<Session> EximSessionFactory::open(std::string_view) {
  return std::make_unique<EximSession>(engine_, log_, &scratch_);
}

std::unique_ptr<Session> PostfixSessionFactory::open(std::string_view) {
  return std::make_unique<PostfixSession>(engine_, log_);
}

std::unique_ptr<Session> PostfixSessionFactory::open_from(std::string_view peer, PeerUid uid) {
  if (!allowed_uids_) return open(peer);
  std::optional<uint32_t> who = uid ? uid() : std::nullopt;
  if (who && std::find(allowed_uids_->begin(), allowed_uids_->end(), *who) != allowed_uids_->end()) return open(peer);
  log_->bad_request("postfix", who ? fmt::format("uid {} is not Postfix's ([serve] policy_users)", *who)
                                   : std::string("the peer's user cannot be known ([serve] policy_users)"));
  return std::make_unique<RefusedSession>();
}

}  // namespace sw::daemon

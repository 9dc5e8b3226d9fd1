// The protocol adapters of the policy engine: Exim's one-line readsocket request (one request
// per connection, answered on its newline or at the client's half-close) and Postfix's policy
// protocol (persistent connections, any number of requests). Both log one line per
// non-neutral decision and per refused request.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/session.h"
#include "policy/engine.h"

namespace sw::daemon {

struct DecisionLog {
  std::function<void(const std::string&)> write;
  std::function<int64_t()> now_ms;
  uint64_t bad_requests = 0;
  uint64_t bad_logged = 0;  // bad requests are logged 1, 2, 4, 8...: an attacker cannot flood the log
  void decision(const proto::Request& r, const proto::Decision& d, const char* protocol);
  void bad_request(const char* protocol, const std::string& why);
};

struct EximScratch {
  proto::Request request;
  proto::Decision decision;
  std::string error;
};

class EximSessionFactory : public SessionFactory {
 public:
  EximSessionFactory(policy::Engine* engine, DecisionLog* log) : engine_(engine), log_(log) {}
  std::unique_ptr<Session> open(std::string_view peer) override;

 private:
  policy::Engine* engine_;
  DecisionLog* log_;
  EximScratch scratch_;
};

// Postfix's listener is loopback TCP, open to every local user: a request names the account it
// is for, so only Postfix (its smtpd's user, and root) may ask, or a local user could run any
// account into its limits and have it held. nullopt allowed uids: anyone.
class PostfixSessionFactory : public SessionFactory {
 public:
  PostfixSessionFactory(policy::Engine* engine, DecisionLog* log) : engine_(engine), log_(log) {}
  std::unique_ptr<Session> open(std::string_view peer) override;
  std::unique_ptr<Session> open_from(std::string_view peer, PeerUid uid) override;
  void set_allowed_uids(std::optional<std::vector<uint32_t>> uids) { allowed_uids_ = std::move(uids); }

 private:
  policy::Engine* engine_;
  DecisionLog* log_;
  std::optional<std::vector<uint32_t>> allowed_uids_;
};

}  // namespace sw::daemon

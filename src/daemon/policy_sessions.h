// The protocol adapters of the policy engine: Exim's one-line readsocket request (one request
// per connection, answered on its newline or at the client's half-close) and Postfix's policy
// protocol (persistent connections, any number of requests). Both log one line per
// non-neutral decision and per refused request.
#pragma once
#include <functional>
#include <memory>
#include <string>

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

class PostfixSessionFactory : public SessionFactory {
 public:
  PostfixSessionFactory(policy::Engine* engine, DecisionLog* log) : engine_(engine), log_(log) {}
  std::unique_ptr<Session> open(std::string_view peer) override;

 private:
  policy::Engine* engine_;
  DecisionLog* log_;
};

}  // namespace sw::daemon

// The spamd adapter: one connection speaking SPAMC (spamc, Exim's `spam =`) or RSPAMC (Exim's
// `variant=rspamd`), answered by the content scanner. Every reply ends the connection.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "classify/verdict.h"
#include "daemon/session.h"
#include "proto/spamd.h"

namespace sw::daemon {

// What the adapter asks of the content filter; both must be safe to call from several
// connections at once.
struct SpamdEngine {
  std::function<classify::Verdict(std::string_view message)> scan;
  // TELL: learns the message as spam or ham; false when it could not. Empty: TELL is refused.
  std::function<bool(std::string_view message, bool spam)> learn;
  // TELL with Remove (spamc -L forget, when it names the class): undoes one learn(). May be empty.
  std::function<bool(std::string_view message, bool spam)> forget;
  // A line for the daemon's log (a refused request, a scanner failure); may be empty.
  std::function<void(std::string_view line)> log;
};

struct SpamdOptions {
  proto::spamd::Limits limits;
  proto::spamd::ReplyOptions reply;
  size_t report_reasons = 8;  // the strongest reasons $spam_report names
};

// classify::Verdict as the wire carries it, at most `reasons` of its reasons.
proto::spamd::ScanResult to_scan_result(const classify::Verdict& verdict, size_t reasons);

class SpamdSessionFactory : public SessionFactory {
 public:
  SpamdSessionFactory(SpamdEngine engine, SpamdOptions options = {});
  std::unique_ptr<Session> open(std::string_view peer) override;

 private:
  std::shared_ptr<const SpamdEngine> engine_;
  SpamdOptions options_;
};

}  // namespace sw::daemon

// The spamd adapter: one connection speaking SPAMC (spamc, Exim's `spam =`) or RSPAMC (Exim's
// `variant=rspamd`), answered by the content scanner. Every reply ends the connection.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classify/taught.h"
#include "classify/verdict.h"
#include "daemon/session.h"
#include "daemon/thinned_log.h"
#include "detect/actor_type.h"
#include "proto/spamd.h"

namespace sw::daemon {

// What the adapter asks of the content filter; both must be safe to call from several
// connections at once.
struct SpamdEngine {
  std::function<classify::Verdict(std::string_view message)> scan;
  // TELL: learns the message as spam or ham (once per message: classify::Taught). Empty: TELL
  // is refused.
  std::function<classify::Taught(std::string_view message, bool spam)> learn;
  // TELL with Remove (spamc -L forget, which sends no class): undoes its learn. May be empty.
  std::function<classify::Taught(std::string_view message)> forget;
  // Outbound: a request whose User names an actor ("auth=sales@shop.example", "user=userx1",
  // "script=/home/u/public_html/x.php": '=' because Exim's spam condition cuts the user at ':')
  // and whose score reaches SpamdOptions::hold_score holds that actor (the shared hold store).
  std::function<void(const detect::ActorRef& actor, const classify::Verdict& verdict)> hold;
  // A line for the daemon's log (a refused request, a scanner failure); may be empty.
  std::function<void(std::string_view line)> log;
};

struct SpamdOptions {
  proto::spamd::Limits limits;
  proto::spamd::ReplyOptions reply;
  size_t report_reasons = 8;  // the strongest reasons $spam_report names
  double hold_score = 10;     // see SpamdEngine::hold
  // The users whose TELLs teach the model (spamd's --allow-tell, per user): a TELL from anyone
  // else, or from a peer whose user cannot be known, is refused with EX_NOPERM. nullopt: anyone.
  std::optional<std::vector<uint32_t>> tell_uids;
  // The users whose scans may hold the actor their User names (Exim: root and its own user): a
  // request from anyone else is scanned and answered, and holds nothing. nullopt: anyone.
  std::optional<std::vector<uint32_t>> hold_uids;
};

// "auth=sales@shop.example" -> auth:sales@shop.example; nullopt for a plain user ("nobody").
std::optional<detect::ActorRef> actor_of_spamd_user(std::string_view user);

// The actor a request names. Exim's rspamd form sends no `spam =` user: its User header is
// $authenticated_id, an SMTP-AUTH account when the request has the client's IP, and for a local
// submission (no IP) the login that handed the message in, whatever it holds ('=' too). The
// spamd form sends the snippet's "auth=ID" / "user=NAME".
std::optional<detect::ActorRef> actor_of_request(const proto::spamd::Request& request);

// classify::Verdict as the wire carries it, at most `reasons` of its reasons.
proto::spamd::ScanResult to_scan_result(const classify::Verdict& verdict, size_t reasons);

class SpamdSessionFactory : public SessionFactory {
 public:
  SpamdSessionFactory(SpamdEngine engine, SpamdOptions options = {});
  std::unique_ptr<Session> open(std::string_view peer) override { return open_from(peer, nullptr); }
  std::unique_ptr<Session> open_from(std::string_view peer, PeerUid uid) override;
  // For connections opened from now on (serve's SIGHUP: spamd_tell_users, spamd_hold_users changed).
  void set_peer_uids(std::optional<std::vector<uint32_t>> tell, std::optional<std::vector<uint32_t>> hold);

 private:
  std::shared_ptr<const SpamdEngine> engine_;
  std::mutex mutex_;
  std::shared_ptr<const SpamdOptions> options_;  // swapped whole; a session keeps the one it began with
  std::shared_ptr<ThinnedLog> refused_ = std::make_shared<ThinnedLog>();  // bad requests: logged thinned
};

}  // namespace sw::daemon

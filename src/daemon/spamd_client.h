// A client of spamd's TELL, as `spamc -L` is: what `spamwarden learn` sends to the running serve
// that owns the model, and the feedback of queue and release actions (action_feedback.h).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "base/file_lock.h"
#include "proto/spamd.h"

namespace sw::daemon {

enum class TellAs { kSpam, kHam, kForget };

// The serve that owns the content model in `state_dir` now (it holds the model's lock,
// classify::Scanner::kLockFileName), and where its spamd listener is; nullopt when none runs.
struct RunningServe {
  std::string pid, address;
};
std::optional<RunningServe> running_serve(const std::string& state_dir);
// What serve writes into the model's lock ("spamd ADDRESS"), and the address read back from a
// holder's note (nullopt: not a serve's).
std::string serve_lock_note(const std::string& spamd_address);
std::optional<std::string> serve_spamd_address(const FileLock::Holder& holder);

// Where the CLI sends its TELLs: `configured` ([content] spamd) when set, else the running
// serve's listener, else the default socket.
inline constexpr const char* kDefaultSpamdSocket = "/run/spamwarden/spamd.sock";
std::string feedback_spamd_address(const std::string& configured, const std::string& state_dir);

// One TELL to the spamd listener at `address` ("/path.sock" or "127.0.0.1:783"), within
// timeout_ms: whether the model changed, or kRefused with *error (cannot connect: *error starts
// "cannot connect"; an error reply; no whole reply in time).
proto::spamd::TellReply tell_spamd(const std::string& address, std::string_view message, TellAs as, int timeout_ms,
                                   std::string* error);

}  // namespace sw::daemon

// The spamd wire protocol as SpamAssassin's spamc and Exim's `spam =` speak it (SPAMC/1.2-1.5),
// and rspamd's legacy RSPAMC/1.3 dialect that Exim uses with `spamd_address = ... variant=rspamd`.
// Pure: bytes in, a parsed request or a reply text out; no sockets, no clocks.
//
// A request is one command line, headers, an empty line and (for most commands) the message:
// exactly Content-length bytes, or everything up to the client's half-close when the header is
// missing. Exim half-closes after a SPAMC request but not after an RSPAMC one, so a request is
// complete as soon as Content-length bytes arrived. Every reply ends the connection: Exim reads
// until EOF.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sw::proto::spamd {

enum class Dialect { kSpamc, kRspamc };
enum class Command { kCheck, kSymbols, kReport, kReportIfSpam, kProcess, kHeaders, kPing, kSkip, kTell };

// sysexits codes spamd answers with; Exim treats anything but EX_OK as a scanner failure
// (and `spam = user/defer_ok` then accepts the message).
enum class ExitCode : int {
  kOk = 0,
  kUsage = 64,
  kDataErr = 65,
  kNoInput = 66,
  kUnavailable = 69,
  kSoftware = 70,
  kIoErr = 74,
  kTempFail = 75,
  kProtocol = 76,
  kNoPerm = 77,
};

// A scanner's answer as the protocol carries it (src/proto comes before src/classify, so the
// session converts classify::Verdict into this).
struct Symbol {
  std::string name;
  double weight = 0;  // positive is spammy
};
struct ScanResult {
  double score = 0;
  double threshold = 5;
  bool is_spam = false;
  std::vector<Symbol> symbols;  // strongest first
};

struct Limits {
  size_t max_header_line = 8 * 1024;      // a longer command or header line is refused
  size_t max_header_lines = 2'000;        // other than Rcpt: lines
  size_t max_recipient_lines = 100'000;   // RSPAMC sends one Rcpt: line per recipient (Exim's recipients_max: 50,000)
  size_t scan_bytes = 512 * 1024;         // the message prefix kept for scanning (spamc's default cap)
  size_t max_message = 64 * 1024 * 1024;  // larger messages are refused (read and dropped up to it)
};

struct Request {
  Dialect dialect = Dialect::kSpamc;
  Command command = Command::kCheck;
  int version_major = 1;
  int version_minor = 0;
  std::string user;
  bool has_content_length = false;
  uint64_t content_length = 0;
  // TELL: Message-class spam|ham and the databases to set or remove it from.
  std::string message_class;
  bool set_local = false, set_remote = false, remove_local = false, remove_remote = false;
  // RSPAMC envelope (informational).
  std::string queue_id, from, ip, helo;
  size_t recipients = 0;
  std::string message;         // at most Limits::scan_bytes of it
  uint64_t message_bytes = 0;  // all bytes received, kept or not
  bool truncated() const { return message_bytes > message.size(); }
  bool at_least(int major, int minor) const {
    return version_major > major || (version_major == major && version_minor >= minor);
  }
};

// Incremental parser for one connection's request.
class RequestParser {
 public:
  enum class State { kNeedMore, kComplete, kError };
  explicit RequestParser(Limits limits = {}) : limits_(limits) {}

  // Consumes bytes; bytes after a complete request are ignored.
  State feed(std::string_view bytes);
  // The client half-closed: a request without Content-length ends here; anything else that is
  // still incomplete is an error (a truncated request).
  State finish();

  State state() const { return state_; }
  const Request& request() const { return request_; }
  Request& request() { return request_; }
  // When state() is kError: the code to answer with and a line for the log.
  ExitCode error_code() const { return error_code_; }
  const std::string& error() const { return error_; }

 private:
  enum class Phase { kCommandLine, kHeaders, kBody, kDone };
  State fail(ExitCode code, std::string message);
  State take_line(std::string_view line);
  State parse_command_line(std::string_view line);
  State parse_header(std::string_view line);
  State end_of_headers();
  State take_body(std::string_view bytes);
  State complete();

  Limits limits_;
  Phase phase_ = Phase::kCommandLine;
  State state_ = State::kNeedMore;
  std::string line_;
  size_t header_lines_ = 0, recipient_lines_ = 0;
  Request request_;
  ExitCode error_code_ = ExitCode::kOk;
  std::string error_;
};

// What the report and the rspamd Action line say besides the verdict.
struct ReplyOptions {
  double reject_score = 15;  // rspamd's third Metric number: Action "reject" from here on
  std::string host_name = "localhost";
};

// The reply to a CHECK/SYMBOLS/REPORT/REPORT_IFSPAM/PROCESS/HEADERS request, in the request's
// dialect and protocol version (what SpamAssassin's spamd and rspamd send: for SPAMC/1.2 the
// `Spam: True ; 7.3 / 5.0` form Exim parses).
std::string encode_scan_reply(const Request& request, const ScanResult& result, const ReplyOptions& options = {});
// The older reply form Exim also accepts: `Content-length: n`, blank line, `score/threshold`.
std::string encode_score_line_reply(const ScanResult& result, const ReplyOptions& options = {});
std::string encode_ping_reply();
// TELL: what was set and removed ("DidSet: local").
std::string encode_tell_reply(const Request& request, bool did_set, bool did_remove);
// The request spamc -L spam|ham sends (TELL SPAMC/1.5, Set: local), and spamc -L forget's
// (Remove: local, no class).
std::string encode_tell_request(std::string_view message, bool spam);
std::string encode_forget_request(std::string_view message);
// A reply to either: the model changed (EX_OK with DidSet or DidRemove), it had the message
// already as that, or had never learned it, for a forget (EX_OK without them: spamd's "already
// un/learned"), or refused (an error code, or no whole reply).
// kNotAllowed: the server teaches only some users (EX_NOPERM); kRefused: any other failure.
// kUnsaved: the daemon cannot save the model (EX_IOERR), so it learned nothing.
enum class TellReply { kChanged, kUnchanged, kRefused, kNotAllowed, kUnsaved };
TellReply read_tell_reply(std::string_view reply);

// A failure: only the status line, as spamd sends it.
std::string encode_error(Dialect dialect, ExitCode code);

// spamd's score format: one decimal, as Exim's $spam_score shows it.
std::string format_score(double score);
// A reason's name made safe for a header continuation and the comma-separated SYMBOLS list:
// printable ASCII only, no spaces, commas or parentheses, at most 60 characters.
std::string symbol_name(std::string_view name);
// The human-readable report: the strongest reasons, one per line, SpamAssassin's table layout.
std::string render_report(const ScanResult& result, const ReplyOptions& options);

}  // namespace sw::proto::spamd

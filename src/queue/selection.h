// Which queued messages an admin means: the conditions shared by list, freeze, thaw and remove.
// Conditions combine with AND. A message whose -H cannot be parsed never matches a condition;
// it is selected only when its id is named explicitly (then the admin takes responsibility).
// A message on which a --subject/--header regex hit its match limit is not selected either:
// it is counted as not checked, so that no action ever rests on an unknown answer.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/regex.h"
#include "base/ip_cidr.h"
#include "queue/message_facts.h"
#include "queue/script_directory.h"
#include "spool/spool_header.h"
#include "spool/spool_location.h"
#include "spool/message_reader.h"

namespace sw::queue {

// What the command line gives us, as typed (kept for the manifest and audit log).
struct SelectionArgs {
  std::string auth_id, sender, sender_domain, login, client_ip, helo, recipient, subject, script;
  std::vector<std::string> headers;  // "Name: REGEX"
  std::optional<int64_t> uid;
  size_t min_recipients = 0;
  bool frozen = false, bounce = false;
  std::string older_than, younger_than;  // durations: "2h", "3d"
  std::vector<std::string> ids;
};

struct Selection {
  SelectionArgs args;
  std::optional<CidrRange> client_range;
  std::optional<int64_t> older_than, younger_than;
  std::optional<Regex> subject;
  std::vector<std::pair<std::string, Regex>> headers;
  std::set<std::string> ids;
  // --script naming a directory (as the logs report does): read here, matched by file names and
  // owners; script_directory_error says why it could not be, for explain_empty_selection().
  std::optional<ScriptDirectory> script_directory;
  std::string script_directory_error;

  bool has_conditions() const;  // anything besides explicit ids
  bool selects_everything() const { return !has_conditions() && ids.empty(); }
};

// Validates and compiles; nullopt with *error naming the bad argument.
std::optional<Selection> compile_selection(const SelectionArgs& args, std::string* error);

// Regexes are PCRE2 (the dialect of Exim and exiqgrep), case-insensitive, on raw header bytes.
RegexOptions selection_regex_options();

enum class ConditionMatch { no, yes, not_checked };  // not_checked: a regex hit its limit

// Conditions only (explicit ids are checked by the caller, since they also admit unreadable ones).
// not_checked only when every other condition holds and no regex said no.
ConditionMatch matches_conditions(const Selection& selection, const spool::SpoolHeader& header,
                                  const MessageFacts& facts);

// For a report's next step: the --script value that selects the script header `fragment`
// (script_matches takes it as it is unless it holds a wildcard, then as a literal glob), and the
// `spamwarden queue list` command line for some options, each quoted for the shell. Other
// keys are made exact with glob_literal().
std::string script_fragment_pattern(std::string_view fragment);
std::string queue_list_command(const std::vector<std::string>& options);
// Exim's own cleanup of the bounces queued to one address (backscatter), for the reports of
// `logs` and `queue` alike: exiqgrep -i -f '^<>$' -r '^ADDRESS$' | xargs -r exim -Mrm, the
// address a regex that matches it alone (-r: exim is not run when nothing is selected).
std::string bounce_cleanup_command(std::string_view address);

// Why a selection that matched nothing may have missed what was meant, or "" when nothing
// suggests it did: --script with a directory path, which the spool does not record.
std::string explain_empty_selection(const Selection& selection);

// Human one-liner of the selection, e.g. "auth-id=alice@x frozen older-than=2h".
std::string describe_selection(const SelectionArgs& args);

struct SelectedMessage {
  spool::MessageLocation location;
  bool readable = true;
  std::string problem;  // why unreadable
  std::string sender, auth_id, login, subject;
  std::string script;      // X-PHP-Script / X-PHP-Originating-Script as the summary keys it
  std::string local_user;  // login when a local user ran sendmail (not Exim's own user), as the summary counts it
  size_t recipients = 0;
  int64_t age_seconds = 0;
  int64_t body_size = -1;
  bool frozen = false;
};

struct SelectionResult {
  std::vector<SelectedMessage> messages;  // sorted by id
  std::vector<std::string> missing_ids;   // named but not in the queue
  size_t skipped_unreadable = 0;          // unreadable and not named: never touched
  std::vector<std::string> not_checked;   // a regex hit its match limit on these: never touched; sorted
  std::string spool_error;                // an input directory could not be listed: the result is partial
};

// "N messages not checked: ..." with up to `max_ids` of their ids; empty when there are none.
std::string describe_not_checked(const std::vector<std::string>& ids, size_t max_ids = 20);

// `read` picks the I/O path and whether body sizes are read (SelectedMessage::body_size is -1
// without them).
SelectionResult select_messages(const std::string& spool_dir, const Selection& selection, int64_t now,
                                size_t max_threads = 0, const spool::ReaderOptions& read = {});

// --script DIR: a warning when some selected messages' headers give only the script's file
// name, which another site's copy of that file has too; "" when none did.
std::string describe_file_name_matches(const Selection& selection, const std::vector<SelectedMessage>& messages);

}  // namespace sw::queue

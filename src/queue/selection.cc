#include "queue/selection.h"

#include <algorithm>
#include <mutex>

#include "base/civil_time.h"
#include "base/text.h"
#include "spool/spool_reader.h"
#include "spool/spool_scanner.h"

namespace sw::queue {
namespace {

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// Globs for patterns, case-insensitive equality otherwise (glob_match does both).
bool like(const std::string& pattern, std::string_view value) { return glob_match(pattern, value); }

std::optional<Regex> compile_regex(const std::string& text, std::string* error, const char* what) {
  auto re = Regex::compile(text, selection_regex_options(), error);
  if (!re) *error = std::string("bad ") + what + " regex " + *error;
  return re;
}

// Live headers of that name: a match on any of them is a match; a limit hit is an answer only
// when no other header of that name matched.
ConditionMatch any_header_matches(const spool::SpoolHeader& header, std::string_view name, const Regex& re) {
  ConditionMatch result = ConditionMatch::no;
  for (const spool::Header& h : header.headers) {
    if (h.deleted() || !iequals(h.name(), name)) continue;
    RegexOutcome outcome = re.search(h.value());
    if (outcome == RegexOutcome::match) return ConditionMatch::yes;
    if (outcome == RegexOutcome::limit_hit) result = ConditionMatch::not_checked;
  }
  return result;
}

bool any_recipient_matches(const spool::SpoolHeader& header, const std::string& pattern) {
  for (const spool::Recipient& r : header.recipients)
    if (!header.delivered_to(r.address) && like(pattern, r.address)) return true;
  return false;
}

bool client_matches(const CidrRange& range, std::string_view ip) {
  auto address = parse_ip(ip);
  return address && cidr_contains(range, *address);
}

// `fragment` in `value` as whole path components: "forms/contact.php" is in
// "www.x.example/forms/contact.php", "mailer.php" is not in "old/mailer.php.bak".
bool contains_path(std::string_view value, std::string_view fragment) {
  for (size_t at = value.find(fragment); at != std::string_view::npos; at = value.find(fragment, at + 1)) {
    size_t end = at + fragment.size();
    bool starts = at == 0 || value[at - 1] == '/' || fragment.front() == '/';
    bool ends = end == value.size() || value[end] == '/' || fragment.back() == '/';
    if (starts && ends) return true;
  }
  return false;
}

// A glob matches the whole header value; "UID:file.php" that uid's file, exactly; a bare
// "file.php" the file's name, exactly; a path ("host/dir/file.php", "wp-content/") whole
// components of the value. A number prefix never stretches to another uid ("11001:").
bool script_matches(const Selection& s, const MessageFacts& facts) {
  const std::string& pattern = s.args.script;
  if (facts.script.empty()) return false;
  if (s.script_directory) return script_in_directory(*s.script_directory, facts.script, facts.uid);
  if (has_wildcard(pattern)) return like(pattern, facts.script);
  if (pattern.find('/') != std::string::npos) return contains_path(facts.script, pattern);
  ScriptHeaderFile wanted = parse_script_header(pattern), found = parse_script_header(facts.script);
  return found.file_name == wanted.file_name && (!wanted.uid || wanted.uid == found.uid);
}

// An absolute path: what the logs report names a script by (cwd=). A directory of that very
// name is taken as it is, even with glob characters in it.
bool is_directory_query(std::string_view script) { return script.starts_with('/'); }

}  // namespace

std::string script_fragment_pattern(std::string_view fragment) {
  return has_wildcard(fragment) ? glob_literal(fragment) : std::string(fragment);
}

std::string queue_list_command(const std::vector<std::string>& options) {
  std::string command = "spamwarden queue list";
  for (const auto& option : options) command += " " + shell_quote(option);
  return command;
}

std::string bounce_cleanup_command(std::string_view address) {
  std::string pattern = "^";
  for (char c : address) {
    if (std::string_view(".^$*+?()[]{}|\\").find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
  }
  pattern += '$';
  return "exiqgrep -i -f '^<>$' -r " + shell_quote(pattern) + " | xargs -r exim -Mrm";
}

namespace {

SelectedMessage describe_message(const spool::MessageLocation& location, const MessageFacts& facts, int64_t body_size) {
  SelectedMessage m;
  m.location = location;
  m.sender = facts.sender;
  m.auth_id = facts.auth_account;
  m.login = facts.login;
  m.local_user = facts.local_user;
  m.subject = facts.subject;
  m.script = facts.script;
  m.recipients = facts.pending_recipients;
  m.age_seconds = facts.age_seconds;
  m.body_size = body_size;
  m.frozen = facts.frozen;
  return m;
}

class SelectionSink : public spool::ScanSink {
 public:
  SelectionSink(const Selection& selection, int64_t now) : selection_(selection), now_(now) {}
  void on_message(const spool::MessageLocation& location, const spool::SpoolHeader& header,
                  int64_t body_size) override {
    if (!selection_.ids.empty() && !selection_.ids.count(location.id)) return;
    extract_facts(header, now_, facts_);
    switch (matches_conditions(selection_, header, facts_)) {
      case ConditionMatch::yes: selected.push_back(describe_message(location, facts_, body_size)); break;
      case ConditionMatch::not_checked: not_checked.push_back(location.id); break;
      case ConditionMatch::no: break;
    }
  }
  void on_unreadable(const spool::MessageLocation& location, std::string_view reason) override {
    if (selection_.ids.count(location.id)) {
      SelectedMessage m;
      m.location = location;
      m.readable = false;
      m.problem = reason;
      selected.push_back(std::move(m));
    } else {
      ++skipped_unreadable;
    }
  }
  std::vector<SelectedMessage> selected;
  std::vector<std::string> not_checked;
  size_t skipped_unreadable = 0;

 private:
  const Selection& selection_;
  int64_t now_;
  MessageFacts facts_;
};

}  // namespace

bool Selection::has_conditions() const {
  const SelectionArgs& a = args;
  return !a.auth_id.empty() || !a.sender.empty() || !a.sender_domain.empty() || !a.login.empty() ||
         !a.client_ip.empty() || !a.helo.empty() || !a.recipient.empty() || !a.subject.empty() || !a.script.empty() ||
         !a.headers.empty() || a.uid || a.min_recipients > 0 || a.frozen || a.bounce || !a.older_than.empty() ||
         !a.younger_than.empty();
}

std::optional<Selection> compile_selection(const SelectionArgs& args, std::string* error) {
  Selection s;
  s.args = args;
  if (!args.client_ip.empty() && !(s.client_range = parse_cidr(args.client_ip))) {
    *error = "bad --client-ip '" + args.client_ip + "': want an address or CIDR range";
    return std::nullopt;
  }
  for (auto [text, target, flag] : {std::tuple{&args.older_than, &s.older_than, "--older-than"},
                                    std::tuple{&args.younger_than, &s.younger_than, "--younger-than"}}) {
    if (text->empty()) continue;
    if (!(*target = parse_duration(*text))) {
      *error = std::string("bad ") + flag + " '" + *text + "': want e.g. 90s, 15m, 2h, 3d";
      return std::nullopt;
    }
  }
  if (!args.subject.empty() && !(s.subject = compile_regex(args.subject, error, "--subject"))) return std::nullopt;
  for (const std::string& spec : args.headers) {
    size_t colon = spec.find(':');
    if (colon == std::string::npos || colon == 0) {
      *error = "bad --header '" + spec + "': want 'Name: REGEX'";
      return std::nullopt;
    }
    auto re = compile_regex(std::string(trim(std::string_view(spec).substr(colon + 1))), error, "--header");
    if (!re) return std::nullopt;
    s.headers.emplace_back(std::string(trim(std::string_view(spec).substr(0, colon))), std::move(*re));
  }
  for (const std::string& id : args.ids) s.ids.insert(id);
  if (is_directory_query(args.script))
    s.script_directory = read_script_directory(args.script, &s.script_directory_error);
  return s;
}

RegexOptions selection_regex_options() {
  RegexOptions options;
  options.caseless = true;  // as before, and as exiqgrep matches senders and recipients
  return options;
}

ConditionMatch matches_conditions(const Selection& s, const spool::SpoolHeader& header, const MessageFacts& facts) {
  const SelectionArgs& a = s.args;
  auto no = ConditionMatch::no;
  if (!a.auth_id.empty() && (facts.auth_account.empty() || !like(a.auth_id, facts.auth_account))) return no;
  if (!a.sender.empty() && !like(a.sender, facts.sender)) return no;
  if (!a.sender_domain.empty() && (facts.sender_domain.empty() || !like(a.sender_domain, facts.sender_domain)))
    return no;
  if (!a.login.empty() && !like(a.login, facts.login) && (facts.local_user.empty() || !like(a.login, facts.local_user)))
    return no;
  if (a.uid && *a.uid != facts.uid) return no;
  if (s.client_range && !client_matches(*s.client_range, facts.client_ip)) return no;
  if (!a.helo.empty() && !like(a.helo, facts.helo)) return no;
  if (a.min_recipients > 0 && facts.pending_recipients < a.min_recipients) return no;
  if (a.frozen && !facts.frozen) return no;
  if (a.bounce && !facts.bounce) return no;
  if (s.older_than && facts.age_seconds < *s.older_than) return no;
  if (s.younger_than && facts.age_seconds >= *s.younger_than) return no;
  if (!a.script.empty() && !script_matches(s, facts)) return no;
  if (!a.recipient.empty() && !any_recipient_matches(header, a.recipient)) return no;
  // Regexes last, being the dearest; one that says no settles it even after a limit hit.
  ConditionMatch result = ConditionMatch::yes;
  auto regex_condition = [&](std::string_view name, const Regex& re) {
    ConditionMatch m = any_header_matches(header, name, re);
    if (m != ConditionMatch::yes) result = m;
    return m != ConditionMatch::no;
  };
  if (s.subject && !regex_condition("Subject", *s.subject)) return no;
  for (const auto& [name, re] : s.headers)
    if (!regex_condition(name, re)) return no;
  return result;
}

std::string describe_not_checked(const std::vector<std::string>& ids, size_t max_ids) {
  if (ids.empty()) return "";
  std::string text = std::to_string(ids.size()) + (ids.size() == 1 ? " message" : " messages") +
                     " not checked: the pattern hit the match limit on " + (ids.size() == 1 ? "it" : "them") + " (";
  for (size_t i = 0; i < ids.size() && i < max_ids; ++i) text += (i ? " " : "") + ids[i];
  return text + (ids.size() > max_ids ? " ...)" : ")");
}

std::string explain_empty_selection(const Selection& s) {
  const std::string& script = s.args.script;
  if (!is_directory_query(script) || (!s.script_directory && has_wildcard(script))) return "";
  std::string advice = "use --login USER (who ran it) or --script FILE.php (the name the header gives)";
  if (!s.script_directory)
    return "the spool records scripts as UID:file.php (X-PHP-Originating-Script) or host/path/file.php "
           "(X-PHP-Script), not as the directory they ran in, and " +
           s.script_directory_error + " to compare its files with them; " + advice;
  if (s.script_directory->truncated)
    return "--script " + script + " matched by the names of its files, but it holds more than " +
           std::to_string(kMaxScriptDirectoryEntries) + " entries and only those were read; " + advice;
  return "";
}

std::string describe_file_name_matches(const Selection& selection, const std::vector<SelectedMessage>& messages) {
  if (!selection.script_directory) return "";
  std::set<std::string> names;
  for (const SelectedMessage& m : messages) {
    if (!m.readable) continue;
    ScriptHeaderFile file = parse_script_header(m.script);
    if (file.url_path.find('/') == std::string::npos) names.insert(file.file_name);
  }
  if (names.empty()) return "";
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
  return "matched by the script's file name under " + selection.args.script + ": " + list +
         (names.size() == 1 ? " can" : " can each") +
         " also be another site's copy (the spool header names no directory); check the subjects";
}

std::string describe_selection(const SelectionArgs& a) {
  std::string out;
  auto add = [&](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    out += (out.empty() ? "" : " ") + std::string(name) + "=" + value;
  };
  add("auth-id", a.auth_id), add("sender", a.sender), add("sender-domain", a.sender_domain);
  add("login", a.login), add("client-ip", a.client_ip), add("helo", a.helo), add("recipient", a.recipient);
  add("subject", a.subject), add("script", a.script);
  for (const std::string& h : a.headers) add("header", h);
  if (a.uid) add("uid", std::to_string(*a.uid));
  if (a.min_recipients) add("min-recipients", std::to_string(a.min_recipients));
  if (a.frozen) add("frozen", "yes");
  if (a.bounce) add("bounce", "yes");
  add("older-than", a.older_than), add("younger-than", a.younger_than);
  for (const std::string& id : a.ids) add("id", id);
  return out.empty() ? "(everything)" : out;
}

SelectionResult select_messages(const std::string& spool_dir, const Selection& selection, int64_t now,
                                size_t max_threads, const spool::ReaderOptions& read) {
  std::vector<spool::MessageLocation> located;
  spool::SpoolListing listing;
  SelectionResult result;
  if (!selection.ids.empty()) {  // named ids: look them up instead of walking the whole spool
    for (const std::string& id : selection.ids) {
      if (auto location = spool::locate_message(spool_dir, id)) located.push_back(std::move(*location));
      else result.missing_ids.push_back(id);
    }
  } else {
    listing = spool::list_spool(spool_dir);
    result.spool_error = listing.error();
  }
  size_t count = selection.ids.empty() ? listing.size() : located.size();
  size_t threads = spool::scan_threads_for(count, max_threads);
  std::vector<SelectionSink> sinks(threads, SelectionSink(selection, now));
  std::vector<spool::ScanSink*> sink_pointers;
  for (SelectionSink& sink : sinks) sink_pointers.push_back(&sink);
  if (selection.ids.empty()) spool::scan_messages(listing, sink_pointers, read);
  else spool::scan_messages(located, sink_pointers, read);
  for (SelectionSink& sink : sinks) {
    std::move(sink.selected.begin(), sink.selected.end(), std::back_inserter(result.messages));
    result.skipped_unreadable += sink.skipped_unreadable;
    result.not_checked.insert(result.not_checked.end(), sink.not_checked.begin(), sink.not_checked.end());
  }
  std::sort(result.not_checked.begin(), result.not_checked.end());
  std::sort(result.messages.begin(), result.messages.end(),
            [](const SelectedMessage& a, const SelectedMessage& b) { return a.location.id < b.location.id; });
  return result;
}

}  // namespace sw::queue

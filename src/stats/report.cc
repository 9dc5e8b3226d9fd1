#include "stats/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "base/display_width.h"
#include "base/text.h"
#include "base/utf8.h"
#include "queue/selection.h"

namespace sw::stats {
namespace {

constexpr size_t kWidth = 100;
constexpr size_t kFindingsPerKind = 5;

nlohmann::json actor_json(const ActorStats& a, ActorKind kind) {
  nlohmann::json j = {
      {"actor", a.key},     {"messages", a.messages},   {"recipients", a.recipients},
      {"bytes", a.bytes},   {"delivered", a.delivered}, {"deferred", a.deferred},
      {"failed", a.failed}, {"frozen", a.frozen},       {"max_recipients_per_message", a.max_recipients}};
  if (a.first) {
    j["first"] = format_civil(a.first);
    j["last"] = format_civil(a.last);
  }
  if (a.window() && a.window()->peak_messages()) {
    j["peak"] = {{"window_seconds", a.window()->span()},
                 {"messages", a.window()->peak_messages()},
                 {"recipients", a.window()->peak_recipients()},
                 {"first", format_civil(a.window()->peak_first())},
                 {"last", format_civil(a.window()->peak_last())}};
  }
  if (kind == ActorKind::AuthAccount) {
    j["client_ips"] = a.listed_ips();
    j["client_ip_count"] = a.client_ip_count();
    j["failed_logins"] = a.failed_logins;
  }
  if (kind == ActorKind::ClientIp) {
    j["rejected_recipients"] = a.rejected_rcpts;
    // Different addresses among them, counted up to 64.
    j["rejected_recipients_different"] = a.distinct_rejected();
    j["failed_logins"] = a.failed_logins;
  }
  if (kind == ActorKind::SenderDomain) {
    j["distinct_senders"] = a.distinct_senders;
    j["random_looking_senders"] = a.random_senders;
  }
  return j;
}

std::string wrap(std::string_view first_prefix, std::string_view text, size_t indent) {
  return wrap_columns(first_prefix, text, indent, kWidth);
}

// The `spamwarden queue list` options that select what a finding's actor still has queued:
// the next step once the report names it (the same options freeze or remove it). The key is
// made a literal glob. A script directory selects, in the queue, the mail whose script header
// names one of its files, from its owner; and the login that ran it, when one did, narrows it
// to that user's mail (run by several, it is by the directory alone: either login would miss
// the other's). None for client IPs: what they tried was rejected.
std::vector<std::string> queue_selection(const Finding& f) {
  if (f.kind == "account_guessing") return {};  // guessed, not (by this finding) sending
  switch (f.actor_kind) {
    case ActorKind::Script:
      if (!f.local_user.empty()) return {"--login", glob_literal(f.local_user), "--script", f.actor};
      return {"--script", f.actor};
    case ActorKind::LocalUser: return {"--login", glob_literal(f.actor)};
    case ActorKind::AuthAccount: return {"--auth-id", glob_literal(f.actor)};
    case ActorKind::SenderDomain: return {"--sender-domain", glob_literal(f.actor)};
    case ActorKind::BounceRecipient: return {"--bounce", "--recipient", glob_literal(f.actor)};
    default: return {};
  }
}

// "its queued mail: spamwarden queue list ..." within the report's width: a command too long
// for one line goes on over shell continuations ("\\"), an option with its value, so that it
// can still be pasted whole. A word wider than a line is printed whole all the same: cut, it
// would name another actor. `lead` is the text and command before the options.
std::string hint_lines(const std::string& lead, const std::vector<std::string>& options) {
  constexpr size_t kIndent = 8;
  std::string out = "      " + lead;
  size_t column = display_width(out);
  for (size_t i = 0; i < options.size(); ++i) {
    std::string word = shell_quote(options[i]);
    if (i + 1 < options.size() && options[i].starts_with("--") && !options[i + 1].starts_with("--"))
      word += " " + shell_quote(options[++i]);
    if (column + 1 + display_width(word) + 2 > kWidth) {
      out += " \\\n" + std::string(kIndent, ' ');
      column = kIndent;
    } else {
      out += " ";
      column += 1;
    }
    out += word;
    column += display_width(word);
  }
  return out + "\n";
}

// The words of `spamwarden logs --actor ACTOR ...` over the same lines as the report: its
// inputs, and its time filter as absolute times (a relative "2h" would have moved on).
std::vector<std::string> story_words(const std::string& actor, std::vector<std::string> options,
                                     const Forensics* engine, const std::vector<std::string>& inputs) {
  std::vector<std::string> words = {"--actor", actor};
  words.insert(words.end(), options.begin(), options.end());
  if (engine && engine->since() != INT64_MIN) words.insert(words.end(), {"--since", format_civil(engine->since())});
  if (engine && engine->until() != INT64_MAX) words.insert(words.end(), {"--until", format_civil(engine->until())});
  words.insert(words.end(), inputs.begin(), inputs.end());
  return words;
}

void text_findings(std::string& out, const std::vector<Finding>& findings, size_t incomplete_inputs,
                   const std::vector<std::string>& inputs, const Forensics* engine) {
  if (findings.empty() && incomplete_inputs) {
    out += fmt::format(
        "No findings in what could be read; {} input(s) could not be read wholly (see the warnings): "
        "the rest of the log may hold abuse.\n\n",
        incomplete_inputs);
    return;
  }
  if (findings.empty()) {
    out += "No findings: nothing in these logs looks like abuse by the current thresholds.\n\n";
    return;
  }
  out += fmt::format("FINDINGS ({})\n", findings.size());
  // A botnet can make hundreds of findings of one kind: show the worst few of each here;
  // --json lists them all.
  struct Kind {
    size_t count = 0, shown = 0;
    uint64_t events = 0, recipients = 0;
    const char* events_noun = "";
  };
  std::map<std::string, Kind> kinds;
  for (const auto& f : findings) {
    Kind& k = kinds[f.kind];
    ++k.count;
    k.events += f.events;
    k.recipients += f.recipients;
    k.events_noun = f.events_noun;
  }
  for (const auto& f : findings) {
    if (++kinds[f.kind].shown > kFindingsPerKind) continue;
    out += "\n" + wrap(fmt::format("  [{}] ", f.kind), f.summary, 6);
    for (const auto& e : f.evidence) out += "      " + fit_columns(e, kWidth - 6) + "\n";
    if (auto options = queue_selection(f); !options.empty())
      out += hint_lines("its queued mail: spamwarden queue list", options);
    if (f.kind == "account_guessing")  // all its guessers, with when: the account's story, same logs
      out += hint_lines("every guesser: spamwarden logs", story_words("auth:" + f.actor, {"--json"}, engine, inputs));
    // Bounces other servers sent to one of our users: the cleanup would also remove that user's
    // real bounces; listing them (above) is as far as the report goes.
    if (f.kind == "backscatter" && f.all_made_here())
      out += "      or with Exim's tools:\n        " + printable(queue::bounce_cleanup_command(f.actor)) + "\n";
  }
  // The scale of what is not shown: a botnet's hundreds of IPs are one attack.
  for (const auto& [kind, k] : kinds) {
    if (k.count <= kFindingsPerKind) continue;
    std::string scale = k.events ? fmt::format("{} {} in all", k.events, k.events_noun)
                                 : fmt::format("{} recipients in all", k.recipients);
    out += "\n" + wrap("  ",
                       fmt::format("... and {} more {} findings ({} findings, {}; all of them in --json)",
                                   k.count - kFindingsPerKind, kind, k.count, scale),
                       6);
  }
  out += "\n";
}

// Bursts spared as a list mailed run after run, each with the command that tells its story.
void text_lists(std::string& out, const std::vector<ListMailing>& lists, const Forensics* engine,
                const std::vector<std::string>& inputs) {
  if (lists.empty()) return;
  out += fmt::format("NOT FLAGGED: LISTS MAILED RUN AFTER RUN ({})\n", lists.size());
  for (const auto& x : lists) {
    out += "\n" + wrap("  [list_mailed_again] ", x.summary, 6);
    std::string actor = (x.actor_kind == ActorKind::Script      ? "script:"
                         : x.actor_kind == ActorKind::LocalUser ? "user:"
                                                                : "auth:") +
                        x.actor;
    out += hint_lines("its mail, message by message: spamwarden logs", story_words(actor, {}, engine, inputs));
  }
  out += "\n";
}

void text_table(std::string& out, const ActorTable& t, size_t top) {
  auto rows = ranked(t, top);
  if (rows.empty()) return;
  out += fmt::format("{} — top {} of {}\n", actor_kind_title(t.kind()), rows.size(), t.size());
  bool accounts = t.kind() == ActorKind::AuthAccount;
  bool ips = t.kind() == ActorKind::ClientIp;
  // "failed" is deliveries that failed; accounts and IPs also show their failed logins.
  bool logins = accounts || ips;
  out += fmt::format("  {:>8} {:>10} {:>7} {:>8}{}  {}\n", "messages", "recipients", "failed",
                     accounts ? "IPs"
                     : ips    ? "rejected"
                              : "frozen",
                     logins ? fmt::format(" {:>10}", "bad logins") : "", "actor");
  for (const ActorStats* a : rows) {
    uint64_t col = accounts ? a->client_ip_count() : ips ? a->rejected_rcpts : a->frozen;
    out += fmt::format("  {:>8} {:>10} {:>7} {:>8}{}  {}\n", a->messages, a->recipients, a->failed, col,
                       logins ? fmt::format(" {:>10}", a->failed_logins) : "",
                       fit_columns(a->key, kWidth - (logins ? 51 : 40)));
  }
  out += "\n";
}

}  // namespace

std::vector<const ActorStats*> ranked(const ActorTable& t, size_t top) {
  auto better = [](const ActorStats* a, const ActorStats* b) {
    if (a->messages != b->messages) return a->messages > b->messages;
    if (a->recipients != b->recipients) return a->recipients > b->recipients;
    return a->key < b->key;
  };
  auto counts = [](const ActorStats& a) { return a.messages || a.rejected_rcpts || a.failed_logins; };
  std::vector<const ActorStats*> rows;
  if (top == 0) {
    for (const auto& a : t.all())
      if (counts(a)) rows.push_back(&a);
    std::sort(rows.begin(), rows.end(), better);
    return rows;
  }
  // The best `top` in a heap whose front is the worst of them: one pass, and no list of all
  // actors (hundreds of thousands of senders) to sort.
  rows.reserve(top);
  for (const auto& a : t.all()) {
    if (!counts(a)) continue;
    if (rows.size() < top) {
      rows.push_back(&a);
      std::push_heap(rows.begin(), rows.end(), better);
    } else if (a.messages >= rows.front()->messages && better(&a, rows.front())) {
      std::pop_heap(rows.begin(), rows.end(), better);
      rows.back() = &a;
      std::push_heap(rows.begin(), rows.end(), better);
    }
  }
  std::sort_heap(rows.begin(), rows.end(), better);
  return rows;
}

nlohmann::json report_json(const LogReport& r, const ReportOptions& o) {
  const Forensics& f = *r.forensics;
  nlohmann::json j;
  j["complete"] = o.incomplete_inputs == 0;  // false: findings speak only of what could be read
  j["lines"] = f.lines().lines;
  j["unparsed_lines"] = f.lines().unparsed;
  j["continuation_lines"] = f.lines().continuation;
  j["lines_outside_time_range"] = f.lines().outside_time_range;
  j["unparsed_samples"] = f.lines().unparsed_samples;
  j["messages"] = f.messages().messages;
  j["bounces"] = f.messages().bounces;
  j["local_submissions"] = f.messages().local;
  j["recipients"] = f.messages().recipients;
  j["frozen"] = f.messages().frozen;
  j["still_queued"] = f.messages().still_queued;
  j["cwd_lines"] = f.messages().cwd_lines;
  j["cwd_attached"] = f.messages().cwd_attached;
  j["cwd_correlation"] = f.saw_pid() ? "pid" : "nearest_local_arrival";
  j["first"] = f.first_time() ? format_civil(f.first_time()) : "";
  j["last"] = f.last_time() ? format_civil(f.last_time()) : "";
  j["times"] = o.utc ? "utc" : "local";  // the clock of every time in the report
  if (const ClockSteps& c = f.clock_steps(); c.count)
    j["clock_steps_back"] = {
        {"count", c.count}, {"first_from", format_civil(c.first_from)}, {"first_to", format_civil(c.first_to)}};
  j["inputs"] = r.inputs;
  j["warnings"] = r.warnings;
  nlohmann::json actors = nlohmann::json::object();
  nlohmann::json counts = nlohmann::json::object();  // distinct actors per kind, not just the top
  for (size_t k = 0; k < kActorKinds; ++k) {
    auto kind = ActorKind(k);
    nlohmann::json list = nlohmann::json::array();
    for (const ActorStats* a : ranked(f.table(kind), o.top)) list.push_back(actor_json(*a, kind));
    actors[actor_kind_key(kind)] = std::move(list);
    counts[actor_kind_key(kind)] = f.table(kind).size();
  }
  j["actors"] = std::move(actors);
  j["actor_counts"] = std::move(counts);
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& x : r.findings) {
    nlohmann::json fj = {{"kind", x.kind},
                         {"actor_type", actor_kind_key(x.actor_kind)},
                         {"actor", x.actor},
                         {"messages", x.messages},
                         {"recipients", x.recipients},
                         {"summary", x.summary},
                         {"evidence", x.evidence}};
    if (x.events) fj["events"] = x.events;
    if (x.peak_messages) {
      fj["peak"] = {{"messages", x.peak_messages},
                    {"recipients", x.peak_recipients},
                    {"first", format_civil(x.peak_first)},
                    {"last", format_civil(x.peak_last)}};
    }
    if (!x.client_ips.empty()) fj["client_ips"] = x.client_ips;
    if (!x.local_user.empty()) fj["local_user"] = x.local_user;
    if (!x.local_users.empty()) {
      fj["local_users"] = x.local_users;
      if (x.more_local_users) fj["more_local_users"] = true;
    }
    if (x.client_ip_count) fj["client_ip_count"] = x.client_ip_count;
    if (!x.login_target.empty()) fj["login_target"] = x.login_target;
    if (x.kind == "backscatter") {
      fj["bounces_from_elsewhere"] = x.bounces_from_elsewhere;
      if (x.all_made_here()) fj["cleanup"] = queue::bounce_cleanup_command(x.actor);
    }
    if (auto selection = queue_selection(x); !selection.empty()) fj["queue_selection"] = selection;
    findings.push_back(std::move(fj));
  }
  j["findings"] = std::move(findings);
  nlohmann::json lists = nlohmann::json::array();
  for (const auto& x : r.lists_mailed_again)
    lists.push_back({{"actor_type", actor_kind_key(x.actor_kind)},
                     {"actor", x.actor},
                     {"messages", x.messages},
                     {"recipients", x.recipients},
                     {"peak_recipients", x.peak_recipients},
                     {"list_size_estimate", x.list},
                     {"other_addresses_estimate", x.others},
                     {"median_runs", x.runs},
                     {"first", format_civil(x.first)},
                     {"last", format_civil(x.last)},
                     {"summary", x.summary}});
  j["lists_mailed_again"] = std::move(lists);
  return j;
}

std::string report_text(const LogReport& r, const ReportOptions& o) {
  const Forensics& f = *r.forensics;
  std::string out;
  out += fmt::format("spamwarden logs: {} lines, {} messages ({} local, {} bounces), {} recipients\n", f.lines().lines,
                     f.messages().messages, f.messages().local, f.messages().bounces, f.messages().recipients);
  if (f.first_time())
    out += fmt::format("period: {} to {}{}", format_civil(f.first_time()), format_civil(f.last_time()),
                       o.utc ? " UTC" : "");
  else if (f.lines().outside_time_range)
    out += fmt::format("period: none ({} lines, all outside --since/--until)", f.lines().outside_time_range);
  else out += "period: none (no line with a timestamp)";
  out += fmt::format(" | read in {:.2f}s\n", r.seconds);
  if (o.utc) out += "times: UTC, from the zones the log gives (log_timezone); --since and --until are UTC too\n";
  if (const ClockSteps& c = f.clock_steps(); c.count)
    out += fmt::format(
        "note: the log's clock goes back from {} to {}{} (daylight saving time ending?): those times "
        "repeat, and each actor's burst window starts again there\n",
        format_civil(c.first_from), format_civil(c.first_to),
        c.count > 1 ? fmt::format(", and {} more times", c.count - 1) : "");
  if (f.lines().unparsed)
    out += fmt::format("note: {} lines not understood (first: {})\n", f.lines().unparsed,
                       fit_columns(f.lines().unparsed_samples.front(), 50));
  if (f.messages().cwd_lines && !f.saw_pid())
    out += "note: no +pid in log_selector: cwd= lines matched to the nearest local submission\n";
  for (const auto& w : r.warnings) out += wrap("warning: ", w, 9);
  out += "\n";
  text_findings(out, r.findings, o.incomplete_inputs, r.inputs, r.forensics);
  text_lists(out, r.lists_mailed_again, r.forensics, r.inputs);
  for (size_t k = 0; k < kActorKinds; ++k) text_table(out, f.table(ActorKind(k)), o.top);
  return out;
}

}  // namespace sw::stats

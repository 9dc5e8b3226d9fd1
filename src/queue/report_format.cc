#include "queue/report_format.h"

#include <fmt/format.h>

#include "base/civil_time.h"
#include "base/text.h"
#include "queue/selection.h"

namespace sw::queue {
namespace {

constexpr size_t kKeyWidth = 62;  // 62 + 3 numeric columns of 11 + indent = 100 columns

std::string human_bytes(uint64_t bytes) {
  if (bytes < 10 * 1024) return fmt::format("{} B", bytes);
  if (bytes < 10 * 1024 * 1024) return fmt::format("{:.1f} KiB", double(bytes) / 1024);
  return fmt::format("{:.1f} MiB", double(bytes) / (1024 * 1024));
}

nlohmann::json actor_rows_json(const std::vector<ActorRow>& rows) {
  nlohmann::json list = nlohmann::json::array();
  for (const ActorRow& row : rows) {
    nlohmann::json j = {
        {"actor", row.key}, {"messages", row.messages}, {"recipients", row.recipients}, {"frozen", row.frozen}};
    if (!row.local_user.empty()) j["local_user"] = row.local_user;
    list.push_back(std::move(j));
  }
  return list;
}

constexpr std::string_view kTitles[kActorKinds] = {"SMTP-AUTH accounts",
                                                   "Local users (sendmail; cPanel: SMTP from here)",
                                                   "Senders",
                                                   "Sender domains",
                                                   "Client IPs",
                                                   "HELO names",
                                                   "Recipient domains (pending recipients)",
                                                   "Subjects",
                                                   "Scripts (X-PHP-Originating-Script, X-PHP-Script)"};

void append_actor_table(std::string& out, const QueueReport& report, size_t kind) {
  const std::vector<ActorRow>& rows = report.top_actors[kind];
  if (rows.empty()) return;
  std::string title = fmt::format("{} ({} distinct)", kTitles[kind], report.distinct_actors[kind]);
  out += fmt::format("\n{}{:>11}{:>11}{:>11}\n", pad_columns(fit_columns(title, kKeyWidth + 3), kKeyWidth + 4),
                     "messages", "recipients", "frozen");
  for (const ActorRow& row : rows) {
    std::string key = row.local_user.empty()            ? row.key
                      : row.local_user == kSeveralUsers ? row.key + " (several local users)"
                                                        : row.key + " (local_user " + row.local_user + ")";
    out += fmt::format("   {} {:>10} {:>10} {:>10}\n", pad_columns(fit_columns(key, kKeyWidth), kKeyWidth),
                       row.messages, row.recipients, row.frozen);
  }
}

void append_findings(std::string& out, const QueueReport& report) {
  if (report.findings.empty()) {
    out += "\nFindings: none\n";
    return;
  }
  out += fmt::format("\nFindings ({}):\n", report.findings.size());
  for (const Finding& f : report.findings) {
    out += wrap_columns(fmt::format(" * [{}] ", f.kind), f.summary, 5, 100);
    std::string ids;
    for (size_t i = 0; i < f.ids.size() && i < 4; ++i) ids += (i ? " " : "") + f.ids[i];
    if (f.messages > 4) ids += fmt::format(" (+{} more)", f.messages - std::min<uint64_t>(f.messages, 4));
    if (!f.ids.empty()) out += fmt::format("     ids: {}\n", ids);  // none with --evidence-ids 0
    std::vector<std::string> options = selection_hint(f);
    // Whole, however long: a command cut to the screen's width would select nothing when pasted.
    if (!options.empty()) out += fmt::format("     see: {}\n", printable(queue_list_command(options)));
    if (f.kind == "backscatter" && f.all_made_here())  // else the user's real bounces would go too
      out += fmt::format("     or with Exim's tools: {}\n", printable(bounce_cleanup_command(f.actor)));
  }
}

}  // namespace

std::vector<std::string> selection_hint(const Finding& f) {
  std::string exact = glob_literal(f.actor);
  if (f.kind == "many_recipients") {
    const char* base = f.actor_type == "auth_account" ? "--auth-id"
                       : f.actor_type == "local_user" ? "--login"
                                                      : "--sender";
    return {base, exact, "--min-recipients", std::to_string(f.min_recipients)};
  }
  if (f.kind == "backscatter") return {"--bounce", "--recipient", exact};
  if (f.kind == "random_sender_localparts") return {"--sender-domain", exact};
  if (f.actor_type == "auth_account") return {"--auth-id", exact};
  if (f.actor_type == "local_user") return {"--login", exact};
  if (f.actor_type == "sender") return {"--sender", exact};
  if (f.actor_type == "client_ip") return {"--client-ip", f.actor};
  if (f.actor_type == "script" && !f.local_user.empty() && f.local_user != kSeveralUsers)
    return {"--login", glob_literal(f.local_user), "--script", script_fragment_pattern(f.actor)};
  if (f.actor_type == "script") return {"--script", script_fragment_pattern(f.actor)};
  return {};
}

nlohmann::json report_to_json(const QueueReport& r) {
  nlohmann::json out = {{"messages", r.messages},
                        {"frozen", r.frozen},
                        {"bounces", r.bounces},
                        {"unreadable", r.unreadable},
                        {"recipients", r.recipients},
                        {"vanished", r.vanished},
                        {"body_bytes", r.body_bytes_known ? nlohmann::json(r.body_bytes) : nlohmann::json()},
                        {"moved_frozen", r.moved_frozen},
                        {"oldest_age_seconds", r.oldest_age},
                        {"oldest_id", r.oldest_id},
                        {"top_sender", r.top_sender},
                        {"top_sender_share", r.top_sender_share}};
  nlohmann::json ages = nlohmann::json::object();
  for (size_t i = 0; i < kAgeBuckets; ++i) ages[std::string(kAgeBucketNames[i])] = r.age_buckets[i];
  out["age_buckets"] = ages;
  nlohmann::json actors = nlohmann::json::object(), distinct = nlohmann::json::object();
  for (size_t k = 0; k < kActorKinds; ++k) {
    std::string name(actor_kind_name(ActorKind(k)));
    actors[name] = actor_rows_json(r.top_actors[k]);
    distinct[name] = r.distinct_actors[k];
  }
  out["actors"] = actors;
  out["distinct_actors"] = distinct;
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& f : r.findings)
    findings.push_back({{"kind", f.kind},
                        {"actor_type", f.actor_type},
                        {"actor", f.actor},
                        {"messages", f.messages},
                        {"recipients", f.recipients},
                        {"summary", f.summary},
                        {"ids", f.ids}});
  for (size_t i = 0; i < r.findings.size(); ++i) {
    if (auto options = selection_hint(r.findings[i]); !options.empty()) findings[i]["queue_selection"] = options;
    if (r.findings[i].kind != "backscatter") continue;
    findings[i]["bounces_from_elsewhere"] = r.findings[i].bounces_from_elsewhere;
    if (r.findings[i].all_made_here()) findings[i]["cleanup"] = bounce_cleanup_command(r.findings[i].actor);
  }
  out["findings"] = findings;
  nlohmann::json unreadable = nlohmann::json::array();
  for (const UnreadableMessage& u : r.unreadable_messages) unreadable.push_back({{"id", u.id}, {"reason", u.reason}});
  out["unreadable_messages"] = unreadable;
  return out;
}

std::string report_to_text(const QueueReport& r, const std::string& spool_dir) {
  std::string out =
      fmt::format("Exim queue {}: {} messages, {} pending recipients{}\n", fit_columns(spool_dir, 40), r.messages,
                  r.recipients, r.body_bytes_known ? ", " + human_bytes(r.body_bytes) + " of bodies" : "");
  out += fmt::format("  frozen {}   bounces {}   unreadable {}   vanished while reading {}\n", r.frozen, r.bounces,
                     r.unreadable, r.vanished);
  if (r.moved_frozen)
    out += fmt::format("  {} frozen messages sit in Finput/ (move_frozen_messages)\n", r.moved_frozen);
  if (!r.oldest_id.empty()) out += fmt::format("  oldest {} ({})\n", format_duration(r.oldest_age), r.oldest_id);
  out += "  age:";
  for (size_t i = 0; i < kAgeBuckets; ++i)
    out += fmt::format(" {} {}{}", kAgeBucketNames[i], r.age_buckets[i], i + 1 < kAgeBuckets ? " |" : "");
  out += "\n";
  append_findings(out, r);
  for (size_t k = 0; k < kActorKinds; ++k) append_actor_table(out, r, k);
  for (const UnreadableMessage& u : r.unreadable_messages)
    out += fmt::format("unreadable: {} {}\n", u.id, fit_columns(u.reason, 70));
  return out;
}

}  // namespace sw::queue

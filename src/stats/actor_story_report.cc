// story_of (the inputs read as `logs` reads them) and the story rendered as text or JSON.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/text.h"
#include "eximlog/line_parser.h"
#include "logio/byte_source.h"
#include "logio/ordered_pipeline.h"
#include "stats/actor_story.h"
#include "stats/parsed_batch.h"
#include "stats/scan_logs.h"

namespace sw::stats {
namespace {

constexpr size_t kStoryBlockBytes = 1 << 20;
constexpr size_t kStoryWidth = 100;
constexpr size_t kTopRows = 10;
constexpr size_t kChartBar = 50;

struct StoryBatch {
  logio::Block block;
  PrefilteredBlock kept;
  uint64_t line_count = 0;
  void clear() {
    block = {};
    kept.clear();
  }
};

// Rows of a count map, largest first (then by key), at most `top` (0: all).
std::vector<std::pair<std::string, uint64_t>> top_of(const std::map<std::string, uint64_t>& m, size_t top) {
  std::vector<std::pair<std::string, uint64_t>> rows(m.begin(), m.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top && rows.size() > top) rows.resize(top);
  return rows;
}

struct Bucket {
  CivilSeconds start;
  uint64_t messages = 0, recipients = 0, attempts = 0;
};

// The minutes re-counted into the chart's buckets, empty buckets included: a burst shows as
// the rows around it being short.
std::vector<Bucket> timeline(const ActorStory& s, int64_t* bucket_seconds) {
  std::vector<Bucket> out;
  if (s.minutes.empty()) return out;
  CivilSeconds first = s.minutes.begin()->first, last = s.minutes.rbegin()->first;
  int64_t b = timeline_bucket(last - first);
  *bucket_seconds = b;
  CivilSeconds start = first - first % b;
  for (CivilSeconds t = start; t <= last; t += b) out.push_back({t});
  for (const auto& [minute, m] : s.minutes) {
    Bucket& x = out[size_t((minute - start) / b)];
    x.messages += m.messages;
    x.recipients += m.recipients;
    x.attempts += m.attempts;
  }
  return out;
}

std::string bucket_label(CivilSeconds t, int64_t bucket, bool one_day) {
  std::string full = format_civil(t);
  if (bucket >= 86400) return full.substr(0, 10);
  return one_day ? full.substr(11, 5) : full.substr(5, 11);
}

void text_chart(std::string& out, const ActorStory& s) {
  int64_t bucket = 60;
  std::vector<Bucket> rows = timeline(s, &bucket);
  if (rows.empty()) return;
  bool messages = s.messages > 0;  // else the attempts (rejections, failed logins) are the story
  uint64_t peak = 0;
  for (const Bucket& r : rows) peak = std::max(peak, messages ? r.messages : r.attempts);
  bool one_day = format_civil(rows.front().start).substr(0, 10) == format_civil(rows.back().start).substr(0, 10);
  // Both when it sent and was refused (a hijacked account: the guessing before the sending).
  bool refused_too = messages && s.failed_logins + s.rejected_recipients + s.other_rejections > 0;
  out += fmt::format("\ntimeline per {}: {}{}\n", format_duration(bucket),
                     messages ? "messages (recipients)" : "rejections and failed logins",
                     refused_too ? "; refused: failed logins and rejections" : "");
  for (const Bucket& r : rows) {
    uint64_t n = messages ? r.messages : r.attempts;
    size_t bar = peak ? size_t((n * kChartBar + peak - 1) / peak) : 0;
    out += fmt::format("  {} |{:<50}| {}", bucket_label(r.start, bucket, one_day), std::string(bar, '#'), n);
    if (messages && r.recipients) out += fmt::format(" ({})", r.recipients);
    if (refused_too && r.attempts) out += fmt::format("; {} refused", r.attempts);
    out += "\n";
  }
}

void text_counts(std::string& out, const char* title, const std::map<std::string, uint64_t>& m) {
  if (m.empty()) return;
  auto rows = top_of(m, kTopRows);
  out += fmt::format("\n{} — top {} of {}\n", title, rows.size(), m.size());
  for (const auto& [key, n] : rows) out += fmt::format("  {:>8}  {}\n", n, fit_columns(key, kStoryWidth - 12));
}

nlohmann::json counts_json(const std::map<std::string, uint64_t>& m, const char* name) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [key, n] : top_of(m, 0)) list.push_back({{name, key}, {"count", n}});
  return list;
}

// The times of a block's first and last lines, for the inputs' spans: a log on stdin is read
// last, and one older than the files before it is said, as the report says it.
// An input none of whose lines is a main-log line is the wrong file, said as the report says
// it: until one line of the input is understood, each block's lines are tried in turn.
void note_block_span(std::string_view bytes, InputSpan& span) {
  eximlog::LogLine l;
  eximlog::parse_line(bytes.substr(0, bytes.find('\n')), l, eximlog::LineFields::Essential);
  span.note(l.time);
  auto understood = [&l] { return l.kind != eximlog::LineKind::Unparsed && l.kind != eximlog::LineKind::Continuation; };
  for (size_t at = 0; !understood() && span.understood == 0 && at < bytes.size();) {
    size_t end = std::min(bytes.find('\n', at), bytes.size());
    eximlog::parse_line(bytes.substr(at, end - at), l, eximlog::LineFields::Essential);
    at = end + 1;
  }
  if (understood()) ++span.understood;
  while (!bytes.empty() && bytes.back() == '\n') bytes.remove_suffix(1);
  size_t last = bytes.rfind('\n');
  eximlog::parse_line(bytes.substr(last == std::string_view::npos ? 0 : last + 1), l, eximlog::LineFields::Essential);
  span.note(l.time);
}

}  // namespace

StoryResult story_of(const std::vector<std::string>& inputs, const StoryOptions& options) {
  auto started = std::chrono::steady_clock::now();
  StoryResult result;
  std::vector<std::unique_ptr<logio::ByteSource>> sources;
  for (const auto& path : order_by_first_timestamp(distinct_files(inputs, result.warnings))) {
    try {
      sources.push_back(logio::open_source(path, sources.size(), kStoryBlockBytes, logio::ReadMode::Deferred));
      result.inputs.push_back(sources.back()->name());
    } catch (const logio::InputError& e) {
      result.warnings.push_back(e.what());
      ++result.unreadable_inputs;
    }
  }
  StoryPrefilter prefilter(options.actor);
  StoryBuilder builder(options.actor, options.since, options.until, options.sink);
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  // The prefilter is the work here (finding the key, every line's id); folding what it keeps
  // is a few percent of one core. So it gets every core: on two, 0.38 s against 0.46 s for
  // one actor over the benchmark's 1.1 GB log.
  int workers = options.workers > 0 ? options.workers : cores;
  logio::OrderedPipeline<StoryBatch> pipeline(workers, [&](const logio::Block& b, StoryBatch& out) {
    out.block = b;
    out.line_count = prefilter.run(b.bytes, out.kept);
  });
  std::vector<uint64_t> lines_read(sources.size());
  std::vector<InputSpan> spans(sources.size());
  pipeline.run(sources, [&](StoryBatch& b) {
    builder.add(b.block.bytes, b.kept);
    lines_read[b.block.input_index] += b.line_count;
    note_block_span(b.block.bytes, spans[b.block.input_index]);
  });
  for (size_t i = 0; i < spans.size(); ++i) spans[i].lines = lines_read[i];
  warn_about_overlaps(spans, result.inputs, result.warnings);
  result.foreign_inputs = warn_about_foreign_inputs(spans, result.inputs, result.warnings);
  for (const auto& w : pipeline.warnings()) result.warnings.push_back(w);
  result.damaged_inputs = pipeline.warnings().size();
  for (size_t i = 0; i < sources.size(); ++i)
    if (std::string why = sources[i]->shortfall(lines_read[i]); !why.empty()) {
      result.warnings.push_back(why);
      ++result.damaged_inputs;
    }
  result.story = builder.story();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

nlohmann::json story_json(const StoryResult& r) {
  const ActorStory& s = r.story;
  nlohmann::json j = {{"actor_type", detect::actor_type_name(s.actor.type)},
                      {"actor", s.actor.key},
                      {"complete", r.unreadable_inputs + r.damaged_inputs + r.foreign_inputs == 0},
                      {"inputs", r.inputs},
                      {"warnings", r.warnings},
                      {"first", s.first ? format_civil(s.first) : ""},
                      {"last", s.last ? format_civil(s.last) : ""},
                      {"lines", s.lines},
                      {"messages", s.messages},
                      {"recipients", s.recipients},
                      {"bytes", s.bytes},
                      {"delivered", s.delivered},
                      {"deferred", s.deferred},
                      {"failed", s.failed},
                      {"frozen", s.frozen},
                      {"completed", s.completed},
                      {"bounces_generated", s.bounces_generated},
                      {"rejected_recipients", s.rejected_recipients},
                      {"other_rejections", s.other_rejections},
                      {"failed_logins", s.failed_logins}};
  int64_t bucket = 60;
  nlohmann::json rows = nlohmann::json::array();
  for (const Bucket& b : timeline(s, &bucket))
    rows.push_back({{"start", format_civil(b.start)},
                    {"messages", b.messages},
                    {"recipients", b.recipients},
                    {"attempts", b.attempts}});
  j["timeline"] = {{"bucket_seconds", bucket}, {"buckets", rows}};
  j["client_ips"] = counts_json(s.client_ips, "ip");
  j["refused_ips"] = counts_json(s.refused_ips, "ip");
  if (s.actor.type == detect::ActorType::ClientIp) j["accounts_tried"] = counts_json(s.accounts_tried, "account");
  j["recipient_domains"] = counts_json(s.recipient_domains, "domain");
  j["rejected_recipient_domains"] = counts_json(s.rejected_domains, "domain");
  j["subjects"] = counts_json(s.subjects, "subject");
  j["message_ids"] = s.message_ids;
  if (s.actor.type == detect::ActorType::Script) j["cwd_correlation"] = s.pid_seen ? "pid" : "nearest_local_arrival";
  j["times"] = s.utc ? "utc" : "local";  // as the report's: the clock of every time here
  return j;
}

std::string story_text(const StoryResult& r) {
  const ActorStory& s = r.story;
  std::string out =
      fmt::format("spamwarden logs --actor {}\n", fit_columns(format_actor_ref(s.actor), kStoryWidth - 24));
  for (const auto& w : r.warnings) out += "warning: " + fit_columns(w, kStoryWidth - 9) + "\n";
  if (s.lines == 0) {
    out += fmt::format("not seen in {} input(s) ({:.2f}s)\n", r.inputs.size(), r.seconds);
    return out;
  }
  out += fmt::format("seen {} to {} ({}), {} log lines, in {} input(s) ({:.2f}s)\n", format_civil(s.first),
                     format_civil(s.last), format_duration(std::max<int64_t>(60, s.last - s.first)), s.lines,
                     r.inputs.size(), r.seconds);
  if (s.utc) out += "times: UTC, from the zones the log gives (log_timezone)\n";
  if (s.messages)
    out += fmt::format(
        "{} messages to {} recipients: {} delivered, {} deferred, {} failed (bounced), {} frozen; "
        "{} still queued at the end\n",
        s.messages, s.recipients, s.delivered, s.deferred, s.failed, s.frozen,
        s.messages - std::min(s.messages, s.completed));
  if (s.bounces_generated) out += fmt::format("{} bounce messages made of its mail\n", s.bounces_generated);
  if (s.rejected_recipients || s.other_rejections || s.failed_logins)
    out += fmt::format("{} recipients rejected, {} other rejections, {} failed logins\n", s.rejected_recipients,
                       s.other_rejections, s.failed_logins);
  if (s.actor.type == detect::ActorType::Script && !s.pid_seen && s.messages)
    out += "note: no +pid in log_selector: cwd= lines matched to the nearest local submission\n";
  text_chart(out, s);
  // An IP's lists would hold only itself; a range's hold its addresses.
  if (s.actor.type != detect::ActorType::ClientIp || client_ip_range(s.actor)) {
    text_counts(out, "client IPs it sent from", s.client_ips);
    text_counts(out, "client IPs refused (failed logins, rejections)", s.refused_ips);
  }
  text_counts(out, "accounts it failed to log in as", s.accounts_tried);
  text_counts(out, "recipient domains", s.recipient_domains);
  text_counts(out, "domains of its rejected recipients", s.rejected_domains);
  text_counts(out, "subjects", s.subjects);
  if (!s.message_ids.empty()) {
    out += fmt::format("\nmessage ids ({})\n", s.message_ids.size());
    std::string row;
    for (const auto& id : s.message_ids) {
      if (row.size() + id.size() + 1 > kStoryWidth - 2) {
        out += " " + row + "\n";
        row.clear();
      }
      row += " " + id;
    }
    if (!row.empty()) out += " " + row + "\n";
  }
  return out;
}

}  // namespace sw::stats

#include "stats/parsed_batch.h"

#include <fmt/format.h>

#include <cstring>

#include "eximlog/cwd_matcher.h"
#include "eximlog/line_parser.h"

namespace sw::stats {

using eximlog::LineKind;
using eximlog::LogLine;

namespace {

// Lines the engine never looks at beyond counting them: whole kinds, and the cwd= lines of
// Exim's own queue runners and deliveries (about a tenth of a busy log).
bool engine_ignores(const LogLine& l) {
  switch (l.kind) {
    case LineKind::Unparsed:
    case LineKind::Continuation:
    case LineKind::Connection:
    case LineKind::QueueRun:
    case LineKind::Other:
    case LineKind::Reject: return true;
    // cPanel's lines naming the login behind a message, or a connection, from this host (see
    // Forensics).
    case LineKind::CpanelIdentification: return l.message_id.empty() ? !l.local_connection : l.ident.empty();
    case LineKind::Cwd: return !eximlog::is_submission_cwd(l.cwd, l.args);
    default: return false;
  }
}

}  // namespace

void parse_block(const logio::Block& b, ParsedBatch& out) {
  out.block = b;
  std::string_view s = b.bytes;
  if (out.lines.empty()) {  // once per recycled batch: no regrowth copies later
    out.lines.resize(s.size() / 160 + 1);
    out.raws.reserve(s.size() / 160);
    out.keys.reserve(s.size() / 160);
  }
  size_t pos = 0;
  while (pos < s.size()) {
    const void* nl = std::memchr(s.data() + pos, '\n', s.size() - pos);
    size_t end = nl ? size_t(static_cast<const char*>(nl) - s.data()) : s.size();
    std::string_view raw = s.substr(pos, end - pos);
    pos = end + 1;
    if (raw.empty()) {  // blank lines, perhaps millions of them, cost no parse and no slot
      out.skip(LineKind::Unparsed, 0, raw);
      continue;
    }
    if (out.count == out.lines.size()) out.lines.resize(out.lines.size() * 2);
    LogLine& l = out.lines[out.count];
    eximlog::parse_line(raw, l, eximlog::LineFields::Essential);
    if (l.kind != LineKind::Unparsed && l.kind != LineKind::Continuation) {
      ++out.understood;
      if (out.earliest == 0 || l.time < out.earliest) out.earliest = l.time;
      if (l.time > out.latest) out.latest = l.time;
    }
    if (engine_ignores(l)) {
      out.skip(l.kind, l.time, raw);
      continue;
    }
    ++out.count;
    out.raws.push_back(raw);
    Forensics::fill_line_keys(l, out.keys.emplace_back());
  }
}

namespace {

void fold_lines(Forensics& engine, ParsedBatch& b, bool count_skipped) {
  // The engine is bound by cache misses on its actor tables: prefetch a few lines ahead.
  // Each stage reads what the one before it loaded: slot, actor, extras, window tail.
  constexpr size_t kSlotsAhead = 48, kActorsAhead = 24, kExtrasAhead = 12, kTailsAhead = 5;
  size_t n = b.count;
  for (size_t i = 0; i < n; ++i) {
    if (i + kSlotsAhead < n) engine.prefetch_slots(b.keys[i + kSlotsAhead]);
    if (i + kActorsAhead < n) engine.prefetch_actors(b.keys[i + kActorsAhead]);
    if (i + kExtrasAhead < n) engine.prefetch_extras(b.keys[i + kExtrasAhead]);
    if (i + kTailsAhead < n) engine.prefetch_window_tails(b.keys[i + kTailsAhead]);
    engine.add(b.lines[i], b.raws[i], b.keys[i]);
  }
  if (!count_skipped) return;  // the side engine: the report's line counts are the first engine's
  size_t sample = 0;
  for (const auto& s : b.skipped) {
    bool sampled = s.kind == LineKind::Unparsed && sample < b.unparsed_samples.size();
    engine.count(s.kind, s.time, 0, sampled ? b.unparsed_samples[sample++] : std::string_view());
  }
}

}  // namespace

void fold_batch(Forensics& engine, ParsedBatch& b, const logio::ByteSource& src, bool count_skipped) {
  // Evidence from a plain file is kept as its offset and read again for the findings.
  engine.set_evidence_origin(src.rereadable() ? std::optional(EvidenceLines::Origin{b.block.bytes, b.block.offset,
                                                                                    uint32_t(b.block.input_index)})
                                              : std::nullopt);
  fold_lines(engine, b, count_skipped);
}

void fold_batch_copying(Forensics& engine, ParsedBatch& b) {
  engine.set_evidence_origin(std::nullopt);
  fold_lines(engine, b, true);
}

// A file in which not one line is an Exim main-log line is the wrong file (a Postfix log, the
// binary, a rejectlog's neighbour): a report of nothing with exit 0 would tell cron "all clear".
size_t warn_about_foreign_inputs(const std::vector<InputSpan>& spans, const std::vector<std::string>& names,
                                 std::vector<std::string>& warnings) {
  size_t foreign = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].lines == 0 || spans[i].understood > 0) continue;
    ++foreign;
    warnings.push_back(
        fmt::format("{}: none of its {} lines is an Exim main-log line; is it the main log "
                    "(exim_mainlog, exim4/mainlog)?",
                    names[i], spans[i].lines));
  }
  return foreign;
}

void warn_about_overlaps(const std::vector<InputSpan>& spans, const std::vector<std::string>& names,
                         std::vector<std::string>& warnings) {
  for (size_t i = 1; i < spans.size(); ++i) {
    const InputSpan &before = spans[i - 1], &now = spans[i];
    if (before.last == 0 || now.first == 0 || now.first + kRotationOverlap >= before.last) continue;
    // Wholly older: read out of order (stdin, which cannot be peeked at, is read last).
    if (now.last <= before.first) {
      warnings.push_back(fmt::format(
          "{} ({} to {}) is older than {} ({} to {}) but was read after it{}: give the "
          "logs as files, or in time order",
          names[i], format_civil(now.first), format_civil(now.last), names[i - 1], format_civil(before.first),
          format_civil(before.last), names[i] == "<stdin>" ? " (stdin is read after the files)" : ""));
      continue;
    }
    warnings.push_back(
        fmt::format("{} ({} to {}) overlaps {} ({} to {}): if one is a copy of the other, "
                    "their common lines are counted twice",
                    names[i], format_civil(now.first), format_civil(now.last), names[i - 1], format_civil(before.first),
                    format_civil(before.last)));
  }
}

void note_batch_span(const ParsedBatch& b, InputSpan& span) {
  span.lines += b.count + b.skipped.size();
  span.understood += b.understood;
  span.note_extent(b.earliest, b.latest);
  if (b.count) {
    span.note(b.lines[0].time);
    span.note(b.lines[b.count - 1].time);
  }
  if (!b.skipped.empty()) {
    span.note(b.skipped.front().time);
    span.note(b.skipped.back().time);
  }
}

void warm_batch(Forensics& engine, const ParsedBatch& b) {
  for (size_t i = 0; i < b.count; ++i) engine.warm(b.lines[i], b.raws[i], b.keys[i]);
}

}  // namespace sw::stats

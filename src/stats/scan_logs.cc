#include "stats/scan_logs.h"

#include <fmt/format.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include "base/heap_prefault.h"
#include "eximlog/cwd_matcher.h"
#include "eximlog/line_parser.h"
#include "logio/byte_source.h"
#include "logio/ordered_pipeline.h"
#include "stats/log_slices.h"
#include "stats/parsed_batch.h"
#include "stats/rotated_summaries.h"
#include "stats/summary_cache.h"

namespace sw::stats {
namespace {

using eximlog::LineKind;
using eximlog::LogLine;

}  // namespace

// The same file given twice (`logs F F`, F and a link to it, /var/log/x and /var/log/../log/x)
// would count every line twice: it is read once, under the name given first. Files are told
// apart by device and inode before anything is read; a name that cannot be stat'ed is kept,
// to be reported when it is opened. A copy (another inode) is left to the overlap warning.
std::vector<std::string> distinct_files(const std::vector<std::string>& inputs, std::vector<std::string>& warnings) {
  struct Seen {
    dev_t device;
    ino_t inode;
    const std::string* path;
  };
  auto shown = [](const std::string& path) { return path == "-" ? std::string("<stdin>") : path; };
  std::vector<Seen> seen;
  std::vector<std::string> distinct;
  for (const std::string& path : inputs) {
    struct stat st;
    if (path == "-" ? ::fstat(STDIN_FILENO, &st) == 0 : ::stat(path.c_str(), &st) == 0) {
      auto same = std::find_if(seen.begin(), seen.end(),
                               [&](const Seen& s) { return s.device == st.st_dev && s.inode == st.st_ino; });
      if (same != seen.end()) {
        warnings.push_back(path == *same->path ? fmt::format("{} given twice: read once", shown(path))
                                               : fmt::format("{} given twice (same file as {}): read once", shown(path),
                                                             shown(*same->path)));
        continue;
      }
      seen.push_back({st.st_dev, st.st_ino, &path});
    }
    distinct.push_back(path);
  }
  return distinct;
}

namespace {

class Progress {
 public:
  Progress(bool enabled, uint64_t total) : enabled_(enabled && total > 0), total_(total) {}
  void update(uint64_t done) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200) && done < total_) return;
    last_ = now;
    double f = std::min(1.0, double(done) / double(total_));
    int bar = int(f * 30);
    fmt::print(stderr, "\r  [{:<30}] {:3.0f}%  {} / {} MB ", std::string(size_t(bar), '#'), f * 100, done >> 20,
               total_ >> 20);
  }
  void done() {
    if (enabled_) fmt::print(stderr, "\r{:<72}\r", "");
  }

 private:
  bool enabled_;
  uint64_t total_;
  std::chrono::steady_clock::time_point last_{};
};

// The time of an input's first line and whether it carries a zone; nullopt for stdin and
// pipes (not peeked at), and for an input that starts with no dated line or cannot be read
// (reported when it is opened for real).
struct FirstLine {
  CivilSeconds time;
  bool zoned;
};
std::optional<FirstLine> first_line_of(const std::string& path) {
  if (path == "-") return std::nullopt;
  try {
    LogLine l;
    if (eximlog::parse_line(logio::read_first_line(path), l) != LineKind::Unparsed)
      return FirstLine{l.time, l.has_timezone};
  } catch (const logio::InputError&) {
  }
  return std::nullopt;
}

// An engine for the run's thresholds and time range.
std::unique_ptr<Forensics> engine_for(const ScanOptions& o) {
  auto e = std::make_unique<Forensics>(o.thresholds);
  e->set_time_range(o.since, o.until);
  return e;
}

// Parse threads: the engine thread is busy all the way through, so the other cores.
int parse_workers(const ScanOptions& o) {
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  return o.workers > 0 ? o.workers : std::max(1, cores - 1);
}

// What shapes the engine's state besides the lines: the peak window, and the time range as
// far as it cuts into them (window_part).
std::string state_options(const ScanOptions& o) { return fmt::format("window={}", o.thresholds.window_seconds); }

// A --since/--until window drops the lines outside it: a state serves every window that keeps
// (or drops) the same lines. One that keeps all of what was read ("in": no window, or `--since
// 2h` after rotation) or none of it ("out": yesterday's logs under `--since 2h`) is stored under
// a slot of its own, its key saying the lines' time span, and serves any such window; one that
// cuts into them ("cut") only the same window, in one slot replaced by the next such run. So a
// relative window, another at every run, neither adds an entry per run nor is served a state
// made for another.
std::string window_class(const ScanOptions& o, CivilSeconds earliest, CivilSeconds latest) {
  if (earliest == 0 || (o.since <= earliest && o.until > latest)) return "in";
  if (o.until <= earliest || o.since > latest) return "out";
  return fmt::format("since={} until={}", o.since, o.until);
}
std::string_view slot_class(std::string_view window_class) { return window_class.size() > 3 ? "cut" : window_class; }
constexpr std::string_view kSlotClasses[] = {"in", "out", "cut"};

// The end of a stored state's key: the time span of the lines it was made from, and the class.
std::string window_part(const ScanOptions& o, CivilSeconds earliest, CivilSeconds latest) {
  return fmt::format("|times {}..{}|{}", earliest, latest, window_class(o, earliest, latest));
}
bool window_fits(std::string_view part, const ScanOptions& o) {
  long long earliest = 0, latest = 0;
  int used = 0;
  std::string text(part);
  if (std::sscanf(text.c_str(), "|times %lld..%lld|%n", &earliest, &latest, &used) != 2 || used == 0) return false;
  return part == window_part(o, earliest, latest);
}

// The time span of the understood lines of inputs [0, count).
std::pair<CivilSeconds, CivilSeconds> extent_of(const std::vector<InputSpan>& spans, size_t count) {
  InputSpan all;
  for (size_t i = 0; i < count; ++i) all.note_extent(spans[i].earliest, spans[i].latest);
  return {all.earliest, all.latest};
}

// The leading rotated logs of a run and their cache entry: their state is saved once the
// engine has read them, or loaded instead of reading them.
struct RotatedPrefix {
  size_t count = 0;  // sources[0, count) are rotated logs with an identity
  std::vector<std::string> paths;
  std::vector<FileIdentity> ids;
  std::string key;
};

RotatedPrefix rotated_prefix(const std::vector<std::unique_ptr<logio::ByteSource>>& sources,
                             const ScanOptions& options) {
  RotatedPrefix p;
  for (const auto& src : sources) {
    const std::string& path = src->name();
    if (path == "<stdin>" || !is_rotated_log_name(path)) break;
    auto id = identify_file(path);
    if (!id) break;
    p.ids.push_back(*id);
    p.paths.push_back(path);
  }
  p.count = p.ids.size();
  if (p.count) p.key = SummaryCache::key(p.ids, state_options(options));
  return p;
}

void save_prefix_state(const Forensics& engine, const Forensics* side, const std::vector<InputSpan>& spans,
                       size_t count, StateWriter& w) {
  w.u64(count);
  for (size_t i = 0; i < count; ++i) w.pod(spans[i]);
  engine.save_state(w, side);
}

// The actor kinds the second engine folds: senders and their domains are a third of the
// engine's time on a busy log (hundreds of thousands of senders seen once or twice, a cache
// miss each) and depend on no other kind.
constexpr uint32_t kSideKinds = Forensics::kSenderKinds;

void load_prefix_state(Forensics& engine, std::vector<InputSpan>& spans, size_t count, StateReader& r,
                       HeapPrefaulter& heap) {
  heap.expect_more(r.left());  // the tables take about what they take in the entry
  if (r.u64() != count) r.fail("another number of inputs");
  for (size_t i = 0; i < count; ++i) spans[i] = r.pod<InputSpan>();
  engine.load_state(r);
}

// Whether the files are still the ones the key was made from (a rotated file still being
// written to, just after rotation, must not be cached half-read).
bool unchanged_since(const RotatedPrefix& p, const ScanOptions& options) {
  std::vector<FileIdentity> ids;
  for (const auto& path : p.paths)
    if (auto id = identify_file(path)) ids.push_back(*id);
  return ids.size() == p.count && SummaryCache::key(ids, state_options(options)) == p.key;
}

// The live log: the one plain file after the rotated logs, the last input (or the only one).
// The engine's state at the end of its last complete line is stored for the next run, which
// resumes there; the unfinished line after it, if any, is folded after that state is taken.
struct LivePlan {
  size_t index = 0;  // sources[index]
  std::string path, slot;
  uint64_t size = 0;     // when the run began
  uint64_t end = 0;      // of its last complete line then: where the stored state stands
  uint64_t resumed = 0;  // where this run starts reading it: 0, or a stored entry's end
  LiveMark mark;         // at `end`, when the run began
};

std::optional<LivePlan> plan_live(const std::vector<std::unique_ptr<logio::ByteSource>>& sources,
                                  const RotatedPrefix& prefix, const ScanOptions& options) {
  if (sources.size() != prefix.count + 1 || !sources.back()->rereadable()) return std::nullopt;
  LivePlan p;
  p.index = prefix.count;
  p.path = sources.back()->name();
  p.size = sources.back()->total_size();
  auto end = end_of_complete_lines(p.path, p.size);
  auto mark = end && *end > 0 ? mark_live_log(p.path, *end) : std::nullopt;
  if (!mark) return std::nullopt;
  p.end = *end;
  p.mark = *mark;
  // One entry per set of rotated logs, replaced on every run; without rotated logs, per file.
  p.slot = prefix.count
               ? "live " + prefix.key
               : fmt::format("live {} {}:{}", SummaryCache::key({}, state_options(options)), mark->device, mark->inode);
  return p;
}

// The slot of a state (rotated logs, or the live log) for a class of windows (window_class).
std::string class_slot(std::string_view slot, std::string_view slot_class) {
  return fmt::format("{} {}", slot, slot_class);
}

// Loads the rotated logs' stored state made under a window that keeps the same lines as this
// run's. False when there is none, or one not used: what it filled must then be dropped.
bool load_prefix(const SummaryCache& cache, const RotatedPrefix& prefix, const ScanOptions& options, Forensics& engine,
                 std::vector<InputSpan>& spans, HeapPrefaulter& heap) {
  for (std::string_view slot_class : kSlotClasses) {
    std::string slot = class_slot(prefix.key, slot_class);
    bool read = false;
    auto fits = [&](std::string_view key) {
      return read = key.starts_with(slot) && window_fits(key.substr(slot.size()), options);
    };
    if (cache.load(slot, fits, [&](StateReader& r) { load_prefix_state(engine, spans, prefix.count, r, heap); }))
      return true;
    if (read) return false;  // damaged: removed, and rebuilt by this run
  }
  return false;
}

// Loads the stored state of the live log when the file still holds, byte for byte as far as
// the hashes tell, what was read up to the entry's end (same file, at least that long), made
// under a window that keeps the same lines as this run's.
bool load_live(const SummaryCache& cache, const ScanOptions& options, LivePlan& live, Forensics& engine,
               std::vector<InputSpan>& spans, HeapPrefaulter& heap) {
  for (std::string_view slot_class : kSlotClasses) {
    std::string slot = class_slot(live.slot, slot_class);
    bool read = false;
    auto fits = [&](std::string_view key) {
      size_t part = key.rfind("|times ");
      if (part == std::string_view::npos || !window_fits(key.substr(part), options)) return false;
      auto stored = parse_live_key(slot, key.substr(0, part));
      if (!stored || stored->offset > live.end) return false;
      auto now = mark_live_log(live.path, stored->offset);
      live.resumed = stored->offset;
      return read = now && *now == *stored;
    };
    if (cache.load(slot, fits, [&](StateReader& r) { load_prefix_state(engine, spans, live.index + 1, r, heap); }))
      return true;
    live.resumed = 0;
    if (read) return false;
  }
  return false;
}

// Folds the live log's unfinished last line (Exim is writing it), after the stored state was
// taken: a full parse reads it too, and the next run reads it again, whole by then.
void fold_unfinished_line(const LivePlan& live, const logio::ByteSource& src, Forensics& engine, Forensics* side,
                          InputSpan& span) {
  auto text = std::make_shared<std::string>();
  if (live.size <= live.end || !src.read_at(live.end, live.size - live.end, *text)) return;
  logio::Block block{*text, text, live.index, live.size, live.end};
  ParsedBatch batch;
  parse_block(block, batch);
  note_batch_span(batch, span);
  fold_batch(engine, batch, src, true);
  if (side) fold_batch(*side, batch, src, false);
}

}  // namespace

std::vector<std::string> order_by_first_timestamp(const std::vector<std::string>& inputs) {
  struct Dated {
    std::string path;
    CivilSeconds time;
  };
  std::vector<Dated> dated;
  for (const auto& path : inputs) {
    auto first = first_line_of(path);
    dated.push_back({path, first ? first->time : INT64_MAX});
  }
  std::stable_sort(dated.begin(), dated.end(), [](const Dated& a, const Dated& b) {
    bool a_stdin = a.path == "-", b_stdin = b.path == "-";
    if (a_stdin != b_stdin) return b_stdin;
    return a.time < b.time;
  });
  std::vector<std::string> out;
  for (auto& d : dated) out.push_back(std::move(d.path));
  return out;
}

bool logged_with_timezone(const std::vector<std::string>& inputs) {
  std::optional<FirstLine> earliest;
  for (const auto& path : inputs)
    if (auto first = first_line_of(path); first && (!earliest || first->time < earliest->time)) earliest = first;
  return earliest && earliest->zoned;
}

ScanResult scan_logs(const std::vector<std::string>& inputs, const ScanOptions& options) {
  auto started = std::chrono::steady_clock::now();
  // The actor tables' heap: on huge pages, its fresh pages faulted in off the engine thread.
  // The reserve holds the tables of the benchmark's 1.1 GB log (about 150 MB) and a week of it.
  HeapPrefaulter heap(size_t(16) << 20, size_t(256) << 20);
  // A re-run most likely loads the state the last run stored: its pages are faulted in while
  // the inputs are opened and identified, before the entry is even found.
  std::optional<SummaryCache> cache;
  if (!options.cache_dir.empty()) {
    cache.emplace(options.cache_dir, options.cache_max_bytes);
    heap.expect_at_least(cache->latest_entry_bytes());
  }
  ScanResult result;
  auto fresh_engine = [&] { return engine_for(options); };
  result.forensics = fresh_engine();

  std::vector<std::unique_ptr<logio::ByteSource>> sources;
  std::vector<std::string> files = distinct_files(inputs, result.report.warnings);
  result.repeated_inputs = inputs.size() - files.size();
  for (const auto& path : order_by_first_timestamp(files)) {
    try {
      auto src = logio::open_source(path, sources.size(), options.block_bytes ? options.block_bytes : kBlockBytes);
      result.report.inputs.push_back(src->name());
      sources.push_back(std::move(src));
    } catch (const logio::InputError& e) {
      result.report.warnings.push_back(e.what());
      ++result.unreadable_inputs;
    }
  }

  // Rotated logs read before and unchanged since: their state comes from the cache, and with
  // it the live log's up to where the last run stopped, if it is still the same file.
  std::vector<InputSpan> spans(sources.size());
  RotatedPrefix prefix;
  std::optional<LivePlan> live;
  size_t block_bytes = options.block_bytes ? options.block_bytes : kBlockBytes;
  if (cache) {
    prefix = rotated_prefix(sources, options);
    live = plan_live(sources, prefix, options);
    auto loaded = fresh_engine();
    bool resumed = live && load_live(*cache, options, *live, *loaded, spans, heap);
    if (!resumed) {  // what an entry not used may have filled
      spans.assign(sources.size(), InputSpan{});
      loaded = fresh_engine();
    }
    if (resumed || (prefix.count && load_prefix(*cache, prefix, options, *loaded, spans, heap))) {
      result.forensics = std::move(loaded);
      result.cached_inputs = prefix.count;
      result.resumed_bytes = resumed ? live->resumed : 0;
    } else {
      spans.assign(sources.size(), InputSpan{});
    }
    try {  // the live log up to its last complete line: the state there is the one stored
      if (live)
        sources[live->index] = logio::open_text_range(live->path, live->index, block_bytes, live->resumed, live->end);
    } catch (const logio::InputError&) {  // gone since it was opened: read whole, as it was opened
      result.forensics = fresh_engine(), result.cached_inputs = 0, result.resumed_bytes = 0;
      spans.assign(sources.size(), InputSpan{});
      live.reset();
    }
  }
  Forensics& engine = *result.forensics;
  // Rotated logs not served by the set's entry (a new day rotated in): each one's own summary,
  // merged from the cache; those without one are read whole, and their summary is made after
  // the report (store_file_summaries). Not under a time window, which would make a summary
  // per window.
  std::unique_ptr<RotatedSummaries> rotated;
  size_t first_read = result.cached_inputs;  // sources[0, first_read) came from the cache
  if (cache && options.file_summaries && prefix.count && !result.cached_inputs && options.since == INT64_MIN &&
      options.until == INT64_MAX) {
    rotated =
        std::make_unique<RotatedSummaries>(*cache, state_options(options), prefix.paths, prefix.ids, fresh_engine);
    // A summary is loaded into another arena (RotatedSummaries::fold_cached); merged, it adds
    // about half its bytes here (15 to 31 MB for the benchmark's days of 43 to 49 MB).
    rotated->on_load([&heap](uint64_t bytes) { heap.expect_more(bytes / 2); });
    first_read = rotated->fold_cached(engine, sources, spans, result.report.warnings);
  }
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  // A second engine thread repeats the joins by message id. On two cores, measured back to back
  // on the benchmark's 1.1 GB log, it shortened the longest thread (0.8 s against 1.1-1.6) but
  // cost 0-0.4 CPU-s more in all, and the first run over the rotated week peaked at 270-286 MB
  // against 245 (the limit is 256): it is the default from four cores on.
  int engines = options.slices > 1 || rotated ? 1 : options.engines > 0 ? options.engines : cores >= 4 ? 2 : 1;
  std::unique_ptr<Forensics> side_engine;
  if (engines >= 2) {
    side_engine = engine.split_off(kSideKinds);
    // The second engine's tables come from the brk heap too, where the HeapPrefaulter faults
    // pages in ahead: not from an arena of its thread's own (mmap'ed, and faulted in by that
    // engine itself, which perf showed as a sixth of its time).
    mallopt(M_ARENA_MAX, 1);
  }
  bool save_prefix = cache && prefix.count && !result.cached_inputs;
  std::string prefix_slot, prefix_aside;  // the state after the rotated logs, written aside until the run ends well
  auto save_prefix_now = [&] {
    auto [earliest, latest] = extent_of(spans, prefix.count);
    prefix_slot = class_slot(prefix.key, slot_class(window_class(options, earliest, latest)));
    prefix_aside = cache->write_aside(
        prefix_slot, prefix_slot + window_part(options, earliest, latest),
        [&](StateWriter& w) { save_prefix_state(engine, side_engine.get(), spans, prefix.count, w); });
    save_prefix = false;
  };

  int workers = parse_workers(options);
  std::vector<uint64_t> offsets;  // bytes of the inputs before each one, for progress
  uint64_t total = 0;
  for (const auto& src : sources) offsets.push_back(std::exchange(total, total + src->total_size()));
  Progress progress(options.progress && total >= options.progress_min_bytes, total);
  logio::OrderedPipeline<ParsedBatch> pipeline(workers, parse_block);
  std::vector<const logio::ByteSource*> source_at;  // by input index, while to_read owns them
  for (const auto& src : sources) source_at.push_back(src.get());
  std::vector<std::unique_ptr<logio::ByteSource>> to_read;  // the inputs not from the cache
  for (size_t i = first_read; i < sources.size(); ++i) to_read.push_back(std::move(sources[i]));
  // The tables grow to about an eighth of the log parsed (150 MB for the benchmark's 1.1 GB);
  // gzip counts its compressed bytes, a quarter of the text. A live log resumed from the cache
  // is parsed from where the stored state ends.
  for (const auto& src : to_read)
    heap.expect_more((src->total_size() - std::min(src->position(), src->total_size())) / (src->rereadable() ? 8 : 2));
  // The last input, a plain file, in slices: each later one by an engine of its own, started
  // now, the first by this engine after the inputs before it. Each engine reads and parses its
  // own slice: there is no parse thread to hand blocks to.
  std::unique_ptr<SlicedFold> sliced;
  std::unique_ptr<logio::ByteSource> sliced_source;
  size_t sliced_input = sources.size() - 1;
  if (!side_engine && !to_read.empty() && to_read.back()->rereadable() && options.slices != 1 &&
      sliced_input >= prefix.count) {
    const std::string path = to_read.back()->name();
    bool ranged = live && live->index == sliced_input;
    uint64_t from = ranged ? live->resumed : 0, to = ranged ? live->end : to_read.back()->total_size();
    // Asked for only: on two cores one engine with a parse thread beside it already keeps both
    // busy, and the slices' merges and their own tables cost more than they save (docs/logs.md).
    int slices = std::max(options.slices, 1);
    auto bounds = plan_slices(path, from, to, slices, options.slice_min_bytes, engine.warm_up_seconds());
    if (bounds.size() > 1) {
      // Every engine's tables from the brk heap, whose pages are faulted in ahead (as for two engines).
      mallopt(M_ARENA_MAX, 1);
      sliced = std::make_unique<SlicedFold>(path, sliced_input, block_bytes, std::move(bounds), to, fresh_engine);
      sliced_source = std::move(to_read.back());
      to_read.pop_back();
    }
  }
  auto fold_side = [&](ParsedBatch& b) { fold_batch(*side_engine, b, *source_at[b.block.input_index], false); };
  pipeline.run(
      to_read,
      [&](ParsedBatch& b) {
        if (save_prefix && b.block.input_index >= prefix.count) {
          if (side_engine) pipeline.wait_for_side();  // both engines at the end of the rotated logs
          save_prefix_now();
        }
        note_batch_span(b, spans[b.block.input_index]);
        fold_batch(engine, b, *source_at[b.block.input_index], true);
        progress.update(offsets[b.block.input_index] + b.block.position);
      },
      side_engine ? logio::OrderedPipeline<ParsedBatch>::ConsumeFn(fold_side) : nullptr);
  if (save_prefix) save_prefix_now();  // every input read is a rotated log, or the live log is sliced
  size_t slice_errors = 0;
  if (sliced) {
    try {
      sliced->finish(engine, spans[sliced_input]);
    } catch (const logio::InputError& e) {
      result.report.warnings.push_back(e.what());
      ++slice_errors;
    }
    result.slices_merged = sliced->merged(), result.slices_refolded = sliced->refolded();
  }
  progress.done();
  for (size_t i = 0; i < to_read.size(); ++i) sources[first_read + i] = std::move(to_read[i]);
  if (sliced_source) sources[sliced_input] = std::move(sliced_source);
  for (const auto& w : pipeline.warnings()) result.report.warnings.push_back(w);
  result.damaged_inputs = pipeline.warnings().size() + slice_errors;
  bool prefix_whole = result.damaged_inputs == 0;  // a damaged log is read again, to say so again
  for (size_t i = first_read; i < sources.size(); ++i) {
    if (sliced && i == sliced_input) continue;  // its slices were read by sources of their own, and checked
    if (std::string why = sources[i]->shortfall(spans[i].lines); !why.empty()) {
      result.report.warnings.push_back(why);
      ++result.damaged_inputs;
      prefix_whole &= i >= prefix.count;
    }
  }
  if (rotated) {
    result.files_from_cache = rotated->from_cache();
    result.files_read_again = rotated->read_again();
    if (prefix_whole)  // the files read whole, for their summaries after the report
      for (size_t i = first_read; i < prefix.count; ++i)
        result.unsummarized.push_back({prefix.paths[i], prefix.ids[i]});
  }
  if (!prefix_aside.empty() && prefix_whole && unchanged_since(prefix, options)) {
    cache->commit(prefix_slot, prefix_aside);
    result.cache_stored = true;
  } else {
    SummaryCache::discard(prefix_aside);
  }
  if (live) {
    // Stored when something new was read, all of it whole, from files that did not change since.
    if (live->end > live->resumed && result.damaged_inputs == 0 && mark_live_log(live->path, live->end) == live->mark &&
        (prefix.count == 0 || unchanged_since(prefix, options))) {
      auto [earliest, latest] = extent_of(spans, live->index + 1);
      std::string slot = class_slot(live->slot, slot_class(window_class(options, earliest, latest)));
      std::string key = live_key(slot, live->mark) + window_part(options, earliest, latest);
      std::string aside = cache->write_aside(
          slot, key, [&](StateWriter& w) { save_prefix_state(engine, side_engine.get(), spans, live->index + 1, w); });
      cache->commit(slot, aside);
      result.live_stored = !aside.empty();
    }
    fold_unfinished_line(*live, *sources[live->index], engine, side_engine.get(), spans[live->index]);
  }
  warn_about_overlaps(spans, result.report.inputs, result.report.warnings);
  result.foreign_inputs = warn_about_foreign_inputs(spans, result.report.inputs, result.report.warnings);
  engine.set_evidence_origin(std::nullopt);
  engine.finish();
  if (side_engine) {
    side_engine->set_evidence_origin(std::nullopt);
    side_engine->finish();
    engine.adopt(std::move(side_engine));
  }
  result.report.forensics = &engine;
  // The sources are still open here: the findings read their evidence lines back from them.
  engine.set_evidence_reader(
      [&sources](uint32_t input, uint64_t offset, size_t length, std::string& out) {
        return input < sources.size() && sources[input]->read_at(offset, length, out);
      },
      result.report.inputs);
  result.report.findings = find_abuse(engine);
  result.report.lists_mailed_again = lists_mailed_again(engine, result.report.findings);
  engine.set_evidence_reader(nullptr, result.report.inputs);  // the sources close on return
  result.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

size_t store_file_summaries(const ScanResult& result, const ScanOptions& options) {
  if (result.unsummarized.empty() || options.cache_dir.empty()) return 0;
  SummaryCache cache(options.cache_dir, options.cache_max_bytes);
  return store_file_summaries(
      cache, state_options(options), result.unsummarized, [&] { return engine_for(options); }, parse_workers(options));
}

}  // namespace sw::stats

#include "stats/rotated_summaries.h"

#include <malloc.h>

#include <exception>
#include <optional>
#include <thread>

#include "logio/ordered_pipeline.h"
#include "stats/log_slices.h"

namespace sw::stats {

namespace {

// What a summary holds besides the engine's state.
struct SummaryHead {
  uint64_t file_checksum = 0;  // whole_file_checksum() of the file it was made from
  uint64_t warm_end = 0;       // where the file's own engine began counting, in the file's text
  InputSpan counted;           // what it counted
};

}  // namespace

std::string file_summary_key(const FileIdentity& id, std::string_view options) {
  return "file " + SummaryCache::key({id}, options);
}

RotatedSummaries::RotatedSummaries(const SummaryCache& cache, std::string options, std::vector<std::string> paths,
                                   std::vector<FileIdentity> ids,
                                   std::function<std::unique_ptr<Forensics>()> make_engine)
    : cache_(cache), options_(std::move(options)), paths_(std::move(paths)), ids_(std::move(ids)),
      make_engine_(std::move(make_engine)) {}

size_t RotatedSummaries::fold_cached(Forensics& engine, std::vector<std::unique_ptr<logio::ByteSource>>& sources,
                                     std::vector<InputSpan>& spans, std::vector<std::string>& warnings) {
  size_t i = 0;
  for (; i < paths_.size(); ++i) {
    std::unique_ptr<Forensics> stored = make_engine_();
    SummaryHead head;
    bool loaded = false;
    std::exception_ptr failed;
    // On a thread of its own, so the stored tables come from a malloc arena of their own (the
    // next such thread reuses it), freed after their merge: in the heap where the merged
    // tables grow, their holes would stay resident, a summary's worth per file. Strings read,
    // not mapped: the merge copies every evidence line, and would make the whole file resident.
    std::thread([&] {
      try {
        loaded = cache_.load(
            file_summary_key(ids_[i], options_),
            [&](StateReader& r) {
              head = r.pod<SummaryHead>();
              if (expect_heap_) expect_heap_(r.left());
              stored->load_state(r);
              if (!stored->later_slice()) r.fail("not the state of a file's own engine");
            },
            SummaryCache::Strings::Read);
      } catch (...) {
        failed = std::current_exception();
      }
    }).join();
    if (failed) std::rethrow_exception(failed);
    // Still the bytes it was made from, all of them: the identity looks at the ends only.
    if (!loaded || whole_file_checksum(paths_[i]) != head.file_checksum) break;
    // The file's first minutes, up to where its own engine began counting; then its summary.
    engine.enter_next_slice();
    logio::ByteSource& src = *sources[i];
    WarmEnd finder(engine.warm_up_seconds());
    ParsedBatch batch;
    bool reached = false, merged = false;
    auto fold_part = [&](const logio::Block& part) {
      batch.clear();
      parse_block(part, batch);
      note_batch_span(batch, spans[i]);
      fold_batch(engine, batch, src, true);
    };
    for (logio::Block blk = src.next_block(); !blk.empty() && !merged; blk = src.next_block()) {
      auto parts = reached ? std::nullopt : finder.split(blk);
      if (!parts) {
        fold_part(blk);
        continue;
      }
      reached = true;
      auto& [warm, counted] = *parts;
      fold_part(warm);
      if (counted.offset == head.warm_end && engine.merge(std::move(stored))) {
        spans[i].add(head.counted);
        merged = true;
      } else {
        fold_part(counted);  // read whole instead
      }
    }
    engine.set_evidence_origin(std::nullopt);
    if (merged) {
      ++from_cache_;
      src.stop_reading();  // the rest of it came from the summary
      continue;
    }
    ++read_again_;
    if (std::string why = src.shortfall(spans[i].lines); !why.empty()) warnings.push_back(why);
  }
  // The stored tables' arena, all free now: its pages back to the system before the other
  // inputs are read.
  if (from_cache_) malloc_trim(0);
  return i;
}

namespace {

// Folds one rotated log alone as its summary's engine does: its first minutes warm, the rest
// counted, every evidence line copied (a later run finds the file at another place among
// its inputs). False when the file is shorter than the warm-up, or was read only in part.
bool fold_alone(Forensics& own, std::vector<std::unique_ptr<logio::ByteSource>>& one, int workers, SummaryHead& head) {
  WarmEnd finder(own.warm_up_seconds());
  bool counting = false;
  uint64_t lines = 0;
  ParsedBatch tail;
  logio::OrderedPipeline<ParsedBatch> pipeline(workers, parse_block);
  pipeline.run(one, [&](ParsedBatch& b) {
    lines += b.count + b.skipped.size();
    if (counting) {
      note_batch_span(b, head.counted);
      fold_batch_copying(own, b);
      return;
    }
    auto parts = finder.split(b.block);
    if (!parts) {
      warm_batch(own, b);
      return;
    }
    // The block that holds the warm end, parsed again in two: before it, and from it on.
    ParsedBatch warm;
    parse_block(parts->first, warm);
    warm_batch(own, warm);
    own.start_counting(true);
    counting = true;
    head.warm_end = parts->second.offset;
    parse_block(parts->second, tail);
    note_batch_span(tail, head.counted);
    fold_batch_copying(own, tail);
  });
  own.set_evidence_origin(std::nullopt);
  return counting && pipeline.warnings().empty() && one[0]->shortfall(lines).empty();
}

}  // namespace

size_t store_file_summaries(const SummaryCache& cache, std::string_view options,
                            const std::vector<std::pair<std::string, FileIdentity>>& files,
                            const std::function<std::unique_ptr<Forensics>()>& make_engine, int workers) {
  size_t stored = 0;
  for (const auto& [path, id] : files) {
    std::string key = file_summary_key(id, options), aside;
    try {
      std::vector<std::unique_ptr<logio::ByteSource>> one;
      one.push_back(logio::open_source(path, 0, kBlockBytes));
      std::unique_ptr<Forensics> own = make_engine();
      SummaryHead head;
      auto checksum = whole_file_checksum(path);
      if (!checksum || !fold_alone(*own, one, workers, head)) continue;
      head.file_checksum = *checksum;
      aside = cache.write_aside(key, [&](StateWriter& w) {
        w.pod(head);
        own->save_state(w);
      });
    } catch (const logio::InputError&) {
      continue;  // gone since the report read it: nothing to store
    }
    auto now = identify_file(path);
    if (now && file_summary_key(*now, options) == key && !aside.empty()) {
      cache.commit(key, aside);
      ++stored;
    } else {
      SummaryCache::discard(aside);
    }
  }
  return stored;
}

}  // namespace sw::stats

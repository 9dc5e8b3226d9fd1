#include "stats/rotated_summaries.h"

#include <fmt/format.h>

namespace sw::stats {

namespace {

// The part [from, to) of a block, as a block of its own (the same bytes, kept alive alike).
logio::Block part_of(const logio::Block& b, size_t from, size_t to) {
  logio::Block part = b;
  part.bytes = b.bytes.substr(from, to - from);
  part.offset = b.offset + from;
  return part;
}

}  // namespace

RotatedSummaries::RotatedSummaries(const SummaryCache& cache, std::string options, std::vector<std::string> paths,
                                   std::vector<FileIdentity> ids,
                                   std::function<std::unique_ptr<Forensics>()> make_engine)
    : cache_(cache), options_(std::move(options)), paths_(std::move(paths)), ids_(std::move(ids)),
      make_engine_(std::move(make_engine)) {}

std::string RotatedSummaries::key_of(size_t index) const {
  return "file " + SummaryCache::key({ids_[index]}, options_);
}

size_t RotatedSummaries::fold_cached(Forensics& engine, std::vector<std::unique_ptr<logio::ByteSource>>& sources,
                                     std::vector<InputSpan>& spans, std::vector<std::string>& warnings) {
  size_t i = 0;
  for (; i < paths_.size(); ++i) {
    std::unique_ptr<Forensics> stored = make_engine_();
    Summary summary;
    bool loaded = cache_.load(key_of(i), [&](StateReader& r) {
      summary.warm_end = r.u64();
      summary.counted = r.pod<InputSpan>();
      stored->load_state(r);
      if (!stored->later_slice()) r.fail("not the state of a file's own engine");
    });
    if (!loaded) break;
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
      std::optional<size_t> at = reached ? std::nullopt : finder.find(blk.bytes);
      if (!at) {
        fold_part(blk);
        continue;
      }
      reached = true;
      fold_part(part_of(blk, 0, *at));
      if (blk.offset + *at == summary.warm_end && engine.merge(std::move(stored))) {
        spans[i].add(summary.counted);
        merged = true;
      } else {
        fold_part(part_of(blk, *at, blk.bytes.size()));  // read whole instead
      }
    }
    engine.set_evidence_origin(std::nullopt);
    if (merged) {
      ++from_cache_;
      continue;
    }
    ++read_again_;
    if (std::string why = src.shortfall(spans[i].lines); !why.empty()) warnings.push_back(why);
  }
  return i;
}

void RotatedSummaries::fold(Forensics& engine, ParsedBatch& b, const logio::ByteSource& src) {
  if (b.block.input_index != index_) {
    finish(engine);
    index_ = b.block.input_index;
    engine.enter_next_slice();
    own_ = make_engine_();
    warm_end_finder_.emplace(engine.warm_up_seconds());
    summary_ = {};
    counting_ = false;
  }
  if (counting_) {
    note_batch_span(b, summary_.counted);
    fold_batch_copying(*own_, b);
    return;
  }
  std::optional<size_t> at = warm_end_finder_->find(b.block.bytes);
  if (!at) {
    fold_batch(engine, b, src, true);
    warm_batch(*own_, b);
    return;
  }
  // The block that holds the warm end, parsed again in two: before it, and from it on.
  head_.clear(), tail_.clear();
  parse_block(part_of(b.block, 0, *at), head_);
  parse_block(part_of(b.block, *at, b.block.bytes.size()), tail_);
  fold_batch(engine, head_, src, true);
  warm_batch(*own_, head_);
  own_->start_counting(true);
  counting_ = true;
  summary_.warm_end = b.block.offset + *at;
  note_batch_span(tail_, summary_.counted);
  fold_batch_copying(*own_, tail_);
}

void RotatedSummaries::finish(Forensics& engine) {
  if (!own_) return;
  std::unique_ptr<Forensics> own = std::move(own_);
  if (!counting_) return;  // shorter than its warm-up: `engine` counted all of it
  own->set_evidence_origin(std::nullopt);
  // Written before the merge, which takes the engine apart.
  std::string aside = cache_.write_aside(key_of(index_), [&](StateWriter& w) {
    w.u64(summary_.warm_end);
    w.pod(summary_.counted);
    own->save_state(w);
  });
  if (!aside.empty()) asides_.push_back({index_, key_of(index_), aside});
  if (!engine.merge(std::move(own))) {
    fold_rest(engine, index_, summary_.warm_end);
    ++folded_twice_;
  }
}

void RotatedSummaries::fold_rest(Forensics& engine, size_t index, uint64_t warm_end) {
  try {
    auto src = logio::open_source(paths_[index], index, kBlockBytes);
    ParsedBatch batch;
    uint64_t lines = 0;
    for (logio::Block blk = src->next_block(); !blk.empty(); blk = src->next_block()) {
      if (blk.offset + blk.bytes.size() <= warm_end) continue;
      batch.clear();
      parse_block(blk.offset < warm_end ? part_of(blk, warm_end - blk.offset, blk.bytes.size()) : blk, batch);
      lines += batch.count + batch.skipped.size();
      fold_batch(engine, batch, *src, true);
    }
    engine.set_evidence_origin(std::nullopt);
    if (lines != summary_.counted.lines) warnings_.push_back(paths_[index] + ": changed while it was read");
  } catch (const logio::InputError& e) {
    warnings_.push_back(e.what());
  }
}

void RotatedSummaries::commit(bool whole) {
  for (const Aside& a : asides_) {
    auto now = whole ? identify_file(paths_[a.index]) : std::nullopt;
    bool unchanged = now && SummaryCache::key({*now}, options_) == SummaryCache::key({ids_[a.index]}, options_);
    if (unchanged) {
      cache_.commit(a.key, a.path);
      ++stored_;
    } else {
      SummaryCache::discard(a.path);
    }
  }
  asides_.clear();
}

}  // namespace sw::stats

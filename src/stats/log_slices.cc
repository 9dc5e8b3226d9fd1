#include "stats/log_slices.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "eximlog/line_parser.h"
#include "logio/byte_source.h"

namespace sw::stats {

namespace {

// The first byte of the line after the one holding `offset` (`to` when there is none).
std::optional<uint64_t> next_line_start(int fd, uint64_t offset, uint64_t to) {
  std::string buf(64 * 1024, '\0');
  for (uint64_t at = offset; at < to;) {
    ssize_t n = pread(fd, buf.data(), std::min<uint64_t>(buf.size(), to - at), off_t(at));
    if (n <= 0) return std::nullopt;
    if (const void* nl = std::memchr(buf.data(), '\n', size_t(n)))
      return at + uint64_t(static_cast<const char*>(nl) - buf.data()) + 1;
    at += uint64_t(n);
  }
  return to;
}

// Fills in where a later slice starts counting (WarmEnd), before `end`.
void find_warm_end(const std::string& path, SliceBounds& b, uint64_t end, CivilSeconds warm_up) {
  b.warm_end = end;
  auto src = logio::open_text_range(path, 0, 1 << 20, b.start, end);
  WarmEnd finder(warm_up);
  for (logio::Block blk = src->next_block(); !blk.empty(); blk = src->next_block()) {
    if (auto at = finder.find(blk.bytes)) {
      b.warm_end = blk.offset + *at;
      b.warm_enough = true;
      return;
    }
  }
}

}  // namespace

std::optional<size_t> WarmEnd::find(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    const void* nl = std::memchr(s.data() + pos, '\n', s.size() - pos);
    size_t stop = nl ? size_t(static_cast<const char*>(nl) - s.data()) : s.size();
    eximlog::parse_line(s.substr(pos, stop - pos), line_, eximlog::LineFields::Essential);
    if (line_.kind != eximlog::LineKind::Unparsed && line_.kind != eximlog::LineKind::Continuation) {
      if (start_ == 0) start_ = line_.time;
      else if (line_.time >= start_ + warm_up_) return pos;
    }
    pos = stop + 1;
  }
  return std::nullopt;
}

std::optional<std::pair<logio::Block, logio::Block>> WarmEnd::split(const logio::Block& b) {
  std::optional<size_t> at = find(b.bytes);
  if (!at) return std::nullopt;
  auto part = [&](size_t from, size_t to) {
    logio::Block p = b;
    p.bytes = b.bytes.substr(from, to - from);
    p.offset = b.offset + from;
    return p;
  };
  return std::pair(part(0, *at), part(*at, b.bytes.size()));
}

std::vector<SliceBounds> plan_slices(const std::string& path, uint64_t from, uint64_t to, int slices,
                                     uint64_t min_bytes, CivilSeconds warm_up) {
  std::vector<SliceBounds> out{{from, from, true}};
  if (slices < 2 || to <= from) return out;
  uint64_t n = std::min<uint64_t>(uint64_t(slices), (to - from) / std::max<uint64_t>(min_bytes, 1));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  for (uint64_t i = 1; i < n; ++i) {
    auto start = next_line_start(fd, from + (to - from) * i / n - 1, to);
    if (!start) break;
    if (*start <= out.back().start || *start >= to) continue;
    out.push_back({*start, *start, false});
  }
  ::close(fd);
  try {
    for (size_t i = 1; i < out.size(); ++i)
      find_warm_end(path, out[i], i + 1 < out.size() ? out[i + 1].start : to, warm_up);
  } catch (const logio::InputError&) {
    out.resize(1);
  }
  return out;
}

SlicedFold::SlicedFold(std::string path, size_t input_index, size_t block_bytes, std::vector<SliceBounds> bounds,
                       uint64_t to, std::function<std::unique_ptr<Forensics>()> make_engine)
    : path_(std::move(path)), input_index_(input_index), block_bytes_(block_bytes), bounds_(std::move(bounds)), to_(to),
      make_engine_(std::move(make_engine)), slices_(bounds_.size()) {
  for (size_t i = 1; i < slices_.size(); ++i) slices_[i].thread = std::thread([this, i] { run(i); });
}

SlicedFold::~SlicedFold() {
  for (Slice& s : slices_)
    if (s.thread.joinable()) s.thread.join();
}

void SlicedFold::fold(Forensics& engine, uint64_t a, uint64_t b, InputSpan* span) const {
  if (a >= b) return;
  auto src = logio::open_text_range(path_, input_index_, block_bytes_, a, b);
  ParsedBatch batch;
  uint64_t lines = 0;
  for (logio::Block blk = src->next_block(); !blk.empty(); blk = src->next_block()) {
    batch.clear();
    parse_block(blk, batch);
    lines += batch.count + batch.skipped.size();
    if (!span) {
      warm_batch(engine, batch);
      continue;
    }
    note_batch_span(batch, *span);
    fold_batch(engine, batch, *src, true);
  }
  engine.set_evidence_origin(std::nullopt);
  if (std::string why = src->shortfall(lines); !why.empty()) throw logio::InputError(why);
}

void SlicedFold::count_slice(Forensics& engine, size_t i, InputSpan& span) const {
  bool last = i + 1 == bounds_.size();
  fold(engine, i ? bounds_[i].warm_end : bounds_[0].start, last ? to_ : bounds_[i + 1].start, &span);
  if (last) return;
  engine.enter_next_slice();
  fold(engine, bounds_[i + 1].start, bounds_[i + 1].warm_end, &span);
}

void SlicedFold::run(size_t i) {
  Slice& s = slices_[i];
  try {
    s.engine = make_engine_();
    fold(*s.engine, bounds_[i].start, bounds_[i].warm_end, nullptr);
    s.engine->start_counting(bounds_[i].warm_enough);
    count_slice(*s.engine, i, s.span);
  } catch (...) {
    s.error = std::current_exception();
  }
}

void SlicedFold::finish(Forensics& first, InputSpan& span) {
  count_slice(first, 0, span);
  for (size_t i = 1; i < slices_.size(); ++i) {
    Slice& s = slices_[i];
    s.thread.join();
    if (!s.error && first.merge(std::move(s.engine))) {
      span.add(s.span);
      ++merged_;
      continue;
    }
    s.engine.reset();
    count_slice(first, i, span);  // read errors are met again here, and thrown
    ++refolded_;
  }
}

}  // namespace sw::stats

// Google Benchmark micro-benchmarks for the main-log line parser (src/eximlog/line_parser.h).
//
// The corpus is made in memory by the same generator as bench/logs/run.sh (gen_mainlog's
// simulation, 32 MB, seed 1), so the numbers need no input file and are reproducible.
// Following the repository's benchmark habit (docs/benchmarks.md), every benchmark first
// checks the parser against a reference count taken with plain substring tests, and refuses
// to time a parser that disagrees; BM_split_lines is the baseline twin (finding line ends
// only), so parse cost = BM_parse_all - BM_split_lines.
//
// Not built by default while the parser API settles: configure with -DSW_BENCH_MICRO=ON
// (see bench/logs/README.md).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "eximlog/line_parser.h"
#include "eximlog/log_line.h"
#include "eximlog/message_id.h"
#include "gen_sim.h"
#include "gen_world.h"

namespace {

using sw::eximlog::LineKind;
using sw::eximlog::LogLine;

struct Corpus {
  std::string bytes;
  std::vector<std::string_view> lines;
  std::vector<std::string_view> ids;  // one message id per arrival line
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus k;
    char* buf = nullptr;
    size_t len = 0;
    FILE* f = open_memstream(&buf, &len);
    if (!f) std::abort();
    {
      sw::bench::gen::Config cfg;
      cfg.size_bytes = 32u * 1000 * 1000;
      cfg.seed = 1;
      cfg.upgrade_at = 0.5;  // both id forms
      sw::bench::gen::World world = sw::bench::gen::build_world(cfg.seed);
      sw::bench::gen::Sim sim(cfg, world, f);
      sim.run();
    }
    std::fclose(f);
    k.bytes.assign(buf, len);
    std::free(buf);
    std::string_view all = k.bytes;
    for (size_t pos = 0; pos < all.size();) {
      size_t nl = all.find('\n', pos);
      if (nl == std::string_view::npos) nl = all.size();
      k.lines.push_back(all.substr(pos, nl - pos));
      pos = nl + 1;
    }
    LogLine ll;
    for (std::string_view line : k.lines)
      if (sw::eximlog::parse_line(line, ll) == LineKind::Arrival && !ll.message_id.empty())
        k.ids.push_back(ll.message_id);
    return k;
  }();
  return c;
}

// Reference counts by substring, independent of the parser.
bool parser_agrees(benchmark::State& state) {
  size_t want_arrivals = 0, want_deliveries = 0, got_arrivals = 0, got_deliveries = 0;
  LogLine ll;
  for (std::string_view line : corpus().lines) {
    if (line.find(" <= ") != std::string_view::npos) ++want_arrivals;
    if (line.find(" => ") != std::string_view::npos || line.find(" -> ") != std::string_view::npos) ++want_deliveries;
    LineKind k = sw::eximlog::parse_line(line, ll);
    if (k == LineKind::Arrival) ++got_arrivals;
    if (k == LineKind::Delivery) ++got_deliveries;
  }
  if (want_arrivals == got_arrivals && want_deliveries == got_deliveries) return true;
  std::string msg = "parser disagrees with the reference: arrivals " + std::to_string(got_arrivals) + "/" +
                    std::to_string(want_arrivals) + ", deliveries " + std::to_string(got_deliveries) + "/" +
                    std::to_string(want_deliveries);
  state.SkipWithError(msg.c_str());
  return false;
}

// Baseline: only find the line ends, as every reader must.
void BM_split_lines(benchmark::State& state) {
  const std::string& bytes = corpus().bytes;
  for (auto _ : state) {
    size_t n = 0;
    const char* p = bytes.data();
    const char* end = p + bytes.size();
    while (p < end) {
      const void* nl = std::memchr(p, '\n', size_t(end - p));
      p = nl ? static_cast<const char*>(nl) + 1 : end;
      ++n;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes.size()));
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(corpus().lines.size()));
}
BENCHMARK(BM_split_lines)->Unit(benchmark::kMillisecond);

// Every line of a realistic mix, with all fields or (as `spamwarden logs` parses) only the
// fields forensics reads.
void parse_every_line(benchmark::State& state, sw::eximlog::LineFields fields) {
  if (!parser_agrees(state)) return;
  const auto& lines = corpus().lines;
  LogLine ll;
  for (auto _ : state) {
    for (std::string_view line : lines) {
      benchmark::DoNotOptimize(sw::eximlog::parse_line(line, ll, fields));
      benchmark::ClobberMemory();
    }
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(corpus().bytes.size()));
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(lines.size()));
}
void BM_parse_all(benchmark::State& state) { parse_every_line(state, sw::eximlog::LineFields::All); }
void BM_parse_all_essential(benchmark::State& state) { parse_every_line(state, sw::eximlog::LineFields::Essential); }
BENCHMARK(BM_parse_all)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_parse_all_essential)->Unit(benchmark::kMillisecond);

// One line shape at a time: arg = LineKind. Shows which shapes dominate the cost.
void BM_parse_kind(benchmark::State& state) {
  const LineKind want = LineKind(state.range(0));
  std::vector<std::string_view> subset;
  size_t bytes = 0;
  LogLine ll;
  for (std::string_view line : corpus().lines)
    if (sw::eximlog::parse_line(line, ll) == want) {
      subset.push_back(line);
      bytes += line.size() + 1;
    }
  if (subset.empty()) {
    state.SkipWithError("no lines of this kind in the corpus");
    return;
  }
  for (auto _ : state) {
    for (std::string_view line : subset) {
      benchmark::DoNotOptimize(sw::eximlog::parse_line(line, ll));
      benchmark::ClobberMemory();
    }
  }
  state.SetLabel(sw::eximlog::line_kind_name(want));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(subset.size()));
}
BENCHMARK(BM_parse_kind)
    ->Arg(int(LineKind::Arrival))
    ->Arg(int(LineKind::Delivery))
    ->Arg(int(LineKind::Defer))
    ->Arg(int(LineKind::Bounce))
    ->Arg(int(LineKind::Completed))
    ->Arg(int(LineKind::Cwd))
    ->Arg(int(LineKind::RejectRcpt))
    ->Arg(int(LineKind::AuthFailure))
    ->Arg(int(LineKind::Connection))
    ->Arg(int(LineKind::CpanelIdentification))
    ->Arg(int(LineKind::Other))
    ->Unit(benchmark::kMillisecond);

// The join key every line with an id is hashed by.
void BM_message_key(benchmark::State& state) {
  const auto& ids = corpus().ids;
  if (ids.empty()) {
    state.SkipWithError("no message ids parsed");
    return;
  }
  sw::eximlog::MessageKeyHash hash;
  for (auto _ : state) {
    size_t acc = 0;
    for (std::string_view id : ids) acc ^= hash(sw::eximlog::message_key(id));
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(ids.size()));
}
BENCHMARK(BM_message_key)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

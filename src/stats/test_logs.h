// Files written and logs built in tests: hours of log for the code that needs them (slices,
// rotated logs' own summaries) in the sanitizer build too, which has no generator.
#pragma once
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "base/civil_time.h"
#include "base/test_files.h"

namespace sw::stats::testing {

using sw::testing::file_bytes;
using sw::testing::write_file;

inline void write_gzip(const std::string& path, std::string_view bytes) {
  gzFile g = gzopen(path.c_str(), "wb");
  gzwrite(g, bytes.data(), unsigned(bytes.size()));
  gzclose(g);
}

// The log as Exim's default log_selector writes it: arrivals without the "for" list, so that
// recipients are counted from delivery lines, after the arrival.
inline std::string without_recipient_lists(std::string_view log) {
  std::string out;
  for (size_t pos = 0; pos < log.size();) {
    size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    std::string_view line = log.substr(pos, end - pos);
    if (size_t f = line.find(" for "); line.find(" <= ") != std::string_view::npos && f != std::string_view::npos)
      line = line.substr(0, f);
    out.append(line).push_back('\n');
    pos = end + 1;
  }
  return out;
}

// Three hours of a small server's log, built here (so the slices' threads also run in the
// sanitizer build, which has no generator): submissions from scripts with their cwd= lines,
// authenticated mail from a few accounts, deferrals retried an hour later, a dictionary attack.
inline std::string built_log() {
  std::string log;
  CivilSeconds t0 = *parse_civil("2026-11-01 00:00:00");
  for (int i = 0; i < 2160; ++i) {
    CivilSeconds t = t0 + i * 5;
    std::string id = fmt::format("1tZZZZ-{:06d}-ZZ", i), when = format_civil(t), later = format_civil(t + 3600);
    uint32_t pid = 10000 + uint32_t(i) * 3;
    if (i % 3 == 0) {
      log += fmt::format("{} [{}] cwd=/home/u{}/public_html 3 args: /usr/sbin/sendmail -t -i\n", when, pid, i % 4);
      log += fmt::format("{} [{}] {} <= u{}@host.example U=u{} P=local S=900 T=\"News {}\" for a{}@far.test\n", when,
                         pid, id, i % 4, i % 4, i, i);
    } else {
      log += fmt::format(
          "{} [{}] {} <= acct{}@shop.example H=(pc) [198.51.100.{}]:4000 P=esmtpa A=dovecot_login:acct{}@shop.example "
          "S=2000 T=\"Invoice {}\" for b{}@far.test c{}@far.test\n",
          when, pid, id, i % 7, i % 50, i % 7, i, i, i);
    }
    if (i % 10 == 0) {
      log += fmt::format("{} [{}] {} == a{}@far.test R=dnslookup T=remote_smtp defer (-44): retry later\n", when,
                         pid + 1, id, i);
      continue;  // delivered and completed an hour later, below
    }
    log += fmt::format("{} [{}] {} => a@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]\n", when, pid + 1,
                       id);
    log += fmt::format("{} [{}] {} Completed\n", when, pid + 1, id);
    if (i % 2 == 0)
      log += fmt::format(
          "{} [{}] H=(x) [203.0.113.5]:4000 F=<a@spam.test> rejected RCPT <u{}@shop.example>: Unknown user\n", when,
          pid + 2, i);
  }
  // The deferred ones, an hour on (appended: a later line may come before an earlier one by
  // an hour here, which is what the merge must not mistake for its own lines).
  std::string retries;
  for (int i = 0; i < 2160 - 720; i += 10) {
    std::string id = fmt::format("1tZZZZ-{:06d}-ZZ", i), when = format_civil(t0 + i * 5 + 3600);
    retries += fmt::format("{} {} => a@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]\n", when, id);
    retries += fmt::format("{} {} Completed\n", when, id);
  }
  // Interleave the retries in time order.
  std::vector<std::string> lines;
  for (std::string_view all : {std::string_view(log), std::string_view(retries)})
    for (size_t pos = 0; pos < all.size();) {
      size_t end = all.find('\n', pos);
      lines.emplace_back(all.substr(pos, end - pos));
      pos = end + 1;
    }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const std::string& a, const std::string& b) { return a.compare(0, 19, b, 0, 19) < 0; });
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace sw::stats::testing

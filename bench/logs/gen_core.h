// Building blocks of the synthetic Exim main-log generator: a seeded PRNG, a large output
// buffer with cheap appenders, a per-second timestamp cache, Exim message ids and Exim's
// subject escaping. Everything is deterministic: no clocks, no random_device, no hashing of
// pointers, and only integer or glibc-libm arithmetic (same binary => same bytes).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sw::bench::gen {

// splitmix64: seeds the main generator and hashes indices into stable values.
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
inline uint64_t mix64(uint64_t v) { return splitmix64(v); }

// xoshiro256**: fast, good quality, fully specified.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n); the multiply-shift bias is below 2^-32 and irrelevant here.
  uint32_t below(uint32_t n) { return uint32_t(((next() >> 32) * uint64_t(n)) >> 32); }
  uint32_t range(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  double unit() { return double(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  // Exponential with the given mean.
  double expo(double mean) { return -mean * std::log1p(-unit()); }
  // Skewed index in [0, n): small indices are much more likely (power law, exponent k).
  uint32_t skewed(uint32_t n, double k) {
    uint32_t i = uint32_t(double(n) * std::pow(unit(), k));
    return i < n ? i : n - 1;
  }
  template <class T, size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(uint32_t(v.size()))];
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A growable byte sink for the log, flushed to a FILE in large blocks. A line is at most
// Exim's 8 KiB log buffer, so checking free space once per line is enough.
class Out {
 public:
  static constexpr size_t kBlock = 8u << 20;
  static constexpr size_t kSlack = 64u << 10;

  explicit Out(FILE* f) : f_(f), buf_(kBlock + kSlack) { p_ = buf_.data(); }
  ~Out() { flush(); }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  void reserve_line() {
    if (size_t(p_ - buf_.data()) >= kBlock) flush();
  }
  void flush() {
    size_t n = size_t(p_ - buf_.data());
    if (n && f_ && std::fwrite(buf_.data(), 1, n, f_) != n) failed_ = true;
    flushed_ += n;
    p_ = buf_.data();
  }
  uint64_t bytes() const { return flushed_ + uint64_t(p_ - buf_.data()); }
  bool failed() const { return failed_; }

  void c(char ch) { *p_++ = ch; }
  void s(std::string_view v) {
    std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
  }
  void s(const std::string& v) { s(std::string_view(v)); }
  void s(const char* v) { s(std::string_view(v)); }
  void u(uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
      tmp[n++] = char('0' + v % 10);
      v /= 10;
    } while (v);
    while (n) *p_++ = tmp[--n];
  }
  void i(int64_t v) {
    if (v < 0) {
      c('-');
      u(uint64_t(-v));
    } else {
      u(uint64_t(v));
    }
  }
  void nl() { *p_++ = '\n'; }

 private:
  FILE* f_;
  std::vector<char> buf_;
  char* p_;
  uint64_t flushed_ = 0;
  bool failed_ = false;
};

// Civil date from days since 1970-01-01 (H. Hinnant's algorithm); proleptic Gregorian.
inline void civil_from_days(int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = int(yy + (m <= 2));
}
inline int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

// "YYYY-MM-DD HH:MM:SS" for a Unix second, recomputed only when the second changes.
// The log is written as if the host ran with timezone = UTC, so time never steps back.
class TimestampCache {
 public:
  const char* get(int64_t sec) {
    if (sec != cur_) fill(sec);
    return buf_;
  }
  static constexpr size_t kLen = 19;

 private:
  void fill(int64_t sec) {
    cur_ = sec;
    int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
    int64_t rem = sec - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    std::snprintf(buf_, sizeof buf_, "%04d-%02u-%02u %02d:%02d:%02d", y, m, d, int(rem / 3600), int(rem / 60 % 60),
                  int(rem % 60));
  }
  int64_t cur_ = INT64_MIN;
  char buf_[32] = {};
};

inline constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

inline void base62(char* out, uint64_t v, int width) {
  for (int k = width - 1; k >= 0; --k) {
    out[k] = kBase62[v % 62];
    v /= 62;
  }
}

// Exim message id (spec "Message identification"; exim-formats.md 1.3):
//   old (<= 4.96): TTTTTT-PPPPPP-SS, SS = fraction of the second in 1/2000 s
//   new (>= 4.97): TTTTTT-PPPPPPPPPPP-SSSS, SSSS = microseconds
// Returns the length written (16 or 23).
inline int make_message_id(char* out, int64_t epoch_sec, uint32_t usec, uint32_t pid, bool new_format) {
  base62(out, uint64_t(epoch_sec), 6);
  out[6] = '-';
  if (!new_format) {
    base62(out + 7, pid, 6);
    out[13] = '-';
    base62(out + 14, usec / 500, 2);
    return 16;
  }
  base62(out + 7, pid, 11);
  out[18] = '-';
  base62(out + 19, usec, 4);
  return 23;
}

// Exim's T="..." rendering of a subject (exim-formats.md 1.10): keep the first 100 bytes,
// backslash-escape '"' and '\', wrap in quotes, then printable-escape: \n \r \t etc. and
// \ooo for other non-printables and for every byte >= 0x80 (print_topbitchars unset).
inline void append_exim_subject(std::string& dst, std::string_view raw) {
  if (raw.size() > 100) raw = raw.substr(0, 100);
  dst += '"';
  for (unsigned char ch : raw) {
    switch (ch) {
      case '"': dst += "\\\""; break;
      case '\\': dst += "\\\\"; break;
      case '\n': dst += "\\n"; break;
      case '\r': dst += "\\r"; break;
      case '\t': dst += "\\t"; break;
      case '\b': dst += "\\b"; break;
      case '\v': dst += "\\v"; break;
      case '\f': dst += "\\f"; break;
      default:
        if (ch < 0x20 || ch >= 0x7f) {
          char oct[5] = {'\\', char('0' + (ch >> 6)), char('0' + ((ch >> 3) & 7)), char('0' + (ch & 7)), 0};
          dst += oct;
        } else {
          dst += char(ch);
        }
    }
  }
  dst += '"';
}

}  // namespace sw::bench::gen

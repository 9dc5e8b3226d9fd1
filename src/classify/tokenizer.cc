#include "classify/tokenizer.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/text.h"

namespace sw::classify {
namespace {

// Letters (any non-ASCII byte: UTF-8 letters of every script), digits and a few joiners that
// belong inside words ("don't", "e-mail", "$50", "3.5").
// A table: the word scan asks it of every byte of the text.
constexpr std::array<bool, 256> kWordBytes = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c)
    table[c] = c >= 0x80 || is_alnum(char(c)) || c == '$' || c == '\'' || c == '-' || c == '.';
  return table;
}();
bool word_byte(unsigned char c) { return kWordBytes[c]; }
bool joiner(char c) { return c == '\'' || c == '-' || c == '.'; }

// Calls emit(word) for each word of `text` as written (the builder lower-cases it), until stop()
// says the budget is spent.
template <class Emit, class Stop>
void for_each_word(std::string_view text, const TokenizerLimits& limits, Emit&& emit, Stop&& stop) {
  for (size_t i = 0; i < text.size() && !stop();) {
    while (i < text.size() && !word_byte(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && word_byte(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view raw = text.substr(start, i - start);
    while (!raw.empty() && joiner(raw.front())) raw.remove_prefix(1);
    while (!raw.empty() && joiner(raw.back())) raw.remove_suffix(1);
    if (raw.size() < 2) continue;
    if (raw.size() > limits.max_word_bytes) {
      emit(std::string_view(raw.size() > 200 ? "<huge>" : "<long>"));
      continue;
    }
    emit(raw);
  }
}

constexpr std::string_view kNamedHeaders[] = {"subject",
                                              "from",
                                              "to",
                                              "cc",
                                              "reply-to",
                                              "return-path",
                                              "received",
                                              "message-id",
                                              "content-type",
                                              "x-mailer",
                                              "user-agent",
                                              "list-id",
                                              "list-unsubscribe",
                                              "precedence",
                                              "sender",
                                              "errors-to",
                                              "organization",
                                              "x-priority",
                                              "x-msmail-priority",
                                              "content-transfer-encoding",
                                              "mime-version",
                                              "x-originating-ip"};

bool named_header(std::string_view name) {
  for (std::string_view known : kNamedHeaders)
    if (name == known) return true;
  return false;
}

bool added_on_delivery(std::string_view name) {
  return name.starts_with("x-") || name == "delivered-to" || name == "delivery-date";
}

// FNV-1a, then a final mix so the low bits (the hash table's index) depend on every byte.
constexpr uint64_t kFnvBasis = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;
uint64_t fnv_step(uint64_t h, unsigned char c) { return (h ^ c) * kFnvPrime; }
uint64_t fnv_final(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

// A piece of a feature's name lower-cased as it is written: a word as the text spells it.
struct Lower {
  std::string_view text;
};

}  // namespace

// Writes each feature's name straight into the set's name buffer and hashes it on the way, piece
// by piece: no string is built per feature (the hash is that of the joined name, as token_hash).
class TokenSetBuilder {
 public:
  TokenSetBuilder(TokenSet* out, const TokenizerLimits& limits)
      : tokens_(out->tokens_), names_(out->names_), limits_(limits) {}

  bool full() const { return count_ >= limits_.max_tokens; }

  // One feature named by the pieces joined ("rule:", "NO_DATE"; "subject:", Lower{word}).
  template <class... Pieces>
  void add(const Pieces&... pieces) {
    if (full()) return;
    ++count_;
    std::size_t at = names_.size();
    uint64_t h = kFnvBasis;
    (put(pieces, &h), ...);
    push(h, at);
  }

  // Words of a header under its name; the subject also gives word pairs. Other headers count
  // only as present, and the X- and delivery headers a mailbox adds on arrival (X-Keywords,
  // Delivered-To, ...) not at all: they tell where and when mail was collected, not what it is.
  void header(const HeaderField& field) {
    bool named = named_header(field.name);
    if (!named && added_on_delivery(field.name)) return;
    add("hdr:", field.name);
    // A date's words say when the corpus was collected, not what the mail is.
    if (!named || field.name == "date") return;
    bool pairs = field.name == "subject";
    std::string_view value = field.value;
    // The topmost Received line is the receiving server's own, dated the moment of the scan: its
    // date (after the last ';') would move the score from one second to the next.
    if (field.name == "received" && !std::exchange(seen_received_, true))
      value = value.substr(0, std::min(value.size(), value.rfind(';')));
    previous_.clear();
    size_t words = 0;
    for_each_word(
        value, limits_,
        [&](std::string_view word) {
          if (++words > 60) return;
          add(field.name, ":", Lower{word});
          if (pairs && !previous_.empty()) add(field.name, ":", std::string_view(previous_), " ", Lower{word});
          assign_lower(previous_, word);
        },
        [&] { return full(); });
  }

  // Body words and each pair of neighbours (a sparse bigram: the phrase, not just its words).
  // The words are written to the name buffer one after another, a space apart, so a pair's
  // name is the span from its first word to its second; its hash continues the first word's.
  void body(std::string_view text) {
    uint64_t pair_state = 0;  // FNV state after "previous "
    std::size_t previous_at = 0;
    bool has_previous = false;
    for_each_word(
        text, limits_,
        [&](std::string_view word) {
          if (full()) return;
          ++count_;
          std::size_t at = names_.size();
          names_.append(word);
          uint64_t h = kFnvBasis, pair = pair_state;
          for (std::size_t i = at; i < names_.size(); ++i) {
            char c = names_[i] = ascii_lower(names_[i]);
            h = fnv_step(h, static_cast<unsigned char>(c));
            pair = fnv_step(pair, static_cast<unsigned char>(c));
          }
          push(h, at);
          if (has_previous && !full()) {
            ++count_;
            push(pair, previous_at);
          }
          names_ += ' ';
          pair_state = fnv_step(h, ' ');
          previous_at = at;
          has_previous = true;
        },
        [&] { return full(); });
  }

 private:
  void put(std::string_view piece, uint64_t* h) {
    for (unsigned char c : piece) *h = fnv_step(*h, c);
    names_.append(piece);
  }
  void put(Lower piece, uint64_t* h) {
    std::size_t at = names_.size();
    names_.append(piece.text);
    for (std::size_t i = at; i < names_.size(); ++i) {
      names_[i] = ascii_lower(names_[i]);
      *h = fnv_step(*h, static_cast<unsigned char>(names_[i]));
    }
  }
  // The feature whose name runs from `at` to the end of the buffer, its FNV state `h`.
  void push(uint64_t h, std::size_t at) {
    std::size_t size = names_.size() - at;
    tokens_.push_back({fnv_final(h), uint32_t(at), uint16_t(std::min<std::size_t>(size, UINT16_MAX))});
  }

  std::vector<Token>& tokens_;
  std::string& names_;
  const TokenizerLimits& limits_;
  std::size_t count_ = 0;
  std::string previous_;        // a header's previous word, lower case
  bool seen_received_ = false;  // the topmost Received line was read
};

namespace {

std::string_view header_value(const ParsedMessage& m, std::string_view name) {
  for (const HeaderField& h : m.headers)
    if (h.name == name) return h.value;
  return {};
}
bool has_header(const ParsedMessage& m, std::string_view name) {
  for (const HeaderField& h : m.headers)
    if (h.name == name) return true;
  return false;
}

std::string_view bucket(size_t n) {
  if (n == 0) return "0";
  if (n == 1) return "1";
  if (n <= 3) return "2-3";
  if (n <= 10) return "4-10";
  return "many";
}

// Header-sanity rules: facts a human reader of headers checks first. They enter the model as
// features ("rule:NAME"), so training decides their weight instead of a hand-set score.
void rules(const ParsedMessage& m, TokenSetBuilder& b) {
  if (!has_header(m, "date")) b.add("rule:", "NO_DATE");
  if (!has_header(m, "message-id")) b.add("rule:", "NO_MESSAGE_ID");
  else if (header_value(m, "message-id").find('@') == std::string_view::npos) b.add("rule:", "MESSAGE_ID_NO_AT");
  if (!has_header(m, "to") && !has_header(m, "cc")) b.add("rule:", "NO_RECIPIENT_HEADER");
  if (!has_header(m, "from")) b.add("rule:", "NO_FROM");
  if (!has_header(m, "subject")) b.add("rule:", "NO_SUBJECT");
  std::string_view subject = header_value(m, "subject");
  size_t letters = 0, upper = 0;
  for (char c : subject)
    if (unsigned((c | 0x20) - 'a') < 26u) ++letters, upper += (c >= 'A' && c <= 'Z');
  if (letters >= 8 && upper * 10 >= letters * 9) b.add("rule:", "SUBJECT_ALL_CAPS");
  if (std::count(subject.begin(), subject.end(), '!') >= 2) b.add("rule:", "SUBJECT_EXCLAIM");
  if (subject.find('$') != std::string_view::npos) b.add("rule:", "SUBJECT_DOLLAR");
  std::string_view from = header_value(m, "from");
  if (!from.empty() && from.find('@') == std::string_view::npos) b.add("rule:", "FROM_NO_ADDRESS");
  if (m.html_only) b.add("rule:", "HTML_ONLY");
  if (m.link_text_domain_mismatch) b.add("rule:", "LINK_TEXT_DOMAIN_MISMATCH");
  if (m.bad_charset) b.add("rule:", "UNKNOWN_CHARSET");
  if (m.truncated) b.add("rule:", "MIME_LIMITS_HIT");
  if (m.text_parts == 0) b.add("rule:", "NO_TEXT_PART");
}

void structure(const ParsedMessage& m, TokenSetBuilder& b) {
  b.add("mime:parts=", bucket(m.parts));
  b.add("mime:html=", bucket(m.html_parts));
  b.add("mime:images=", bucket(m.images));
  b.add("mime:links=", bucket(m.links));
  b.add("mime:attachments=", bucket(m.attachments));
  for (const std::string& type : m.attachment_types) b.add("mime:attach:", type);
  for (const std::string& charset : m.charsets) b.add("mime:charset:", charset);
  size_t text = m.text.size();
  b.add("mime:text=", text < 200 ? "tiny" : text < 2000 ? "small" : text < 20000 ? "medium" : "large");
}

void urls(const ParsedMessage& m, TokenSetBuilder& b) {
  for (const std::string& host : m.url_domains) {
    b.add("url:", host);
    // The last two labels: the registered name for most domains ("mail.example.com" -> "example.com").
    size_t last = host.rfind('.');
    size_t second = last == std::string::npos || last == 0 ? std::string::npos : host.rfind('.', last - 1);
    if (second != std::string::npos) b.add("urld:", std::string_view(host).substr(second + 1));
    if (last != std::string::npos) b.add("tld:", std::string_view(host).substr(last + 1));
  }
}

// The shape of a header value: each run of digits "9", of letters "a" (capitals only: "A"), of
// mixed letters and digits "x"; other bytes kept, spaces squeezed: "Sat, 7 Sep 2002 17:58:28"
// -> "a, 9 a 9 9:9:9". Mailers (and spam tools) write dates in their own forms.
std::string shape(std::string_view value, std::size_t max_bytes = 40) {
  std::string out;
  for (std::size_t i = 0; i < value.size() && out.size() < max_bytes;) {
    char c = value[i];
    if (!is_alnum(c)) {
      if (c != ' ' || out.empty() || out.back() != ' ') out += c;
      ++i;
      continue;
    }
    bool digits = false, lower = false, upper = false;
    for (; i < value.size() && is_alnum(value[i]); ++i) {
      digits |= is_digit(value[i]);
      lower |= value[i] >= 'a' && value[i] <= 'z';
      upper |= value[i] >= 'A' && value[i] <= 'Z';
    }
    out += digits && (lower || upper) ? 'x' : digits ? '9' : upper && !lower ? 'A' : 'a';
  }
  return out;
}

// How the message was written rather than what it says: the order of its headers (each pair and
// triple of neighbours, "order:from>subject", "order3:from>to>date"; delivery-added and trace
// headers left out: each mailer and spam tool has its own), and the Date header's form and zone
// ("date-shape:a, 9 a 9 9:9:9" has no zone; "date-zone:+0800").
void header_form(const ParsedMessage& m, TokenSetBuilder& b) {
  std::string_view previous, before;
  for (const HeaderField& h : m.headers) {
    if (added_on_delivery(h.name) || h.name == "received" || h.name == "return-path") continue;
    if (!previous.empty()) b.add("order:", previous, ">", h.name);
    if (!before.empty()) b.add("order3:", before, ">", previous, ">", h.name);
    before = previous;
    previous = h.name;
  }
  std::string_view date = header_value(m, "date");
  if (date.empty()) return;
  b.add("date-shape:", shape(date));
  std::size_t space = date.find_last_of(' ');
  std::string_view zone = space == std::string_view::npos ? date : date.substr(space + 1);
  if (zone.find(':') == std::string_view::npos) b.add("date-zone:", zone.substr(0, 12));
}

}  // namespace

uint64_t token_hash(std::string_view name) {
  uint64_t h = kFnvBasis;
  for (unsigned char c : name) h = fnv_step(h, c);
  return fnv_final(h);
}

void TokenSet::add(std::string_view name) {
  tokens_.push_back({token_hash(name), uint32_t(names_.size()), uint16_t(std::min<size_t>(name.size(), UINT16_MAX))});
  names_ += name;
}

namespace {

// LSD radix sort by hash, a byte a pass: quicker than std::sort on a message's thousands of
// tokens. Stable, so of equal hashes (the same name) the first added stays first, as before.
void sort_by_hash(std::vector<Token>& tokens) {
  auto by_hash = [](const Token& a, const Token& b) { return a.hash < b.hash; };
  if (tokens.size() < 256) return std::stable_sort(tokens.begin(), tokens.end(), by_hash);
  uint32_t offsets[8][256] = {};
  for (const Token& t : tokens)
    for (int p = 0; p < 8; ++p) ++offsets[p][(t.hash >> (8 * p)) & 0xff];
  thread_local std::vector<Token> scratch;  // kept: a fresh one per message cost page faults
  scratch.resize(tokens.size());
  for (int p = 0; p < 8; ++p) {
    for (uint32_t at = 0, d = 0; d < 256; ++d) at += std::exchange(offsets[p][d], at);
    for (const Token& t : tokens) scratch[offsets[p][(t.hash >> (8 * p)) & 0xff]++] = t;
    tokens.swap(scratch);
  }
}

}  // namespace

void TokenSet::finish() {
  sort_by_hash(tokens_);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (kept > 0 && tokens_[kept - 1].hash == tokens_[i].hash) {
      if (tokens_[kept - 1].count < UINT16_MAX) ++tokens_[kept - 1].count;
      continue;
    }
    tokens_[kept++] = tokens_[i];
  }
  tokens_.resize(kept);
}

void tokenize(const ParsedMessage& message, TokenSet* out, const TokenizerLimits& limits) {
  out->clear();
  out->reserve(std::min(limits.max_tokens, message.text.size() / 3 + 256), message.text.size() * 2 + 4096);
  TokenSetBuilder builder(out, limits);
  rules(message, builder);
  header_form(message, builder);
  structure(message, builder);
  urls(message, builder);
  for (const HeaderField& field : message.headers) builder.header(field);
  builder.body(message.text);
  out->finish();
}

TokenSet tokenize(const ParsedMessage& message, const TokenizerLimits& limits) {
  TokenSet set;
  tokenize(message, &set, limits);
  return set;
}

}  // namespace sw::classify

#include "classify/mime.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "base/text.h"
#include "base/utf8.h"
#include "classify/gmime_library.h"

namespace sw::classify {
namespace {

// Replaces bytes that are not well-formed UTF-8 with U+FFFD, so every later stage sees text.
std::string sanitize_utf8(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s.substr(i));
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

std::string lower_ascii(const char* s) { return s ? to_lower(s) : std::string(); }

// glibc loads a charset's conversion module at iconv_open and unloads it once no descriptor
// uses it, so converting one part per message cost a dlopen and a dlclose each time (mmap,
// munmap, TLB flushes across the scanning threads). One descriptor per charset, opened on first
// use and never closed, keeps its module loaded. At most 64 charsets: labels are the sender's.
void keep_charset_module_loaded(const std::string& charset) {
  constexpr size_t kMaxCharsets = 64;
  thread_local std::unordered_set<std::string> known;  // seen by this thread: no lock
  if (known.contains(charset)) return;
  static std::mutex mutex;
  // Never closed nor destroyed at exit: reachable to the end, so not a leak either.
  static auto& opened = *new std::unordered_map<std::string, iconv_t>;
  std::lock_guard lock(mutex);
  if (!opened.contains(charset)) {
    if (opened.size() >= kMaxCharsets) return;
    opened.emplace(charset, gmime().g_mime_iconv_open("UTF-8", charset.c_str()));  // the filter's name mapping
  }
  known.insert(charset);
}

GMimeFilter* charset_filter(const std::string& charset) {
  keep_charset_module_loaded(charset);
  return gmime().g_mime_filter_charset_new(charset.c_str(), "UTF-8");
}

// Decodes a part's transfer encoding (base64, QP, uuencode) and converts it from its labelled
// charset to UTF-8. An unknown charset is read as Latin-1 (every byte is a character), so its
// words still count; *bad_charset tells the tokenizer.
std::string decode_text_part(GMimePart* part, const std::string& charset, bool* bad_charset) {
  GMimeDataWrapper* content = gmime().g_mime_part_get_content(part);
  if (!content) return {};
  GMimeStream* sink = gmime().g_mime_stream_mem_new();
  GMimeStream* filtered = gmime().g_mime_stream_filter_new(sink);
  if (!charset.empty() && charset != "utf-8" && charset != "us-ascii") {
    GMimeFilter* convert = charset_filter(charset);
    if (!convert) {
      *bad_charset = true;
      convert = charset_filter("iso-8859-1");
    }
    if (convert) {
      gmime().g_mime_stream_filter_add(reinterpret_cast<GMimeStreamFilter*>(filtered), convert);
      gmime().g_object_unref(convert);
    }
  }
  gmime().g_mime_data_wrapper_write_to_stream(content, filtered);
  gmime().g_mime_stream_flush(filtered);
  GByteArray* bytes = gmime().g_mime_stream_mem_get_byte_array(reinterpret_cast<GMimeStreamMem*>(sink));
  std::string text = sanitize_utf8(std::string_view(reinterpret_cast<const char*>(bytes->data), bytes->len));
  gmime().g_object_unref(filtered);
  gmime().g_object_unref(sink);
  return text;
}

class PartWalker {
 public:
  PartWalker(ParsedMessage* out, const MimeLimits& limits) : out_(*out), limits_(limits) {}

  void walk(GMimeObject* object, int depth) {
    if (!object) return;
    if (depth > limits_.max_depth) {
      out_.truncated = true;
      return;
    }
    if (gmime().is_a(object, gmime().g_mime_multipart_get_type)) {
      GMimeMultipart* multi = reinterpret_cast<GMimeMultipart*>(object);
      int count = gmime().g_mime_multipart_get_count(multi);
      for (int i = 0; i < count; ++i) walk(gmime().g_mime_multipart_get_part(multi, i), depth + 1);
    } else if (gmime().is_a(object, gmime().g_mime_message_part_get_type)) {
      GMimeMessage* inner = gmime().g_mime_message_part_get_message(reinterpret_cast<GMimeMessagePart*>(object));
      if (inner) walk(gmime().g_mime_message_get_mime_part(inner), depth + 1);
    } else if (gmime().is_a(object, gmime().g_mime_part_get_type)) {
      leaf(reinterpret_cast<GMimePart*>(object));
    }
  }

  void finish() {
    out_.html_only = out_.html_parts > 0 && plain_parts_ == 0;
    if (out_.text.size() > limits_.max_text_bytes) out_.text.resize(utf8_prefix(out_.text, limits_.max_text_bytes));
  }

 private:
  void leaf(GMimePart* part) {
    if (++out_.parts > limits_.max_parts) {
      out_.truncated = true;
      return;
    }
    GMimeContentType* type = gmime().g_mime_object_get_content_type(reinterpret_cast<GMimeObject*>(part));
    std::string media = type ? lower_ascii(gmime().g_mime_content_type_get_media_type(type)) : "text";
    std::string sub = type ? lower_ascii(gmime().g_mime_content_type_get_media_subtype(type)) : "plain";
    bool attachment = gmime().g_mime_part_is_attachment(part);
    if (media != "text" || attachment || (sub != "plain" && sub != "html")) {
      if (media == "image") ++out_.images;
      ++out_.attachments;
      if (out_.attachment_types.size() < 16) out_.attachment_types.push_back(media + "/" + sub);
      return;
    }
    if (out_.text.size() >= limits_.max_text_bytes) {
      out_.truncated = true;
      return;
    }
    std::string charset = type ? lower_ascii(gmime().g_mime_content_type_get_parameter(type, "charset")) : "";
    if (!charset.empty() && out_.charsets.size() < 8) out_.charsets.push_back(charset);
    std::string text = decode_text_part(part, charset, &out_.bad_charset);
    ++out_.text_parts;
    if (sub == "html") {
      ++out_.html_parts;
      text = html_to_text(text, &out_);
    } else {
      ++plain_parts_;
      collect_url_domains(text, &out_.url_domains);
    }
    if (!out_.text.empty()) out_.text += '\n';
    out_.text += text;
  }

  ParsedMessage& out_;
  const MimeLimits& limits_;
  size_t plain_parts_ = 0;
};

std::string_view skip_mbox_envelope(std::string_view raw) {
  if (!raw.starts_with("From ")) return raw;
  size_t eol = raw.find('\n');
  return eol == std::string_view::npos ? std::string_view{} : raw.substr(eol + 1);
}

constexpr int kMaxHeaders = 200;

// The message's top-level headers in the order they came. GMime keeps the Content-* ones
// (Content-Type, Content-Transfer-Encoding) with the top-level MIME part, not the message:
// both lists are read and put back in order by their offsets in the message.
void read_headers(GMimeMessage* message, ParsedMessage* out) {
  struct Found {
    gint64 offset;
    GMimeHeader* header;
  };
  std::vector<Found> found;
  GMimeObject* part = gmime().g_mime_message_get_mime_part(message);
  for (GMimeObject* object : {reinterpret_cast<GMimeObject*>(message), part}) {
    GMimeHeaderList* list = object ? gmime().g_mime_object_get_header_list(object) : nullptr;
    int count = list ? gmime().g_mime_header_list_get_count(list) : 0;
    for (int i = 0; i < count && i < kMaxHeaders; ++i) {
      GMimeHeader* header = gmime().g_mime_header_list_get_header_at(list, i);
      found.push_back({gmime().g_mime_header_get_offset(header), header});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.offset < b.offset; });
  if (found.size() > size_t(kMaxHeaders)) found.resize(kMaxHeaders);
  for (const Found& f : found) {
    const char* name = gmime().g_mime_header_get_name(f.header);
    const char* value = gmime().g_mime_header_get_value(f.header);
    if (!name) continue;
    std::string_view v = value ? std::string_view(value) : std::string_view();
    if (v.size() > 4096) v = v.substr(0, 4096);
    out->headers.push_back({to_lower(name), sanitize_utf8(v)});
  }
}

// GMime's memory stream over the message. A fresh one copies the message into a new array: a
// large allocation per message, with glibc consolidating its free chunks under it. Up to 1 MB
// (the scanner passes 512 KB at most) the bytes go into an array kept per thread instead, which
// the stream does not own; the next parse on this thread reuses it.
GMimeStream* message_stream(std::string_view raw) {
  constexpr std::size_t kKeptBytes = 1024 * 1024;
  if (raw.size() > kKeptBytes) return gmime().g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
  struct Kept {
    GByteArray* array = gmime().g_byte_array_new();
    ~Kept() { gmime().g_byte_array_unref(array); }
  };
  thread_local Kept kept;
  gmime().g_byte_array_set_size(kept.array, 0);
  gmime().g_byte_array_append(kept.array, reinterpret_cast<const guint8*>(raw.data()), guint(raw.size()));
  GMimeStream* stream = gmime().g_mime_stream_mem_new_with_byte_array(kept.array);
  gmime().g_mime_stream_mem_set_owner(reinterpret_cast<GMimeStreamMem*>(stream), FALSE);
  return stream;
}

// GMime makes an object of every header and every part before the walk's caps apply: 512 KB of
// 68,000 empty parts took 90 MB to parse, of 130,000 header lines 64 MB, and a scan thread each.
// So the message GMime sees stops before its kMaxStructureLines-th line that opens a part
// ("--boundary"), as the size cap cuts a big one, and keeps its first kMaxStructureLines header
// lines, and stops before the kMaxStructureLines-th line of the parts' own headers. Sets *cut
// when it cut anything; `kept` holds the bytes when headers were dropped.
constexpr std::size_t kMaxStructureLines = 1000;
std::string_view bound_structure(std::string_view raw, std::string* kept, bool* cut) {
  auto next_line = [&raw](std::size_t at) {
    std::size_t end = raw.find('\n', at);
    return end == std::string_view::npos ? raw.size() : end + 1;
  };
  std::size_t at = 0;
  for (std::size_t lines = 0; at < raw.size() && raw[at] != '\n' && raw.substr(at, 2) != "\r\n"; ++lines) {
    if (lines == kMaxStructureLines) {  // the rest of the header lines go; the body stays
      std::size_t blank = raw.find("\n\n", at), crlf = raw.find("\r\n\r\n", at);
      std::size_t body = std::min(blank == std::string_view::npos ? raw.size() : blank + 1,
                                  crlf == std::string_view::npos ? raw.size() : crlf + 2);
      *kept = std::string(raw.substr(0, at)) + std::string(raw.substr(body));
      raw = *kept;
      *cut = true;
      break;
    }
    at = next_line(at);
  }
  // In the body: the lines that open a part, and those of the parts' own header blocks (from
  // an opening to its blank line).
  bool in_part_headers = false;
  for (std::size_t openings = 0, part_header_lines = 0; at < raw.size(); at = next_line(at)) {
    bool blank = raw[at] == '\n' || raw.substr(at, 2) == "\r\n";
    bool opening = raw.substr(at, 2) == "--";
    if ((opening && ++openings == kMaxStructureLines) ||
        (in_part_headers && !blank && !opening && ++part_header_lines == kMaxStructureLines)) {
      *cut = true;
      return raw.substr(0, at);
    }
    in_part_headers = opening || (in_part_headers && !blank);
  }
  return raw;
}

}  // namespace

ParsedMessage parse_message(std::string_view raw, const MimeLimits& limits) {
  ParsedMessage out;
  raw = skip_mbox_envelope(raw);
  if (!load_gmime(nullptr)) {  // said when the scanner was opened; the message is read as text
    out.text = sanitize_utf8(raw.substr(0, utf8_prefix(raw, limits.max_text_bytes)));
    collect_url_domains(out.text, &out.url_domains);
    return out;
  }
  std::string kept;
  raw = bound_structure(raw, &kept, &out.truncated);
  GMimeStream* stream = message_stream(raw);
  GMimeParser* parser = gmime().g_mime_parser_new_with_stream(stream);
  gmime().g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
  GMimeMessage* message = gmime().g_mime_parser_construct_message(parser, nullptr);
  if (message) {
    read_headers(message, &out);
    PartWalker walker(&out, limits);
    walker.walk(gmime().g_mime_message_get_mime_part(message), 0);
    walker.finish();
    gmime().g_object_unref(message);
  } else {
    out.text = sanitize_utf8(raw.substr(0, utf8_prefix(raw, limits.max_text_bytes)));
    collect_url_domains(out.text, &out.url_domains);
  }
  gmime().g_object_unref(parser);
  gmime().g_object_unref(stream);
  return out;
}

}  // namespace sw::classify

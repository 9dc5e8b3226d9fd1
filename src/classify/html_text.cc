// HTML reduced to the words a reader sees, and the URLs' host names. A small hand-written
// scanner, not a DOM: spam HTML is rarely well-formed, and only text and links matter here.
#include <string>
#include <string_view>

#include "base/text.h"
#include "classify/mime.h"

namespace sw::classify {
namespace {

bool is_host_char(char c) { return is_alnum(c) || c == '-' || c == '.' || (static_cast<unsigned char>(c) >= 0x80); }

// The host of a URL that starts at `url` ("http://", "https://" or "www."), lower case,
// without a trailing dot; "" if there is none.
std::string url_host(std::string_view url) {
  if (url.size() >= 7 && iequals(url.substr(0, 7), "http://")) url.remove_prefix(7);
  else if (url.size() >= 8 && iequals(url.substr(0, 8), "https://")) url.remove_prefix(8);
  else if (!(url.size() >= 4 && iequals(url.substr(0, 4), "www."))) return {};
  size_t at_end = url.find_first_of("/?#\"' <>");
  std::string_view authority = url.substr(0, at_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  size_t n = 0;
  while (n < authority.size() && n < 253 && is_host_char(authority[n])) ++n;
  std::string host = to_lower(authority.substr(0, n));
  while (!host.empty() && host.back() == '.') host.pop_back();
  return host.find('.') == std::string::npos ? std::string() : host;
}

void append_entity(std::string_view entity, std::string* out) {
  if (entity == "amp") *out += '&';
  else if (entity == "lt") *out += '<';
  else if (entity == "gt") *out += '>';
  else if (entity == "quot") *out += '"';
  else if (entity == "nbsp") *out += ' ';
  else if (entity.size() > 1 && entity[0] == '#') {
    unsigned long code = 0;
    bool hex = entity[1] == 'x' || entity[1] == 'X';
    for (char c : entity.substr(hex ? 2 : 1)) {
      int digit = is_digit(c) ? c - '0' : (hex && is_alnum(c) && ascii_lower(c) <= 'f') ? ascii_lower(c) - 'a' + 10 : -1;
      if (digit < 0 || code > 0x10FFFF) return;
      code = code * (hex ? 16 : 10) + unsigned(digit);
    }
    if (code < 0x80 && code >= 0x20) *out += char(code);
    else if (code >= 0x80 && code < 0x800) *out += char(0xC0 | (code >> 6)), *out += char(0x80 | (code & 0x3F));
    else if (code >= 0x800 && code < 0x10000 && (code < 0xD800 || code > 0xDFFF))
      *out += char(0xE0 | (code >> 12)), *out += char(0x80 | ((code >> 6) & 0x3F)), *out += char(0x80 | (code & 0x3F));
    else *out += ' ';
  } else {
    *out += ' ';
  }
}

// The value of attribute `name` inside a tag's text ("a href=\"...\" ..."), or "".
std::string_view attribute(std::string_view tag, std::string_view name) {
  for (size_t pos = 0; (pos = [&] {
         for (size_t i = pos; i + name.size() < tag.size(); ++i)
           if (iequals(tag.substr(i, name.size()), name) && (i == 0 || !is_alnum(tag[i - 1]))) return i;
         return std::string_view::npos;
       }()) != std::string_view::npos;
       pos += name.size()) {
    size_t i = pos + name.size();
    while (i < tag.size() && tag[i] == ' ') ++i;
    if (i >= tag.size() || tag[i] != '=') continue;
    ++i;
    while (i < tag.size() && tag[i] == ' ') ++i;
    if (i >= tag.size()) return {};
    char quote = tag[i];
    if (quote == '"' || quote == '\'') {
      size_t end = tag.find(quote, i + 1);
      return tag.substr(i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1);
    }
    size_t end = tag.find_first_of(" \t\r\n>", i);
    return tag.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
  }
  return {};
}

}  // namespace

void collect_url_domains(std::string_view text, std::vector<std::string>* domains) {
  for (size_t i = 0; i < text.size() && domains->size() < 256; ++i) {
    char c = ascii_lower(text[i]);
    if (c != 'h' && c != 'w') continue;
    if (i > 0 && is_alnum(text[i - 1])) continue;
    std::string host = url_host(text.substr(i, 300));
    if (host.empty()) continue;
    domains->push_back(std::move(host));
    i += 4;
  }
}

std::string html_to_text(std::string_view html, ParsedMessage* message) {
  std::string out;
  out.reserve(html.size() / 2);
  std::string link_host;   // host of the <a href> we are inside, if any
  size_t link_text_at = 0;  // where its text starts in `out`
  for (size_t i = 0; i < html.size();) {
    char c = html[i];
    if (c == '&') {
      size_t end = html.find_first_of("; <&", i + 1);
      if (end != std::string_view::npos && html[end] == ';' && end - i <= 10) {
        append_entity(html.substr(i + 1, end - i - 1), &out);
        i = end + 1;
        continue;
      }
      out += c, ++i;
      continue;
    }
    if (c != '<') {
      out += c, ++i;
      continue;
    }
    if (html.substr(i, 4) == "<!--") {
      size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    size_t end = html.find('>', i + 1);
    if (end == std::string_view::npos) break;
    std::string_view tag = html.substr(i + 1, end - i - 1);
    i = end + 1;
    bool closing = !tag.empty() && tag[0] == '/';
    size_t name_end = std::min(tag.find_first_of(" \t\r\n/", closing ? 1 : 0), tag.size());
    std::string name = to_lower(tag.substr(closing ? 1 : 0, name_end - (closing ? 1 : 0)));
    if (!closing && (name == "script" || name == "style")) {
      std::string close = "</" + name;
      size_t skip = i;
      while (skip < html.size() && !(skip + close.size() <= html.size() && iequals(html.substr(skip, close.size()), close)))
        skip = std::min(html.find('<', skip + 1), html.size());
      i = skip;
      continue;
    }
    if (name == "img" && !closing) ++message->images;
    if (name == "a" && !closing) {
      std::string host = url_host(attribute(tag, "href"));
      if (!host.empty()) {
        ++message->links;
        if (message->url_domains.size() < 256) message->url_domains.push_back(host);
      }
      link_host = host;
      link_text_at = out.size();
    } else if (name == "a" && closing && !link_host.empty()) {
      std::vector<std::string> shown;
      collect_url_domains(std::string_view(out).substr(link_text_at), &shown);
      for (const std::string& host : shown)
        if (host != link_host) ++message->link_text_domain_mismatch;
      link_host.clear();
    }
    if (name == "br" || name == "p" || name == "div" || name == "tr" || name == "td" || name == "li" ||
        name == "table" || name == "h1" || name == "h2" || name == "h3")
      out += ' ';
  }
  return out;
}

}  // namespace sw::classify

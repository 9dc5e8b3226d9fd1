// A message as the classifier sees it: decoded headers, every text part as UTF-8 text, HTML
// reduced to text, the URLs' domains and a few structural facts. Parsing is bounded: the caller
// caps the input size; nesting depth and part count are capped here.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sw::classify {

struct MimeLimits {
  int max_depth = 20;                       // multipart / message/rfc822 nesting
  std::size_t max_parts = 200;              // leaf parts looked at; the rest are counted only
  std::size_t max_text_bytes = 256 * 1024;  // decoded UTF-8 text kept over all parts
};

struct HeaderField {
  std::string name;   // lower case
  std::string value;  // RFC 2047 decoded, UTF-8, unfolded
};

struct ParsedMessage {
  std::vector<HeaderField> headers;  // top-level message headers, in order
  std::string text;                  // plain text of every text part (HTML reduced), joined by '\n'
  std::vector<std::string> url_domains;  // lower case host names from text and HTML links
  // Structural facts the tokenizer turns into features.
  std::size_t parts = 0, text_parts = 0, html_parts = 0, attachments = 0, images = 0;
  std::size_t links = 0, link_text_domain_mismatch = 0;
  bool html_only = false;      // HTML text with no plain-text alternative
  bool bad_charset = false;    // a charset label that iconv does not know (decoded as Latin-1)
  bool truncated = false;      // the part or depth caps cut something
  std::vector<std::string> attachment_types;  // "application/zip", ...
  std::vector<std::string> charsets;          // lower case, as labelled
};

// Parses raw RFC 5322 bytes (a leading mbox "From " line is skipped). Never fails: what GMime
// cannot make sense of is taken as plain text.
ParsedMessage parse_message(std::string_view raw, const MimeLimits& limits = {});

// HTML to text: tags dropped, script/style skipped, entities decoded; link domains and the
// link-text/href domain mismatches counted into *message.
std::string html_to_text(std::string_view html, ParsedMessage* message);

// Host names of http(s)/www URLs in plain text, lower case.
void collect_url_domains(std::string_view text, std::vector<std::string>* domains);

}  // namespace sw::classify

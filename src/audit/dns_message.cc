#include "audit/dns_message.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace sw::audit::dns {

std::string_view type_name(RecordType type) {
  switch (type) {
    case RecordType::a: return "A";
    case RecordType::cname: return "CNAME";
    case RecordType::ptr: return "PTR";
    case RecordType::mx: return "MX";
    case RecordType::txt: return "TXT";
    case RecordType::aaaa: return "AAAA";
  }
  return "?";
}

namespace {

class Reader {
 public:
  explicit Reader(std::string_view msg) : msg_(msg) {}
  bool u16(size_t at, uint16_t& v) const {
    if (at + 2 > msg_.size()) return false;
    v = static_cast<uint16_t>(static_cast<uint8_t>(msg_[at]) << 8 | static_cast<uint8_t>(msg_[at + 1]));
    return true;
  }
  // Reads a (possibly compressed) name at `at`; `next` is the offset after it in place.
  bool name(size_t at, std::string& out, size_t& next) const {
    out.clear();
    bool jumped = false;
    for (int hops = 0; hops < 128; ++hops) {
      if (at >= msg_.size()) return false;
      uint8_t len = static_cast<uint8_t>(msg_[at]);
      if ((len & 0xC0) == 0xC0) {
        if (at + 2 > msg_.size()) return false;
        if (!jumped) next = at + 2;
        jumped = true;
        at = static_cast<size_t>(len & 0x3F) << 8 | static_cast<uint8_t>(msg_[at + 1]);
        continue;
      }
      if (len & 0xC0) return false;
      if (len == 0) {
        if (!jumped) next = at + 1;
        return true;
      }
      if (at + 1 + len > msg_.size() || out.size() + len > 255) return false;
      if (!out.empty()) out += '.';
      out.append(msg_.substr(at + 1, len));
      at += 1 + len;
    }
    return false;  // a compression loop
  }
  std::string_view bytes(size_t at, size_t len) const { return msg_.substr(at, len); }
  size_t size() const { return msg_.size(); }

 private:
  std::string_view msg_;
};

bool read_rdata(const Reader& r, RecordType type, size_t at, size_t len, ParsedAnswer& out, size_t& text_budget) {
  char buf[INET6_ADDRSTRLEN];
  std::string name;
  size_t next = 0;
  switch (type) {
    case RecordType::a:
      if (len != 4) return false;
      inet_ntop(AF_INET, r.bytes(at, 4).data(), buf, sizeof buf);
      out.records.emplace_back(buf);
      return true;
    case RecordType::aaaa:
      if (len != 16) return false;
      inet_ntop(AF_INET6, r.bytes(at, 16).data(), buf, sizeof buf);
      out.records.emplace_back(buf);
      return true;
    case RecordType::ptr:
    case RecordType::cname:
      if (!r.name(at, name, next)) return false;
      out.records.push_back(name);
      return true;
    case RecordType::mx: {
      uint16_t pref = 0;
      if (len < 3 || !r.u16(at, pref) || !r.name(at + 2, name, next)) return false;
      out.records.push_back(std::to_string(pref) + " " + name);
      return true;
    }
    case RecordType::txt: {
      std::string text;
      for (size_t p = at; p < at + len;) {
        size_t n = static_cast<uint8_t>(r.bytes(p, 1)[0]);
        if (p + 1 + n > at + len) return false;
        size_t take = std::min(n, text_budget);
        text.append(r.bytes(p + 1, take));
        text_budget -= take;
        if (take < n) out.capped = true;
        p += 1 + n;
      }
      out.records.push_back(std::move(text));
      return true;
    }
  }
  return false;
}

}  // namespace

bool parse_answer(std::string_view msg, RecordType type, ParsedAnswer& out, size_t max_text_bytes) {
  out = {};
  Reader r(msg);
  uint16_t flags = 0, qdcount = 0, ancount = 0;
  if (!r.u16(2, flags) || !r.u16(4, qdcount) || !r.u16(6, ancount)) return false;
  out.rcode = flags & 0x0F;
  size_t at = 12;
  std::string name;
  for (int i = 0; i < qdcount; ++i) {
    if (!r.name(at, name, at) || at + 4 > r.size()) return false;
    at += 4;
  }
  size_t text_budget = max_text_bytes;
  for (int i = 0; i < ancount; ++i) {
    uint16_t rtype = 0, rdlength = 0;
    if (!r.name(at, name, at) || !r.u16(at, rtype) || !r.u16(at + 8, rdlength)) return false;
    at += 10;
    if (at + rdlength > r.size()) return false;
    if (rtype == static_cast<uint16_t>(type) && !read_rdata(r, type, at, rdlength, out, text_budget)) return false;
    at += rdlength;
  }
  return true;
}

}  // namespace sw::audit::dns

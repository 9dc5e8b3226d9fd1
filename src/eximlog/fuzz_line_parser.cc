// libFuzzer target: any byte sequence must parse without crashing, and every view the parser
// returns must lie inside the input; the essential parse keeps what the full one finds. The
// outcome tags read from the raw line (outcome_line.h) likewise.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "eximlog/line_parser.h"
#include "eximlog/outcome_line.h"

namespace {
void check_inside(std::string_view whole, std::string_view part) {
  if (part.empty()) return;
  if (part.data() < whole.data() || part.data() + part.size() > whole.data() + whole.size()) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  sw::eximlog::LogLine out;
  sw::eximlog::parse_line(line, out);
  for (auto part : {out.message_id, out.text, out.address, out.original, out.sender, out.host_ip, out.helo,
                    out.host_name, out.ident, out.auth, out.auth_id, out.protocol, out.subject, out.transport,
                    out.router, out.recipients, out.cwd, out.args, out.reason})
    check_inside(line, part);
  sw::eximlog::for_each_recipient(out.recipients, [&](std::string_view a) { check_inside(line, a); });
  // The essential parse must agree with the full one on what it promises to keep.
  sw::eximlog::LogLine essential;
  sw::eximlog::parse_line(line, essential, sw::eximlog::LineFields::Essential);
  if (essential.kind != out.kind || essential.time != out.time || essential.pid != out.pid ||
      essential.message_id != out.message_id || essential.address != out.address || essential.original != out.original)
    std::abort();
  if (auto parts = sw::eximlog::split_outcome(line)) {
    for (auto part : {parts->address, parts->original, parts->tags}) check_inside(line, part);
    sw::eximlog::outcome_is_for(*parts, "a@b");
  }
  sw::eximlog::outcome_on_this_host(line);
  return 0;
}

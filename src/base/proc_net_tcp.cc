#include "base/proc_net_tcp.h"

#include <array>
#include <cstring>

#include "base/text.h"

namespace sw {
namespace {

// The kernel prints each 32-bit word of an address with %08X as the CPU holds it, so a word
// parsed from the hex equals the bytes of the address read as a native integer.
uint32_t native_word(const uint8_t (&bytes)[4]) {
  uint32_t word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

std::optional<uint32_t> parse_hex(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    int digit = hex_value(c);
    if (digit < 0) return std::nullopt;
    value = value << 4 | uint32_t(digit);
  }
  return value;
}

// "0100007F:C60D" (tcp) or "0000000000000000FFFF00000100007F:C60D" (tcp6, IPv4-mapped): the
// endpoint, or nullopt for a malformed field or an IPv6 address that is not IPv4-mapped.
std::optional<Ipv4Endpoint> parse_endpoint(std::string_view field) {
  size_t colon = field.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view address = field.substr(0, colon), port_text = field.substr(colon + 1);
  if (address.size() == 32) {
    static constexpr uint8_t kMappedPrefix[4] = {0, 0, 0xff, 0xff};
    auto w0 = parse_hex(address.substr(0, 8)), w1 = parse_hex(address.substr(8, 8)),
         w2 = parse_hex(address.substr(16, 8));
    if (!w0 || !w1 || !w2 || *w0 != 0 || *w1 != 0 || *w2 != native_word(kMappedPrefix)) return std::nullopt;
    address = address.substr(24);
  } else if (address.size() != 8) {
    return std::nullopt;
  }
  auto word = parse_hex(address);
  auto port = port_text.size() == 4 ? parse_hex(port_text) : std::nullopt;
  if (!word || !port) return std::nullopt;
  return Ipv4Endpoint{*word, uint16_t(*port)};
}

// The first `N` whitespace-separated fields of `line`; false when it has fewer.
template <size_t N>
bool split_fields(std::string_view line, std::array<std::string_view, N>& fields) {
  size_t at = 0;
  for (std::string_view& field : fields) {
    at = line.find_first_not_of(" \t", at);
    if (at == std::string_view::npos) return false;
    size_t end = std::min(line.find_first_of(" \t", at), line.size());
    field = line.substr(at, end - at);
    at = end;
  }
  return true;
}

bool same(const Ipv4Endpoint& a, const Ipv4Endpoint& b) { return a.address == b.address && a.port == b.port; }

}  // namespace

std::optional<uint32_t> tcp_socket_owner(std::string_view table, Ipv4Endpoint local, Ipv4Endpoint remote) {
  // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid ..."
  enum { kSlot, kLocal, kRemote, kState, kQueues, kTimer, kRetransmits, kUid, kTimeout, kInode, kFields };
  while (!table.empty()) {
    size_t end = std::min(table.find('\n'), table.size());
    std::string_view line = table.substr(0, end);
    table.remove_prefix(std::min(end + 1, table.size()));
    std::array<std::string_view, kFields> field;
    if (!split_fields(line, field)) continue;
    auto row_local = parse_endpoint(field[kLocal]), row_remote = parse_endpoint(field[kRemote]);
    if (!row_local || !row_remote || !same(*row_local, local) || !same(*row_remote, remote)) continue;
    // A socket its owner has closed has no file (inode 0), and its uid says nothing: a
    // TIME_WAIT row always reads 0, and before Linux 6.17 so does an orphan still closing. A
    // client that sent and closed would otherwise pass as root.
    if (field[kInode] == "0") return std::nullopt;
    uint32_t uid = 0;
    std::string_view digits = field[kUid];
    bool ok = !digits.empty() && digits.size() <= 10;
    for (char c : digits) {
      if (c < '0' || c > '9') ok = false;
      else uid = uid * 10 + uint32_t(c - '0');  // wraps only past 10 digits, refused above
    }
    if (ok && (digits.size() < 10 || digits <= "4294967295")) return uid;
  }
  return std::nullopt;
}

}  // namespace sw

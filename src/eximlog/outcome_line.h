// What the engine's parse leaves of a delivery outcome line ("=>", "->", ">>", "*>", "**",
// "=="), read from the raw text of a main log or msglog line: whom it is for and whether it
// went to a mailbox on this host. A quoted local part may hold spaces and text that looks like
// tags ("x T=lmtp"@evil.test, chosen by whoever forged the address), so the address part is
// skipped as Exim writes it before any tag is read. Pure.
#pragma once
#include <optional>
#include <string_view>

namespace sw::eximlog {

struct OutcomeParts {
  size_t flag_at = 0;         // where the flag's leading space is
  std::string_view address;   // the final address (or pipe, file) after the flag
  std::string_view original;  // "<top-addr>" without its brackets, when the line gives one
  std::string_view tags;      // the rest: F=, R=, T=, H=, the message
};

// Nullopt when the line has no outcome flag.
std::optional<OutcomeParts> split_outcome(std::string_view line);

// The same for a line of a message's msglog, where Exim 4.96 writes an attempt without the
// flag: "<date> <time> addr[ <top>] [F=<> ]R=router T=transport defer (-4): ..." or "...: 550 ...".
// Nullopt for the msglog's other lines (the reception, "*** Frozen", an SMTP error's detail).
std::optional<OutcomeParts> split_msglog_outcome(std::string_view line);

// An outcome on a transport of this host (virtual_userdelivery, local_delivery, an LMTP or a
// pipe): a T= whose name has no "smtp", and no H=. The address is then a mailbox here.
bool outcome_on_this_host(std::string_view line);
bool outcome_on_this_host(const OutcomeParts& parts);

// Whether the outcome is for `address` (its final or top address, case-blind).
bool outcome_is_for(const OutcomeParts& parts, std::string_view address);

}  // namespace sw::eximlog

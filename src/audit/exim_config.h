// What the audit learns from Exim itself: `exim -bP` option values and named lists, parsed
// here (pure), and gathered through one Exim (binary plus optional -C config).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/exim_process.h"

namespace sw::audit {

// `exim -bP a b +list` output: "name = value" lines; "no_name" as "false", a bare "name" as
// "true"; named lists ("domainlist local_domains = ...") under "+local_domains".
std::map<std::string, std::string> parse_bp_options(std::string_view output);

// An Exim list: colon-separated, "::" an escaped colon, "<;" (or "<X") at the start picks
// another separator; items trimmed, empty ones dropped.
std::vector<std::string> split_exim_list(std::string_view list);

// A list item that is a file lookup ("lsearch;/etc/virtual/domains", "nwildlsearch;/x"):
// the file; nullopt for other items.
std::optional<std::string> lookup_file_of(std::string_view item);

// The keys of an lsearch-style file: first word of each line, comments and blank lines
// skipped, a trailing ':' dropped.
std::vector<std::string> lookup_file_keys(std::string_view text);

struct EximFacts {
  bool usable = false;                         // the config parsed and -bP answered
  std::string error;                           // why not
  std::string config_text;                     // `exim -bP config` (macros and includes resolved)
  std::map<std::string, std::string> options;  // main options and named lists
  std::vector<std::string> local_domains;      // expanded: @ as primary_hostname, lookup files read
  std::vector<std::string> unreadable;         // list files that could not be read

  std::string option(const std::string& name) const {
    auto it = options.find(name);
    return it == options.end() ? std::string() : it->second;
  }
};

// Runs `exim -bV`, `-bP config`, `-bP <options>` and `-bP +<list>` for the lists named.
EximFacts gather_exim_facts(const Exim& exim, const std::vector<std::string>& lists);

// A named list's items with lookup files read in (keys), for drawing probe senders.
// `unreadable` collects the files that could not be read.
std::vector<std::string> expand_list_items(const std::string& value, std::vector<std::string>* unreadable);

}  // namespace sw::audit

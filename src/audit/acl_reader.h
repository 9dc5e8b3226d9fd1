// A reader of Exim ACL statements, pure: from the text of a configuration (`exim -bP config`
// output, or a file as written), the ACLs with their statements in order, and the analysis
// of the RCPT ACL that the relay checks need: where the relay gate is and which `accept`
// statements before it only test what the client controls (sender, HELO, its own IP).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sw::audit {

struct AclCondition {
  std::string name;  // "sender_domains", "domains", "condition", "set", "message", ...
  bool negated = false;
  std::string value;
};

struct AclStatement {
  std::string verb;  // accept, defer, deny, discard, drop, require, warn
  std::vector<AclCondition> conditions;
  std::string file;  // from `# N "file"` markers when present, else the name passed in
  int line = 0;      // of the verb
  const AclCondition* find(std::string_view name) const;
};

struct Acl {
  std::string name;
  std::vector<AclStatement> statements;
};

// Every ACL of the "begin acl" section(s). Never fails: what it cannot read it skips.
std::vector<Acl> read_acls(std::string_view config_text, std::string_view source_name);
const Acl* find_acl(const std::vector<Acl>& acls, std::string_view name);

// Modifiers that do not restrict when a statement applies.
bool is_modifier(std::string_view condition_name);

struct RelayGateAnalysis {
  int gate = -1;                   // index of the first statement that refuses non-local recipient domains; -1 none
  std::vector<int> early_accepts;  // accepts before the gate that the client alone can satisfy
  std::vector<std::string> sender_list_values;  // values of their sender_domains / senders
  std::vector<std::string> why;                 // per early accept, which conditions made it so
};
RelayGateAnalysis analyse_relay_gate(const Acl& rcpt_acl);

// One line for the report: `accept sender_domains = +whitelist_domains logwrite = ...`.
std::string statement_text(const AclStatement& statement, size_t max_length = 160);

// Where a statement is in a configuration file as written: the line of its verb, found by
// the text of its first condition (whitespace-insensitive) after `from_line`; 0 if not found.
int locate_statement(std::string_view file_text, const AclStatement& statement, int from_line);

}  // namespace sw::audit

// The bulk catch-all fix (each "*:" entry becomes ":fail:") and its exact restore: every
// file is snapshotted (bytes, owner, group, mode, mtime, hashes) into a batch before any
// change; restore puts all of it back and refuses a file changed since the fix unless forced.
// Files are opened without following symbolic links (the alias files belong to users).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "audit/catchall.h"
#include "audit/exim_process.h"

namespace sw::audit {

inline constexpr std::string_view kFailText = "No such person at this address";

// The file with its "*:" entry replaced by "*: :fail: TEXT"; an existing :fail: text in the
// entry is kept. Pure.
std::string fail_catchall_text(std::string_view file_text, const CatchallLine& line);

struct FixOutcome {
  std::string batch_id;
  std::string batch_dir;
  int changed = 0;
  std::vector<std::string> messages;  // per domain: re-verified, or why not
  std::vector<std::string> errors;
};

// Applies the fix to the domains that have a file; `exim` (may be null) re-verifies each
// domain with exim -bv. The batch goes under STATE/audit-batches/ID.
FixOutcome apply_catchall_fix(const std::string& state_dir, const std::vector<DomainCatchall>& domains,
                              const Exim* exim);

struct RestoreOutcome {
  int restored = 0;
  std::vector<std::string> refused;  // changed since the fix (without force)
  std::vector<std::string> errors;
};
RestoreOutcome restore_catchall_batch(const std::string& state_dir, const std::string& batch_id, bool force);

}  // namespace sw::audit

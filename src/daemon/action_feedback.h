// Feedback from the admin's own actions, opt-in ([content] learn_from_actions): mail removed
// by `queue remove --yes` or `release --remove` is taught to the content filter as spam, mail
// released with `release --thaw` as ham. The running daemon owns the model, so the messages go
// to it as spamc's TELL does; when it is not reachable the action itself is unaffected.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sw::daemon {

// The message as Exim would hand it to a scanner, rebuilt from a -H and a -D file (live
// headers, an empty line, the body), at most max_bytes of it. False with *error otherwise.
bool read_spool_message(const std::string& header_path, const std::string& data_path, size_t max_bytes,
                        std::string* message, std::string* error);

struct FeedbackResult {
  size_t learned = 0;
  size_t already_learned = 0;       // of `learned`: the model had them already, as the same class
  std::vector<std::string> errors;  // one line per message that could not be taught
};

// Teaches each (header file, data file) pair; stops trying after the first unreachable daemon.
FeedbackResult teach_spool_files(const std::string& address,
                                 const std::vector<std::pair<std::string, std::string>>& files, bool spam);

}  // namespace sw::daemon

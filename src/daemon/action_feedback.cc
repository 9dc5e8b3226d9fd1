#include "daemon/action_feedback.h"

#include <fmt/format.h>

#include "base/fd_io.h"
#include "daemon/spamd_client.h"
#include "spool/spool_header.h"

namespace sw::daemon {
namespace {}  // namespace

bool read_spool_message(const std::string& header_path, const std::string& data_path, size_t max_bytes,
                        std::string* message, std::string* error) {
  std::string header_bytes, data;
  if (!read_file_prefix(header_path, 16 * 1024 * 1024, &header_bytes, error)) return false;
  if (!read_file_prefix(data_path, max_bytes + 64, &data, error)) return false;
  spool::SpoolHeader header;
  spool::HeaderParseStatus status = spool::parse_spool_header(header_bytes, header);
  if (!status.ok()) {
    *error = fmt::format("{}: {} at line {}", header_path, spool::describe(status.error), status.line);
    return false;
  }
  message->clear();
  for (const spool::Header& h : header.headers) {
    if (!h.deleted()) message->append(h.text);
  }
  message->append(header.wireformat ? "\r\n" : "\n");
  size_t body_start = data.find('\n');  // the -D file starts with its "<id>-D" line
  if (body_start != std::string::npos) message->append(std::string_view(data).substr(body_start + 1));
  if (message->size() > max_bytes) message->resize(max_bytes);
  return true;
}

FeedbackResult teach_spool_files(const std::string& address,
                                 const std::vector<std::pair<std::string, std::string>>& files, bool spam) {
  FeedbackResult result;
  for (const auto& [header_path, data_path] : files) {
    std::string message, error;
    if (!read_spool_message(header_path, data_path, 512 * 1024, &message, &error)) {
      result.errors.push_back(error);
      continue;
    }
    auto answer = tell_spamd(address, message, spam ? TellAs::kSpam : TellAs::kHam, 5000, &error);
    if (answer == proto::spamd::TellReply::kChanged || answer == proto::spamd::TellReply::kUnchanged) {
      ++result.learned;
      result.already_learned += answer == proto::spamd::TellReply::kUnchanged;
      continue;
    }
    result.errors.push_back(error);
    // The daemon is down, or will not take this user's TELLs: the rest would fail alike.
    if (error.starts_with("cannot connect") || answer == proto::spamd::TellReply::kNotAllowed) break;
  }
  return result;
}

}  // namespace sw::daemon

// clone_spool: fills a benchmark spool with N copies of messages a real Exim queued, each under
// a fresh, valid, unique message id. The -H first line, every header mention of the id
// (Received: "id ...", Message-Id "E<id>@") and the -D first line are rewritten; ids have the
// template's length, so the -H header byte counts stay exact. Time digits are spread over the
// last `spread` seconds so ages vary; the pid digits carry a counter, which makes ids unique.
//
//   clone_spool SOURCE_SPOOL DEST_SPOOL COUNT [--split] [--spread SECONDS] [--owner UID:GID]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "eximlog/message_id.h"
#include "spool/spool_location.h"

namespace {

const char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::string base62(uint64_t value, size_t width) {
  std::string out(width, '0');
  for (size_t i = width; i-- > 0; value /= 62) out[i] = kDigits[value % 62];
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

bool write_file(const std::string& path, const std::string& bytes, uid_t uid, gid_t gid) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (fd < 0) return false;
  bool ok = ::write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size());
  ok = ::fchown(fd, uid, gid) == 0 && ok;
  ::close(fd);
  return ok;
}

// Same length as `like`: 16-char ids get 6+6+2 digits, 23-char ids 6+11+4.
std::string make_id(const std::string& like, int64_t time, uint64_t counter) {
  if (like.size() == sw::eximlog::kOldIdLength)
    return base62(uint64_t(time), 6) + "-" + base62(counter, 6) + "-" + base62(counter % 2000, 2);
  return base62(uint64_t(time), 6) + "-" + base62(counter, 11) + "-" + base62(counter % 1000000, 4);
}

struct Template {
  std::string id, header, data;
  int64_t received_time = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: clone_spool SOURCE_SPOOL DEST_SPOOL COUNT [--split] [--spread S] [--owner U:G]\n");
    return 2;
  }
  std::string source = argv[1], dest = argv[2];
  uint64_t count = std::strtoull(argv[3], nullptr, 10);
  bool split = false;
  int64_t spread = 3 * 86400;
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  for (int i = 4; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--split") split = true;
    else if (arg == "--spread" && i + 1 < argc) spread = std::atoll(argv[++i]);
    else if (arg == "--owner" && i + 1 < argc) std::sscanf(argv[++i], "%u:%u", &uid, &gid);
  }
  std::vector<Template> templates;
  for (const auto& location : sw::spool::list_messages(source)) {
    Template t{location.id, slurp(location.header_path()), slurp(location.data_path()), 0};
    if (t.header.empty() || t.data.size() < t.id.size() + 3) continue;
    templates.push_back(std::move(t));
  }
  if (templates.empty()) {
    std::fprintf(stderr, "clone_spool: no messages in %s\n", source.c_str());
    return 1;
  }
  ::mkdir((dest + "/input").c_str(), 0750);
  ::chown((dest + "/input").c_str(), uid, gid);
  int64_t now = std::time(nullptr);
  uint64_t counter_base = 100000;  // clear of real pids in the source
  for (uint64_t i = 0; i < count; ++i) {
    const Template& t = templates[i % templates.size()];
    int64_t time = now - int64_t((i * 7919) % uint64_t(spread));
    std::string id = make_id(t.id, time, counter_base + i);
    std::string header = t.header;
    replace_all(header, t.id, id);
    // Line 4 is "<received time> <warnings>": keep it consistent with the id.
    size_t line4 = 0;
    for (int n = 0; n < 3; ++n) line4 = header.find('\n', line4) + 1;
    size_t space = header.find(' ', line4);
    header.replace(line4, space - line4, std::to_string(time));
    std::string data = id + "-D\n" + t.data.substr(t.id.size() + 3);
    std::string dir = dest + "/input";
    if (split) {
      dir += "/" + std::string(1, sw::eximlog::split_subdir_of(id));
      ::mkdir(dir.c_str(), 0750);
      ::chown(dir.c_str(), uid, gid);
    }
    if (!write_file(dir + "/" + id + "-D", data, uid, gid) || !write_file(dir + "/" + id + "-H", header, uid, gid)) {
      std::fprintf(stderr, "clone_spool: cannot write into %s\n", dir.c_str());
      return 1;
    }
  }
  std::printf("cloned %llu messages from %zu templates into %s%s\n", (unsigned long long)count, templates.size(),
              dest.c_str(), split ? " (split)" : "");
  return 0;
}

#include "alert/http_post.h"

#include <unistd.h>

#include <climits>
#include <vector>

#include "alert/http_post_abi.h"
#include "base/shared_library.h"

namespace sw::alert {
namespace {

struct Module {
  SwHttpPost* post = nullptr;
  std::string error;  // why there is none
};

std::string program_directory() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ".";
  std::string exe(path, size_t(n));
  return exe.substr(0, exe.rfind('/'));
}

Module open_module() {
  Module m;
  std::string dir = program_directory();
  // Beside the binary (a build tree), under ../lib/spamwarden (an installed one), or the build
  // tree this was compiled in (test programs live in its subdirectories).
  std::vector<std::string> candidates = {dir + "/" SW_HTTP_MODULE_FILE,
                                         dir + "/../lib/spamwarden/" SW_HTTP_MODULE_FILE};
#ifdef SW_MODULE_BUILD_DIR
  candidates.push_back(SW_MODULE_BUILD_DIR "/" SW_HTTP_MODULE_FILE);
#endif
  for (const auto& path : candidates) {
    if (::access(path.c_str(), R_OK) != 0) continue;
    void* module = open_shared_library(path.c_str(), "it is built beside spamwarden", &m.error);
    if (module) resolve_function(module, path.c_str(), SW_HTTP_POST_SYMBOL, m.post, &m.error);
    return m;
  }
  m.error = "no " SW_HTTP_MODULE_FILE " beside the binary nor in " + dir + "/../lib/spamwarden";
  return m;
}

}  // namespace

bool http_post(const std::string& base, const std::string& path, const std::string& body, const char* content_type,
               int timeout_ms, int* status, std::string* error) {
  static const Module module = open_module();  // once, thread-safe
  if (!module.post) {
    *error = module.error;
    return false;
  }
  char message[256] = "";
  if (module.post(base.c_str(), path.c_str(), body.data(), body.size(), content_type, timeout_ms, status, message,
                  sizeof message))
    return true;
  *error = message;
  return false;
}

}  // namespace sw::alert

#include "classify/gmime_library.h"

#include "base/shared_library.h"

namespace sw::classify {
namespace {

constexpr const char* kSoname = "libgmime-3.0.so.0";

struct Loaded {
  GMimeLibrary library;
  std::string error;  // empty when loaded
};

Loaded load() {
  Loaded l;
  // Never closed: GMime keeps global state (its init, iconv modules) for the process's life.
  void* handle = open_shared_library(kSoname, "install libgmime-3.0-0", &l.error);
  if (!handle) return l;
#define SW_GMIME_RESOLVE(name) \
  if (!resolve_function(handle, kSoname, #name, l.library.name, &l.error)) return l;
  SW_GMIME_FUNCTIONS(SW_GMIME_RESOLVE)
#undef SW_GMIME_RESOLVE
  l.library.g_mime_init();
  return l;
}

const Loaded& loaded() {
  static const Loaded l = load();  // thread-safe, once
  return l;
}

}  // namespace

bool load_gmime(std::string* error) {
  const Loaded& l = loaded();
  if (l.error.empty()) return true;
  if (error) *error = l.error;
  return false;
}

const GMimeLibrary& gmime() { return loaded().library; }

}  // namespace sw::classify

#include "classify/gmime_library.h"

#include <dlfcn.h>

#include <mutex>

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
  void* handle = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    l.error = std::string("cannot load GMime 3 (") + dlerror() + "): install the package libgmime-3.0-0";
    return l;
  }
  // dlsym searches the library and what it depends on (GLib, GObject): one handle for all.
#define SW_GMIME_RESOLVE(name)                                                          \
  l.library.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name));           \
  if (!l.library.name) {                                                                \
    l.error = std::string(kSoname) + " has no " #name ": GMime 3.2 or later is needed"; \
    return l;                                                                           \
  }
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

#include "base/shared_library.h"

#include <dlfcn.h>

namespace sw {

void* open_shared_library(const char* soname, const char* remedy, std::string* error) {
  void* library = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!library && error) *error = std::string("cannot load ") + soname + " (" + dlerror() + "): " + remedy;
  return library;
}

bool resolve_function(void* library, const char* soname, const char* name, void** function, std::string* error) {
  *function = dlsym(library, name);  // searches the library's dependencies too
  if (*function) return true;
  if (error) *error = std::string(soname) + " has no " + name + ": a newer version is needed";
  return false;
}

}  // namespace sw

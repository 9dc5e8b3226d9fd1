// Libraries opened with dlopen when a command first needs them, instead of linked: every
// shared library linked is mapped and relocated at every start of every command, and most
// commands (logs, queue, release) need neither MIME nor cryptography.
#pragma once
#include <string>

namespace sw {

// Opens the library by its soname (or path), binding every symbol now; never closed. Null when
// it cannot be opened, with *error saying why and what to do (`remedy`: "install libssl3").
void* open_shared_library(const char* soname, const char* remedy, std::string* error);

// Sets `function` to `name` in the library or in what it depends on; false with *error when
// the library has no such symbol (too old).
bool resolve_function(void* library, const char* soname, const char* name, void** function, std::string* error);

template <class F>
bool resolve_function(void* library, const char* soname, const char* name, F*& function, std::string* error) {
  void* address = nullptr;
  if (!resolve_function(library, soname, name, &address, error)) return false;
  function = reinterpret_cast<F*>(address);
  return true;
}

}  // namespace sw

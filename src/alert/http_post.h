// An HTTP POST with cpp-httplib, which is opened (dlopen) with the first alert sent instead of
// linked: libcpp-httplib pulls in OpenSSL and brotli and initialises OpenSSL as it loads, about
// 5 ms of every command's start, and only the daemons send webhooks. The part that calls
// cpp-httplib is a module of its own, spamwarden-http.so, found beside the spamwarden binary
// (a build tree) or in ../lib/spamwarden/ from it (an installed one).
#pragma once
#include <string>

namespace sw::alert {

// POSTs `body` to `path` on `base` ("http://host:port"). True when the server answered; then
// *status is its HTTP status. False with *error saying why (no answer, or no module).
bool http_post(const std::string& base, const std::string& path, const std::string& body, const char* content_type,
               int timeout_ms, int* status, std::string* error);

}  // namespace sw::alert

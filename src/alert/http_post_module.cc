// spamwarden-http.so: the one place that calls cpp-httplib (see http_post.h). A C entry point,
// so the program that opens it needs no C++ types across the boundary.
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "alert/http_post_abi.h"

extern "C" __attribute__((visibility("default"))) int sw_http_post(const char* base, const char* path, const char* body,
                                                                   size_t body_size, const char* content_type,
                                                                   int timeout_ms, int* status, char* error,
                                                                   size_t error_size) {
  try {
    httplib::Client client(base);
    auto timeout = std::chrono::milliseconds(timeout_ms);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    auto result = client.Post(path, body, body_size, content_type);
    if (!result) {
      std::snprintf(error, error_size, "%s", httplib::to_string(result.error()).c_str());
      return 0;
    }
    *status = result->status;
    return 1;
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
    return 0;
  }
}

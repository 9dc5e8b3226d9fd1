// The entry point of spamwarden-http.so (http_post_module.cc), as http_post.cc calls it.
#pragma once
#include <cstddef>

#define SW_HTTP_MODULE_FILE "spamwarden-http.so"
#define SW_HTTP_POST_SYMBOL "sw_http_post"

extern "C" {
// 1 with *status when the server answered; 0 with a message in `error` when not.
typedef int SwHttpPost(const char* base, const char* path, const char* body, size_t body_size, const char* content_type,
                       int timeout_ms, int* status, char* error, size_t error_size);
int sw_http_post(const char* base, const char* path, const char* body, size_t body_size, const char* content_type,
                 int timeout_ms, int* status, char* error, size_t error_size);
}

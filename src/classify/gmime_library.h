// GMime, loaded when the content filter first needs it rather than when the program starts:
// GMime with GLib, GIO and their dependencies is 14 shared libraries, whose loading and
// relocation cost every `spamwarden` command about 6 ms, and only serve and learn parse MIME.
#pragma once
#include <gmime/gmime.h>

#include <string>

namespace sw::classify {

// The GMime and GLib functions the MIME reader calls, each with its declared type.
#define SW_GMIME_FUNCTIONS(X)              \
  X(g_mime_init)                           \
  X(g_mime_iconv_open)                     \
  X(g_mime_filter_charset_new)             \
  X(g_mime_part_get_content)               \
  X(g_mime_part_is_attachment)             \
  X(g_mime_part_get_type)                  \
  X(g_mime_multipart_get_type)             \
  X(g_mime_multipart_get_count)            \
  X(g_mime_multipart_get_part)             \
  X(g_mime_message_part_get_type)          \
  X(g_mime_message_part_get_message)       \
  X(g_mime_message_get_mime_part)          \
  X(g_mime_object_get_content_type)        \
  X(g_mime_object_get_header_list)         \
  X(g_mime_content_type_get_media_type)    \
  X(g_mime_content_type_get_media_subtype) \
  X(g_mime_content_type_get_parameter)     \
  X(g_mime_header_list_get_count)          \
  X(g_mime_header_list_get_header_at)      \
  X(g_mime_header_get_offset)              \
  X(g_mime_header_get_name)                \
  X(g_mime_header_get_value)               \
  X(g_mime_stream_mem_new)                 \
  X(g_mime_stream_mem_new_with_buffer)     \
  X(g_mime_stream_mem_new_with_byte_array) \
  X(g_mime_stream_mem_set_owner)           \
  X(g_mime_stream_mem_get_byte_array)      \
  X(g_mime_stream_filter_new)              \
  X(g_mime_stream_filter_add)              \
  X(g_mime_stream_flush)                   \
  X(g_mime_data_wrapper_write_to_stream)   \
  X(g_mime_parser_new_with_stream)         \
  X(g_mime_parser_set_format)              \
  X(g_mime_parser_construct_message)       \
  X(g_object_unref)                        \
  X(g_type_check_instance_is_a)            \
  X(g_byte_array_new)                      \
  X(g_byte_array_unref)                    \
  X(g_byte_array_set_size)                 \
  X(g_byte_array_append)

struct GMimeLibrary {
#define SW_GMIME_POINTER(name) decltype(&::name) name = nullptr;
  SW_GMIME_FUNCTIONS(SW_GMIME_POINTER)
#undef SW_GMIME_POINTER

  // Whether an object is an instance of the type (or of a subtype), as GMIME_IS_PART() and the
  // like ask; their macros would call GObject directly.
  bool is_a(const void* object, GType (*type)()) const {
    return object && g_type_check_instance_is_a(static_cast<GTypeInstance*>(const_cast<void*>(object)), type());
  }
};

// Loads GMime (libgmime-3.0.so.0) and initialises it, once; false with *error saying why when
// it cannot (the package libgmime-3.0-0 missing). Thread-safe.
bool load_gmime(std::string* error);
// The loaded library; load_gmime() must have returned true.
const GMimeLibrary& gmime();

}  // namespace sw::classify

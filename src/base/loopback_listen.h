// Where a local HTTP endpoint may listen: loopback only, so nothing we start is reachable
// from outside the machine.
#pragma once
#include <string>

namespace sw {

// "127.0.0.1:9813" -> host, port. Only a numeric address in 127.0.0.0/8 and a port 1-65535
// with nothing after it; `error` says what is wrong otherwise.
bool parse_loopback_listen(const std::string& spec, std::string* host, int* port, std::string* error);

}  // namespace sw

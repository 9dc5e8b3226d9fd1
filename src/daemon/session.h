// A protocol adapter's view of one client connection: bytes in, bytes out, no sockets. The
// daemon's event loop owns the socket, the deadlines and the limits; an adapter (Exim
// readsocket, Postfix policy, spamd) only parses requests and asks the engine.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sw::daemon {

class Session {
 public:
  virtual ~Session() = default;
  // Consumes bytes read from the client and appends any reply to *out. Returns false when the
  // connection is to be closed once *out has been written (a bad request, a one-shot protocol).
  virtual bool on_input(std::string_view in, std::string* out) = 0;
  // The client half-closed (EOF on read): the last chance to answer before the close.
  virtual void on_end_of_input(std::string* out) = 0;
};

// The local user at the other end of the connection (base/peer_uid), asked only when a
// request needs it: for a TCP peer it reads the kernel's socket table. nullopt: unknown.
using PeerUid = std::function<std::optional<uint32_t>()>;

class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  virtual std::unique_ptr<Session> open(std::string_view peer) = 0;
  // For adapters whose requests depend on who sent them (spamd TELL).
  virtual std::unique_ptr<Session> open_from(std::string_view peer, PeerUid /*uid*/) { return open(peer); }
};

}  // namespace sw::daemon

#include "audit/dns_resolver.h"

#include <ares.h>
#include <poll.h>

#include <algorithm>
#include <stdexcept>

#include "audit/dns_message.h"

namespace sw::audit::dns {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::answer: return "answer";
    case Outcome::nxdomain: return "NXDOMAIN";
    case Outcome::nodata: return "NODATA";
    case Outcome::servfail: return "SERVFAIL";
    case Outcome::refused: return "REFUSED";
    case Outcome::timeout: return "timeout";
    case Outcome::error: return "error";
  }
  return "?";
}

struct Resolver::Pending {
  Resolver* owner;
  std::string name;
  RecordType type;
  Callback callback;
};

namespace {

constexpr int kClassIn = 1;  // the Internet class (RFC 1035)

struct LibraryInit {
  LibraryInit() { ares_library_init(ARES_LIB_INIT_ALL); }
};

Outcome outcome_of_status(int status) {
  switch (status) {
    case ARES_SUCCESS: return Outcome::answer;
    case ARES_ENOTFOUND: return Outcome::nxdomain;
    case ARES_ENODATA: return Outcome::nodata;
    case ARES_ESERVFAIL: return Outcome::servfail;
    case ARES_EREFUSED: return Outcome::refused;
    case ARES_ETIMEOUT: return Outcome::timeout;
    default: return Outcome::error;
  }
}

// c-ares reports NXDOMAIN and NODATA from the rcode; the answer section is ours to read.
Answer answer_of(int status, const unsigned char* abuf, int alen, RecordType type, size_t max_txt) {
  Answer answer;
  answer.outcome = outcome_of_status(status);
  if (answer.outcome != Outcome::answer) {
    if (answer.outcome == Outcome::error || answer.outcome == Outcome::timeout) answer.detail = ares_strerror(status);
    return answer;
  }
  ParsedAnswer parsed;
  if (!abuf || !parse_answer({reinterpret_cast<const char*>(abuf), static_cast<size_t>(alen)}, type, parsed, max_txt)) {
    answer.outcome = Outcome::error;
    answer.detail = "malformed response";
    return answer;
  }
  answer.records = std::move(parsed.records);
  answer.capped = parsed.capped;
  if (answer.records.empty()) answer.outcome = Outcome::nodata;  // only a CNAME, or other types
  return answer;
}

}  // namespace

Resolver::Resolver(ResolverOptions options) : options_(std::move(options)) {
  static LibraryInit init;
  ares_options opts{};
  // NOCHECKRESP: a SERVFAIL or REFUSED is the answer to report, not a cue to try the next server and end
  // up with "could not contact DNS servers".
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP;
  opts.timeout = static_cast<int>(options_.timeout.count());
  opts.tries = std::max(1, options_.tries);
  opts.sock_state_cb = &Resolver::on_socket_state;
  opts.sock_state_cb_data = this;
  opts.socket_receive_buffer_size = 4 << 20;  // a burst of thousands of answers must not be dropped
  opts.ednspsz = 1232;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_SOCK_RCVBUF |
             ARES_OPT_EDNSPSZ;
  ares_channel channel = nullptr;
  int rc = ares_init_options(&channel, &opts, mask);
  if (rc != ARES_SUCCESS) throw std::runtime_error(std::string("DNS resolver: ") + ares_strerror(rc));
  channel_ = channel;
  if (!options_.servers.empty()) {
    std::string csv;
    for (const auto& server : options_.servers) csv += (csv.empty() ? "" : ",") + server;
    rc = ares_set_servers_ports_csv(channel, csv.c_str());
    if (rc != ARES_SUCCESS) {
      ares_destroy(channel);
      throw std::runtime_error("DNS resolver: bad server list '" + csv + "': " + ares_strerror(rc));
    }
  }
}

Resolver::~Resolver() {
  // Queries still in flight end with ARES_EDESTRUCTION; their callbacks must not run into us.
  waiting_.clear();
  ares_destroy(static_cast<ares_channel>(channel_));
}

void Resolver::query(std::string name, RecordType type, Callback callback) {
  auto pending = std::make_unique<Pending>(Pending{this, std::move(name), type, std::move(callback)});
  waiting_.push_back(std::move(pending));
}

void Resolver::start(std::unique_ptr<Pending> pending) {
  ++in_flight_;
  ++sent_;
  Pending* raw = pending.release();
  ares_query(static_cast<ares_channel>(channel_), raw->name.c_str(), kClassIn, static_cast<int>(raw->type),
             &Resolver::on_answer, raw);
}

void Resolver::on_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* pending = static_cast<Pending*>(arg);
  if (status == ARES_EDESTRUCTION) {
    delete pending;
    return;
  }
  pending->owner->finished(pending, status, abuf, alen);
}

void Resolver::finished(Pending* raw, int status, const unsigned char* abuf, int alen) {
  std::unique_ptr<Pending> pending(raw);
  --in_flight_;
  Answer answer = answer_of(status, abuf, alen, pending->type, options_.max_txt_bytes);
  pending->callback(answer);
}

void Resolver::on_socket_state(void* data, int fd, int readable, int writable) {
  auto& sockets = static_cast<Resolver*>(data)->sockets_;
  auto it = std::find_if(sockets.begin(), sockets.end(), [fd](const auto& s) { return s.first == fd; });
  short events = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
  if (events == 0) {
    if (it != sockets.end()) sockets.erase(it);
  } else if (it != sockets.end()) {
    it->second = events;
  } else {
    sockets.emplace_back(fd, events);
  }
}

void Resolver::wait_and_process() {
  auto channel = static_cast<ares_channel>(channel_);
  timeval tv{}, max_wait{1, 0};
  timeval* wait = ares_timeout(channel, &max_wait, &tv);
  int timeout_ms = static_cast<int>(wait->tv_sec * 1000 + wait->tv_usec / 1000);
  std::vector<pollfd> fds;
  for (const auto& [fd, events] : sockets_) fds.push_back({fd, events, 0});
  int ready = poll(fds.data(), fds.size(), timeout_ms);
  if (ready <= 0) {
    ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts and retries
    return;
  }
  for (const auto& p : fds) {
    if (p.revents == 0) continue;
    bool readable = p.revents & (POLLIN | POLLERR | POLLHUP);
    ares_process_fd(channel, readable ? p.fd : ARES_SOCKET_BAD, (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
  }
}

void Resolver::run() {
  while (!waiting_.empty() || in_flight_ > 0) {
    while (!waiting_.empty() && in_flight_ < options_.max_in_flight) {
      auto next = std::move(waiting_.front());
      waiting_.pop_front();
      start(std::move(next));  // may call back at once (a bad name), which may queue more
    }
    if (in_flight_ > 0) wait_and_process();
  }
}

}  // namespace sw::audit::dns

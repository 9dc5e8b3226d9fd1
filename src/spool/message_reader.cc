#include "spool/message_reader.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sw::spool {
namespace {

constexpr unsigned kBatch = 64;           // messages per io_uring_enter()
constexpr size_t kSlotBuffer = 16384;     // per message; a bigger -H is read on the plain path
constexpr unsigned kMaxAsyncWorkers = 8;  // io-wq threads for lookups that miss the cache (cold)

// user_data: message index * 4 + step.
enum Step : uint64_t { kOpen = 0, kRead = 1, kClose = 2, kStat = 3 };

}  // namespace

struct MessageReader::Ring {
  io_uring ring{};
  bool ready = false;
  // No O_CLOEXEC: not allowed for registered slots. No links, no waiting on a FIFO: as the plain path.
  int open_flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOATIME;
  // Not zeroed: the kernel writes into it, and untouched pages stay unmapped (cheap RSS).
  std::unique_ptr<char[]> buffers{new char[size_t(kBatch) * kSlotBuffer]};
  struct Slot {
    char header_name[32];
    char data_name[32];
    struct statx data;
    int open_result, read_result, stat_result;
  };
  std::vector<Slot> slots = std::vector<Slot>(kBatch);

  ~Ring() {
    if (ready) io_uring_queue_exit(&ring);
  }

  // 0 or -errno.
  int setup() {
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int error = io_uring_queue_init_params(kBatch * 4, &ring, &params);
    if (error == -EINVAL) {  // kernels before 6.1 lack the two flags above
      params = io_uring_params{};
      error = io_uring_queue_init_params(kBatch * 4, &ring, &params);
    }
    if (error < 0) return error;
    ready = true;
    if (int e = io_uring_register_files_sparse(&ring, kBatch); e < 0) return e;
    unsigned workers[2] = {kMaxAsyncWorkers, kMaxAsyncWorkers};
    io_uring_register_iowq_max_workers(&ring, workers);  // a cap only; failure is harmless
    io_uring_probe* probe = io_uring_get_probe_ring(&ring);
    if (!probe) return -ENOSYS;
    bool supported =
        io_uring_opcode_supported(probe, IORING_OP_OPENAT) && io_uring_opcode_supported(probe, IORING_OP_READ) &&
        io_uring_opcode_supported(probe, IORING_OP_CLOSE) && io_uring_opcode_supported(probe, IORING_OP_STATX);
    io_uring_free_probe(probe);
    return supported ? 0 : -ENOSYS;
  }

  char* buffer(size_t i) { return buffers.get() + i * kSlotBuffer; }
};

MessageReader::MessageReader(ReaderOptions options) : options_(options) {
  if (options_.io == IoMode::syscalls) return;
  auto ring = std::make_unique<Ring>();
  if (int error = ring->setup(); error < 0) {
    io_uring_error_ = std::string("io_uring: ") + std::strerror(-error);
    return;
  }
  ring_ = std::move(ring);
}

MessageReader::~MessageReader() = default;

bool MessageReader::uses_io_uring() const { return ring_ != nullptr; }

size_t MessageReader::batch_size() const { return ring_ ? kBatch : 1; }

ReadResult MessageReader::read_plain(const ReadRequest& request) {
  return request.dir_fd >= 0 ? read_message_at(request.dir_fd, *request.location, header_, buffer_, options_.body_sizes)
                             : read_message(*request.location, header_, buffer_, options_.body_sizes);
}

void MessageReader::read_batch(std::span<const ReadRequest> batch, const Done& done) {
  if (!ring_) {
    for (size_t i = 0; i < batch.size(); ++i) done(i, read_plain(batch[i]), header_);
    return;
  }
  Ring& r = *ring_;
  const size_t n = std::min<size_t>(batch.size(), kBatch);
  std::vector<bool> queued(n, false);
  unsigned submitted = 0;
  for (size_t i = 0; i < n; ++i) {
    const ReadRequest& request = batch[i];
    const std::string& id = request.location->id;
    Ring::Slot& slot = r.slots[i];
    slot.open_result = slot.read_result = slot.stat_result = -ECANCELED;
    if (request.dir_fd < 0 || id.size() + 3 > sizeof slot.header_name) continue;  // plain path
    std::memcpy(slot.header_name, id.data(), id.size());
    std::memcpy(slot.header_name + id.size(), "-H", 3);
    const bool stat_data = options_.body_sizes || !request.location->data_seen;
    // Hard links: the read and the close run even when the open failed (they then fail on the
    // empty slot), so a slot is never left open whatever happens.
    io_uring_sqe* sqe = io_uring_get_sqe(&r.ring);
    io_uring_prep_openat_direct(sqe, request.dir_fd, slot.header_name, r.open_flags, 0, unsigned(i));
    io_uring_sqe_set_flags(sqe, IOSQE_IO_HARDLINK);
    io_uring_sqe_set_data64(sqe, i * 4 + kOpen);
    sqe = io_uring_get_sqe(&r.ring);
    io_uring_prep_read(sqe, int(i), r.buffer(i), unsigned(kSlotBuffer), 0);
    io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK);
    io_uring_sqe_set_data64(sqe, i * 4 + kRead);
    sqe = io_uring_get_sqe(&r.ring);
    io_uring_prep_close_direct(sqe, unsigned(i));
    io_uring_sqe_set_data64(sqe, i * 4 + kClose);
    submitted += 3;
    if (stat_data) {
      std::memcpy(slot.data_name, slot.header_name, id.size() + 3);
      slot.data_name[id.size() + 1] = 'D';
      sqe = io_uring_get_sqe(&r.ring);
      io_uring_prep_statx(sqe, request.dir_fd, slot.data_name, 0, STATX_SIZE, &slot.data);
      io_uring_sqe_set_data64(sqe, i * 4 + kStat);
      ++submitted;
    }
    queued[i] = true;
  }

  unsigned reaped = 0;
  int error = submitted > 0 ? io_uring_submit_and_wait(&r.ring, submitted) : 0;
  while (error == -EINTR) error = io_uring_submit_and_wait(&r.ring, 0);
  while (error >= 0 && reaped < submitted) {
    io_uring_cqe* cqe = nullptr;
    error = io_uring_wait_cqe(&r.ring, &cqe);
    if (error == -EINTR) {
      error = 0;
      continue;
    }
    if (error < 0) break;
    uint64_t data = io_uring_cqe_get_data64(cqe);
    Ring::Slot& slot = r.slots[data / 4];
    switch (data % 4) {
      case kOpen: slot.open_result = cqe->res; break;
      case kRead: slot.read_result = cqe->res; break;
      case kClose: break;
      case kStat: slot.stat_result = cqe->res; break;
    }
    io_uring_cqe_seen(&r.ring, cqe);
    ++reaped;
  }
  if (error < 0) {
    // The ring broke down. Requests may still be in flight into its buffers, so the ring is
    // deliberately never freed; from now on this reader uses plain system calls.
    io_uring_error_ = std::string("io_uring: ") + std::strerror(-error);
    (void)ring_.release();
    for (size_t i = 0; i < batch.size(); ++i) done(i, read_plain(batch[i]), header_);
    return;
  }

  bool unsupported = false;
  for (size_t i = 0; i < n; ++i) {
    Ring::Slot& slot = r.slots[i];
    const ReadRequest& request = batch[i];
    if (!queued[i]) {
      done(i, read_plain(request), header_);
      continue;
    }
    if (slot.open_result == -ENOENT) {  // delivered or removed since the listing
      done(i, {ReadOutcome::vanished, "", -1}, header_);
      continue;
    }
    if (slot.open_result == -EPERM && (r.open_flags & O_NOATIME)) r.open_flags &= ~O_NOATIME;  // not owner
    if (slot.open_result == -EINVAL) unsupported = true;  // a kernel without opens into file slots
    const size_t length = slot.read_result < 0 ? 0 : size_t(slot.read_result);
    const bool stat_data = options_.body_sizes || !request.location->data_seen;
    if (slot.open_result < 0 || slot.read_result < 0 || length >= kSlotBuffer || (stat_data && slot.stat_result < 0) ||
        !parse_spool_header(std::string_view(r.buffer(i), length), header_).ok()) {
      done(i, read_plain(request), header_);  // judged (and worded) by the plain path
      continue;
    }
    if (header_.id != request.location->id) {
      done(i, {ReadOutcome::unreadable, "-H names another message: " + header_.id, -1}, header_);
      continue;
    }
    int64_t body_size =
        options_.body_sizes ? body_size_from_data_file(*request.location, int64_t(slot.data.stx_size)) : -1;
    done(i, {ReadOutcome::ok, "", body_size}, header_);
  }
  for (size_t i = n; i < batch.size(); ++i) done(i, read_plain(batch[i]), header_);
  if (unsupported) {  // every completion was reaped: nothing is in flight, the ring can go
    io_uring_error_ = "io_uring: openat into a file slot not supported by this kernel";
    ring_.reset();
  }
}

}  // namespace sw::spool

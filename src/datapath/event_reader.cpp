#include "datapath/event_reader.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "datapath/libbpf_log.h"

namespace cpp::datapath {
namespace {

constexpr int kPollIntervalMs = 50;

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
}

IpAddr addr_of(const cpp_addr& a, uint8_t family) {
  IpAddr out;
  out.v6 = family == CPP_FAMILY_IPV6;
  std::memcpy(out.bytes.data(), a.ip6, out.v6 ? 16 : 4);
  return out;
}

}  // namespace

Event Event::decode(const cpp_event& raw) {
  Event e;
  e.type = raw.type;
  e.verdict = raw.verdict;
  e.reason = raw.reason;
  e.direction = raw.direction;
  e.ep_id = raw.ep_id;
  e.protocol = raw.protocol;
  e.src_identity = raw.src_identity;
  e.dst_identity = raw.dst_identity;
  e.cookie = raw.cookie;
  e.sport = ntohs(raw.sport);
  e.dport = ntohs(raw.dport);
  e.saddr = addr_of(raw.saddr, raw.family);
  e.daddr = addr_of(raw.daddr, raw.family);
  e.ifindex = raw.ifindex;
  e.len = raw.len;
  e.ts_ns = raw.ts_ns;
  e.obs_point = raw.obs_point;
  e.tcp_flags = raw.tcp_flags;
  e.flags = raw.flags;
  if (e.xlated()) {
    e.orig_daddr = addr_of(raw.orig_daddr, raw.family);
    e.orig_dport = ntohs(raw.orig_dport);
  }
  if (e.type == CPP_EVENT_POLICY_VERDICT) e.match_type = raw.pad;
  return e;
}

Event Event::decode(const cpp_event_sock& raw) {
  Event e = decode(raw.ev);
  e.sock_cookie = raw.sock_cookie;
  e.cgroup_id = raw.cgroup_id;
  e.netns_cookie = raw.netns_cookie;
  return e;
}

EventsLostCounter::EventsLostCounter(const std::string& pin_dir) {
  const std::string path = pin_dir + "/" CPP_MAP_EVENTS_LOST;
  fd_ = bpf_obj_get(path.c_str());
  if (fd_ < 0) fail("open pinned map " + path, errno);
  ncpus_ = libbpf_num_possible_cpus();
  if (ncpus_ <= 0) {
    ::close(fd_);
    fail("number of possible CPUs", ncpus_);
  }
}

EventsLostCounter::~EventsLostCounter() { ::close(fd_); }

uint64_t EventsLostCounter::read() const {
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpus_));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd_, &zero, per_cpu.data()) < 0) fail("read " CPP_MAP_EVENTS_LOST, errno);
  uint64_t sum = 0;
  for (uint64_t n : per_cpu) sum += n;
  return sum;
}

EventReader::EventReader(const std::string& pin_dir, Callback cb) : cb_(std::move(cb)) {
  route_libbpf_logs();
  const std::string path = pin_dir + "/" CPP_MAP_EVENTS;
  map_fd_ = bpf_obj_get(path.c_str());
  if (map_fd_ < 0) fail("open pinned map " + path, errno);
  rb_ = ring_buffer__new(map_fd_, &EventReader::on_sample, this, nullptr);
  if (!rb_) {
    int err = errno;
    ::close(map_fd_);
    fail("ring buffer on " + path, err);
  }
  // The thread waits on the ring's epoll fd and on an eventfd, so stop()
  // wakes it at once instead of after a poll timeout.
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = ring_buffer__epoll_fd(rb_);
  bool ok = epoll_fd_ >= 0 && wake_fd_ >= 0 &&
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ev.data.fd, &ev) == 0;
  ev.data.fd = wake_fd_;
  ok = ok && ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) == 0;
  if (!ok) {
    int err = errno;
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    ring_buffer__free(rb_);
    ::close(map_fd_);
    fail("event reader epoll", err);
  }
}

EventReader::~EventReader() {
  stop();
  ring_buffer__free(rb_);
  ::close(epoll_fd_);
  ::close(wake_fd_);
  ::close(map_fd_);
}

int EventReader::on_sample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<EventReader*>(ctx);
  // Later versions may append fields; a shorter record is not ours.
  if (size < sizeof(cpp_event)) {
    self->malformed_.fetch_add(1);
    return 0;
  }
  cpp_event raw;
  std::memcpy(&raw, data, sizeof(raw));
  // A trace-sock record without its tail is cut short: not ours either.
  cpp_event_sock sock{};
  if (raw.type == CPP_EVENT_TRACE_SOCK) {
    if (size < sizeof(sock)) {
      self->malformed_.fetch_add(1);
      return 0;
    }
    std::memcpy(&sock, data, sizeof(sock));
  }
  self->delivered_.fetch_add(1);
  try {
    self->cb_(raw.type == CPP_EVENT_TRACE_SOCK ? Event::decode(sock) : Event::decode(raw));
  } catch (const std::exception& e) {
    spdlog::warn("datapath event callback: {}", e.what());
  }
  return 0;
}

int EventReader::consume() {
  int n = ring_buffer__consume(rb_);
  if (n < 0) fail("consume " CPP_MAP_EVENTS, n);
  return n;
}

int EventReader::poll(int timeout_ms) {
  // The datapath defers wake-ups until a batch is waiting: read what is
  // there first, and again when the wait ends without a wake-up.
  int n = consume();
  if (n > 0) return n;
  n = ring_buffer__poll(rb_, timeout_ms);
  if (n == -EINTR) return 0;
  if (n < 0) fail("poll " CPP_MAP_EVENTS, n);
  return n > 0 ? n : consume();
}

void EventReader::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  uint64_t drain;
  while (::read(wake_fd_, &drain, sizeof(drain)) > 0) {
  }
  thread_ = std::thread([this] { run(); });
}

void EventReader::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) < 0)
    spdlog::debug("event reader wake-up: {}", std::strerror(errno));
  thread_.join();
}

void EventReader::run() {
  epoll_event evs[2];
  while (!stopping_) {
    // The datapath wakes the reader only once a batch is waiting
    // (bpf/lib/events.h event_submit); the timeout picks up the rest.
    int n = ::epoll_wait(epoll_fd_, evs, 2, kPollIntervalMs);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("event reader: epoll_wait: {}", std::strerror(errno));
      return;
    }
    if (stopping_) return;
    int got = ring_buffer__consume(rb_);
    if (got < 0) {
      spdlog::error("event reader: consume: {}", std::strerror(-got));
      return;
    }
  }
}

}  // namespace cpp::datapath

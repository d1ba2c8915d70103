// cpp-rr: a small TCP request/response benchmark tool (bench-protocol.md:
// wrk and python servers are too slow to see the datapath).
//
//   cpp-rr server --port P [--bind ADDR] [--lifetime S]
//       epoll server; echoes every byte it reads. Binds [::] (dual stack)
//       unless --bind is given. Exits after --lifetime seconds (default 3600).
//   cpp-rr rr  --host H --port P [--seconds S] [--warmup W] [--timeout T]
//       one connection, 1-byte ping-pong for S seconds (after W seconds of
//       uncounted warm-up on the same connection).
//   cpp-rr crr --host H --port P [--seconds S] [--warmup W] [--timeout T]
//       per transaction: connect, send 1 byte, read 1 byte, close.
//
// Clients print one JSON line on stdout:
//   {"mode":"rr","transactions":N,"seconds":S,"rate":R,"mean_latency_us":L,
//    "runqueue_wait_pct":W}
// W: share of the measured time the client waited for its CPU while runnable
// (other processes competing for it; -1 when schedstat is unavailable).
// Errors go to stderr, exit status 1 (2 for usage errors). Traffic goes only
// to the numeric address given with --host (IPv4 or IPv6, no name lookup).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

[[noreturn]] void usage(const std::string& msg) {
  if (!msg.empty()) std::fprintf(stderr, "cpp-rr: %s\n", msg.c_str());
  std::fprintf(stderr,
               "usage:\n"
               "  cpp-rr server --port P [--bind ADDR] [--lifetime SECONDS]\n"
               "  cpp-rr rr  --host ADDR --port P [--seconds S] [--warmup W] [--timeout T]\n"
               "  cpp-rr crr --host ADDR --port P [--seconds S] [--warmup W] [--timeout T]\n");
  std::exit(2);
}

[[noreturn]] void die(const std::string& what, int err) {
  std::fprintf(stderr, "cpp-rr: %s: %s\n", what.c_str(), std::strerror(err));
  std::exit(1);
}

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Args {
  std::string mode;
  std::map<std::string, std::string> opts;

  std::optional<std::string> get(const std::string& k) const {
    auto it = opts.find(k);
    if (it == opts.end()) return std::nullopt;
    return it->second;
  }
  double num(const std::string& k, double def, double lo, double hi) const {
    auto v = get(k);
    if (!v) return def;
    char* end = nullptr;
    errno = 0;
    double d = std::strtod(v->c_str(), &end);
    if (errno != 0 || end == v->c_str() || *end != '\0' || d < lo || d > hi)
      usage("--" + k + " '" + *v + "' must be a number in " + std::to_string(lo) + ".." +
            std::to_string(hi));
    return d;
  }
};

Args parse(int argc, char** argv, const std::vector<std::string>& allowed) {
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) usage("unexpected argument '" + s + "'");
    std::string k = s.substr(2);
    bool ok = false;
    for (const auto& al : allowed) ok = ok || al == k;
    if (!ok) usage("unknown option '" + s + "' for mode " + a.mode);
    if (i + 1 >= argc) usage("option '" + s + "' needs a value");
    a.opts[k] = argv[++i];
  }
  return a;
}

uint16_t port_of(const Args& a) {
  auto p = a.get("port");
  if (!p) usage("--port is required");
  return static_cast<uint16_t>(a.num("port", 0, 1, 65535));
}

// Numeric IPv4/IPv6 address + port -> sockaddr (no DNS: traffic goes only to
// the address given).
sockaddr_storage resolve(const std::string& host, uint16_t port, socklen_t& len) {
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string ps = std::to_string(port);
  int rc = getaddrinfo(h.c_str(), ps.c_str(), &hints, &res);
  if (rc != 0 || !res) {
    std::fprintf(stderr, "cpp-rr: '%s' is not a numeric IPv4/IPv6 address: %s\n", host.c_str(),
                 gai_strerror(rc));
    std::exit(2);
  }
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  freeaddrinfo(res);
  return ss;
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// ---------------------------------------------------------------- server --

int run_server(const Args& a) {
  uint16_t port = port_of(a);
  double lifetime = a.num("lifetime", 3600, 1, 7 * 24 * 3600);
  std::string bind_addr = a.get("bind").value_or("::");
  socklen_t alen = 0;
  sockaddr_storage addr = resolve(bind_addr, port, alen);

  int lfd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket", errno);
  int one = 1, zero = 0;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.ss_family == AF_INET6) setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  set_nodelay(lfd);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), alen) < 0)
    die("bind " + bind_addr + " port " + std::to_string(port), errno);
  if (listen(lfd, 4096) < 0) die("listen", errno);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl", errno);
  std::fprintf(stderr, "cpp-rr: serving on %s port %u for at most %.0f s\n", bind_addr.c_str(),
               port, lifetime);

  std::unordered_map<int, std::string> pending;  // fd -> bytes not yet echoed
  auto close_conn = [&](int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    pending.erase(fd);
    close(fd);
  };
  // Echo buf[0..n) on fd; what does not fit waits for EPOLLOUT.
  auto send_or_queue = [&](int fd, const char* buf, size_t n) -> bool {
    auto& q = pending[fd];
    if (q.empty()) {
      ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      if (w < 0) w = 0;
      buf += w;
      n -= static_cast<size_t>(w);
    }
    if (n > 0) {
      bool was_empty = q.empty();
      q.append(buf, n);
      if (was_empty) {
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT;
        e.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
      }
    }
    return true;
  };

  const double deadline = now_s() + lifetime;
  std::vector<epoll_event> events(256);
  char buf[4096];
  while (now_s() < deadline) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait", errno);
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
            if (errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EMFILE || errno == ENFILE) {
              std::fprintf(stderr, "cpp-rr: accept: %s\n", std::strerror(errno));
              break;
            }
            die("accept", errno);
          }
          set_nodelay(c);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = c;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &e) < 0) close(c);
        }
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        auto& q = pending[fd];
        ssize_t w = q.empty() ? 0 : send(fd, q.data(), q.size(), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          close_conn(fd);
          continue;
        }
        if (w > 0) q.erase(0, static_cast<size_t>(w));
        if (q.empty()) {
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = fd;
          epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        }
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          close_conn(fd);
          continue;
        }
        if (r > 0 && !send_or_queue(fd, buf, static_cast<size_t>(r))) close_conn(fd);
      }
    }
  }
  std::fprintf(stderr, "cpp-rr: lifetime of %.0f s reached, exiting\n", lifetime);
  return 0;
}

// ---------------------------------------------------------------- clients --

struct Client {
  sockaddr_storage addr{};
  socklen_t alen = 0;
  std::string target;  // for messages
  timeval tmo{};

  int connect_one() const {
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket", errno);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof tmo);  // also bounds connect()
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
    set_nodelay(fd);
    while (connect(fd, reinterpret_cast<const sockaddr*>(&addr), alen) < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      if (e == EADDRNOTAVAIL)
        die("connect to " + target +
                " (no free local port: too many TIME_WAIT sockets; in the client's namespace set "
                "net.ipv4.tcp_tw_reuse=1 and widen net.ipv4.ip_local_port_range)",
            e);
      if (e == EINPROGRESS || e == EAGAIN) die("connect to " + target + " timed out", ETIMEDOUT);
      die("connect to " + target, e);
    }
    return fd;
  }

  // One 1-byte exchange; dies with a clear message on error or timeout.
  void exchange(int fd) const {
    char c = 'x';
    for (;;) {
      ssize_t w = send(fd, &c, 1, MSG_NOSIGNAL);
      if (w == 1) break;
      if (w < 0 && errno == EINTR) continue;
      die("send to " + target, w < 0 ? (errno == EAGAIN ? ETIMEDOUT : errno) : EIO);
    }
    for (;;) {
      ssize_t r = recv(fd, &c, 1, 0);
      if (r == 1) return;
      if (r == 0) {
        std::fprintf(stderr, "cpp-rr: %s closed the connection\n", target.c_str());
        std::exit(1);
      }
      if (errno == EINTR) continue;
      die("recv from " + target, errno == EAGAIN ? ETIMEDOUT : errno);
    }
  }
};

// Nanoseconds this thread spent runnable but waiting for a CPU
// (/proc/thread-self/schedstat, field 2); -1 if unavailable. Other processes
// competing for our CPU show up here, which steal time does not show.
long long runqueue_wait_ns() {
  FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
  if (!f) return -1;
  long long run = 0, wait = -1;
  if (std::fscanf(f, "%lld %lld", &run, &wait) != 2) wait = -1;
  std::fclose(f);
  return wait;
}

void print_result(const std::string& mode, uint64_t n, double secs, long long wait_ns) {
  double rate = secs > 0 ? static_cast<double>(n) / secs : 0;
  double lat = n > 0 ? secs / static_cast<double>(n) * 1e6 : 0;
  double wait_pct = wait_ns >= 0 && secs > 0 ? static_cast<double>(wait_ns) / (secs * 1e9) * 100 : -1;
  std::printf("{\"mode\":\"%s\",\"transactions\":%llu,\"seconds\":%.6f,\"rate\":%.1f,"
              "\"mean_latency_us\":%.3f,\"runqueue_wait_pct\":%.2f}\n",
              mode.c_str(), static_cast<unsigned long long>(n), secs, rate, lat, wait_pct);
  std::fflush(stdout);
}

int run_client(const Args& a) {
  auto host = a.get("host");
  if (!host) usage("--host is required");
  uint16_t port = port_of(a);
  double seconds = a.num("seconds", 5, 0.01, 3600);
  double warmup = a.num("warmup", 0, 0, 600);
  double timeout = a.num("timeout", 2, 0.01, 600);

  Client cl;
  cl.addr = resolve(*host, port, cl.alen);
  cl.target = (cl.addr.ss_family == AF_INET6 ? "[" + *host + "]" : *host) + ":" + std::to_string(port);
  cl.tmo.tv_sec = static_cast<time_t>(timeout);
  cl.tmo.tv_usec = static_cast<suseconds_t>((timeout - static_cast<double>(cl.tmo.tv_sec)) * 1e6);

  const bool crr = a.mode == "crr";
  // Checking the clock costs ~20 ns via the vDSO; a transaction costs >10 us.
  auto loop = [&](double secs, int& fd) -> std::pair<uint64_t, double> {
    uint64_t n = 0;
    double start = now_s(), end = start + secs, t = start;
    while (t < end) {
      if (crr) {
        int c = cl.connect_one();
        cl.exchange(c);
        close(c);
      } else {
        cl.exchange(fd);
      }
      ++n;
      t = now_s();
    }
    return {n, t - start};
  };

  int fd = crr ? -1 : cl.connect_one();
  if (warmup > 0) loop(warmup, fd);
  long long w0 = runqueue_wait_ns();
  auto [n, secs] = loop(seconds, fd);
  long long w1 = runqueue_wait_ns();
  if (fd >= 0) close(fd);
  print_result(a.mode, n, secs, w0 >= 0 && w1 >= 0 ? w1 - w0 : -1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) usage("");
  std::string mode = argv[1];
  if (mode == "-h" || mode == "--help" || mode == "help") usage("");
  if (mode == "server") return run_server(parse(argc, argv, {"port", "bind", "lifetime"}));
  if (mode == "rr" || mode == "crr")
    return run_client(parse(argc, argv, {"host", "port", "seconds", "warmup", "timeout"}));
  usage("unknown mode '" + mode + "' (expected server, rr or crr)");
}

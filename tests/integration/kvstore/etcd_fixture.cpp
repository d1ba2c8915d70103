#include "etcd_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace kvtest {
namespace {

// PIDs to SIGKILL from a signal handler (async-signal-safe: plain array).
constexpr int kMaxPids = 64;
std::array<std::atomic<pid_t>, kMaxPids> g_pids{};

void register_pid(pid_t pid) {
  for (auto& p : g_pids) {
    pid_t expected = 0;
    if (p.compare_exchange_strong(expected, pid)) return;
  }
}

void unregister_pid(pid_t pid) {
  for (auto& p : g_pids) {
    pid_t expected = pid;
    if (p.compare_exchange_strong(expected, 0)) return;
  }
}

void kill_all() {
  for (auto& p : g_pids) {
    pid_t pid = p.exchange(0);
    if (pid > 0) ::kill(-pid, SIGKILL);  // its process group (see spawn)
  }
}

void on_signal(int sig) {
  kill_all();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

std::string run(const std::string& cmd, int* rc) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int st = ::pclose(f);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

}  // namespace

std::vector<int> free_ports(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot pick a free port");
    fds.push_back(fd);
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logfd < 0) throw std::runtime_error("cannot open " + log);
  // argv is built before fork: the child of a threaded process must not allocate.
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Dies with the test, whatever kills the test.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::setsid();  // own process group: stop() can kill helpers it forks
    if (::getppid() != parent) ::_exit(1);
    ::dup2(logfd, 1);
    ::dup2(logfd, 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(logfd);
  register_pid(pid);
  return pid;
}

void forget(pid_t pid) { unregister_pid(pid); }

void reap(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  unregister_pid(pid);
  pid = -1;
}

namespace {

bool accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

}  // namespace

void install_cleanup_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV}) ::signal(sig, on_signal);
  std::atexit(kill_all);
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

EtcdCluster::EtcdCluster(int members) {
  std::string tmpl = (fs::temp_directory_path() / "cpp-kv-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
  token_ = fs::path(root_).filename().string();
  auto ports = free_ports(2 * members);
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.client_port = ports[2 * i];
    m.peer_port = ports[2 * i + 1];
    m.dir = root_ + "/" + m.name;
    fs::create_directories(m.dir);
    members_.push_back(m);
  }
  for (int i = 0; i < members; ++i) start(i);
  for (int i = 0; i < members; ++i) wait_healthy(i);
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) kill(i);
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string EtcdCluster::endpoint(int i) const {
  return "http://127.0.0.1:" + std::to_string(members_[i].client_port);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(endpoint(i));
  return out;
}

void EtcdCluster::start(int i) {
  Member& m = members_[i];
  if (m.pid > 0) return;
  std::string initial;
  for (const auto& o : members_)
    initial += (initial.empty() ? "" : ",") + o.name + "=http://127.0.0.1:" + std::to_string(o.peer_port);
  std::string client = endpoint(i);
  std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  std::vector<std::string> args = {"etcd",
                                   "--name", m.name,
                                   "--data-dir", m.dir + "/data",
                                   "--listen-client-urls", client,
                                   "--advertise-client-urls", client,
                                   "--listen-peer-urls", peer,
                                   "--initial-advertise-peer-urls", peer,
                                   "--initial-cluster", initial,
                                   "--initial-cluster-token", token_,
                                   "--initial-cluster-state", "new"};
  m.pid = spawn(args, m.dir + "/etcd.log");
}

void EtcdCluster::kill(int i) { reap(members_[i].pid); }

void EtcdCluster::wait_healthy(int i, std::chrono::seconds deadline) {
  Member& m = members_[i];
  std::string cmd = "curl -s -m 2 " + endpoint(i) + "/health 2>/dev/null";
  bool ok = eventually(
      [&] {
        int st = 0;
        if (m.pid > 0 && ::waitpid(m.pid, &st, WNOHANG) == m.pid) {
          unregister_pid(m.pid);
          m.pid = -1;
          throw std::runtime_error("etcd " + m.name + " exited; log: " + m.dir + "/etcd.log");
        }
        int rc = 0;
        return run(cmd, &rc).find("\"health\":\"true\"") != std::string::npos;
      },
      deadline);
  if (!ok) throw std::runtime_error("etcd " + m.name + " not healthy in time; log: " + m.dir + "/etcd.log");
}

std::string EtcdCluster::etcdctl(int i, const std::string& args) {
  int rc = 0;
  std::string out = run("ETCDCTL_API=3 etcdctl --dial-timeout=2s --command-timeout=5s --endpoints=" + endpoint(i) +
                            " " + args + " 2>&1",
                        &rc);
  if (rc != 0) throw std::runtime_error("etcdctl " + args + " failed: " + out);
  return out;
}

int client_port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

TcpProxy::TcpProxy(int target_port) : target_port_(target_port), port_(free_ports(1)[0]) { start(); }

TcpProxy::~TcpProxy() { stop(); }

void TcpProxy::start() {
  if (pid_ > 0) return;
  // fork: one child per connection, so a probe connection does not use it up;
  // stop() kills the whole process group to drop every relayed connection.
  pid_ = spawn({"socat", "TCP-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork",
                "TCP:127.0.0.1:" + std::to_string(target_port_)},
               "/dev/null");
  if (!eventually([&] { return accepts(port_); }, std::chrono::seconds(10)))
    throw std::runtime_error("socat relay on port " + std::to_string(port_) + " did not start");
}

void TcpProxy::stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);  // socat and its per-connection children
  reap(pid_);
}

int EtcdCluster::leader() {
  for (int tries = 0; tries < 250; ++tries) {
    for (int i = 0; i < size(); ++i) {
      if (!running(i)) continue;
      try {
        auto st = nlohmann::json::parse(etcdctl(i, "endpoint status -w json"));
        uint64_t leader = st.at(0).at("Status").at("leader").get<uint64_t>();
        uint64_t self = st.at(0).at("Status").at("header").at("member_id").get<uint64_t>();
        if (leader != 0 && leader == self) return i;
      } catch (const std::exception&) {
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("no etcd leader found");
}

}  // namespace kvtest

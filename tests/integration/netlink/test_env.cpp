#include "test_env.h"

#include <sys/mount.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace nltest {

namespace {

constexpr int kSlots = 64;
constexpr int kPathLen = 96;
// Plain arrays so the signal handler can walk them without allocating.
char g_paths[kSlots][kPathLen];
std::atomic<bool> g_used[kSlots];
std::mutex g_mu;
std::atomic<int> g_counter{0};

void remove_all_registered() {
  for (int i = 0; i < kSlots; ++i) {
    if (g_used[i].exchange(false)) {
      umount2(g_paths[i], MNT_DETACH);
      unlink(g_paths[i]);
    }
  }
}

void on_signal(int sig) {
  remove_all_registered();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void register_ns(const std::string& path) {
  std::lock_guard lk(g_mu);
  for (int i = 0; i < kSlots; ++i) {
    if (!g_used[i].load()) {
      std::snprintf(g_paths[i], kPathLen, "%s", path.c_str());
      g_used[i].store(true);
      return;
    }
  }
  throw std::runtime_error("test: too many namespaces registered");
}

bool unregister_ns(const std::string& path) {
  std::lock_guard lk(g_mu);
  for (int i = 0; i < kSlots; ++i)
    if (g_used[i].load() && path == g_paths[i]) {
      g_used[i].store(false);
      return true;
    }
  return false;
}

}  // namespace

void install_cleanup_handlers() {
  std::atexit(remove_all_registered);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
    std::signal(sig, on_signal);
}

std::string sh(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (rc) *rc = code;
  return out;
}

std::string in_ns(const std::string& ns, const std::string& cmd, int* rc) {
  return sh("nsenter --net=" + cpp::netns_path_for_name(ns) + " " + cmd, rc);
}

nlohmann::json in_ns_json(const std::string& ns, const std::string& cmd) {
  int rc = 0;
  std::string out = in_ns(ns, cmd, &rc);
  if (rc != 0) throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + cmd + ": " + out);
  return nlohmann::json::parse(out);
}

std::string create_ns() {
  std::string name = "cpp-nl-" + std::to_string(::getpid()) + "-" + std::to_string(g_counter++);
  std::string path = cpp::netns_path_for_name(name);
  register_ns(path);  // before creating: a signal in between still cleans up
  int rc = 0;
  std::string out = sh("ip netns add " + name, &rc);
  if (rc != 0) {
    unregister_ns(path);
    throw std::runtime_error("ip netns add " + name + " failed: " + out);
  }
  in_ns(name, "ip link set lo up");
  return name;
}

void delete_ns(const std::string& name) {
  if (name.empty()) return;
  std::string path = cpp::netns_path_for_name(name);
  if (!unregister_ns(path)) return;
  int rc = 0;
  sh("ip netns del " + name, &rc);
  if (rc != 0) {  // fall back to what `ip netns del` does
    umount2(path.c_str(), MNT_DETACH);
    unlink(path.c_str());
  }
}

int registered_ns_count() {
  int n = 0;
  for (int i = 0; i < kSlots; ++i) n += g_used[i].load() ? 1 : 0;
  return n;
}

void NsFixture::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates network namespaces)";
  a = create_ns();
  b = create_ns();
  ha = cpp::NetnsHandle::open_name(a);
  hb = cpp::NetnsHandle::open_name(b);
}

void NsFixture::TearDown() {
  ha = cpp::NetnsHandle();
  hb = cpp::NetnsHandle();
  delete_ns(a);
  delete_ns(b);
}

}  // namespace nltest

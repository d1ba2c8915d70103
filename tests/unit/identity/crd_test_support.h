#pragma once
// What the CrdAllocator tests share: a temp store directory, label sets and
// an observer that records events and lets tests wait on them.
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

#include "identity/identity.h"

namespace crdtest {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cpp-crdid-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline cpp::labels::LabelSet app(const std::string& name) {
  return cpp::labels::LabelSet::parse_list("k8s:app=" + name + ";k8s:io.kubernetes.pod.namespace=default;");
}

struct Events {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<cpp::identity::IdentityEvent> seen;

  cpp::identity::IdentityObserver observer() {
    return [this](const cpp::identity::IdentityEvent& e) {
      std::lock_guard<std::mutex> g(mu);
      seen.push_back(e);
      cv.notify_all();
    };
  }
  bool has(cpp::identity::IdentityEvent::Type t, cpp::identity::NumericIdentity id) {
    for (const auto& e : seen)
      if (e.type == t && e.id == id) return true;
    return false;
  }
  bool wait_for(cpp::identity::IdentityEvent::Type t, cpp::identity::NumericIdentity id,
                std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, deadline, [&] { return has(t, id); });
  }
};

// Polls cond until it holds or the deadline passes.
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

}  // namespace crdtest

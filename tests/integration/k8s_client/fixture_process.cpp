#include "fixture_process.h"

#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace k8stest {

FixtureProcess::FixtureProcess(std::vector<std::string> extra) {
  std::string t = (std::filesystem::temp_directory_path() / "cpp-kfix-XXXXXX").string();
  dir_ = mkdtemp(t.data());
  std::vector<std::string> args = {KUBE_FIXTURE_BIN,  "--listen",         "127.0.0.1:0", "--control-listen",
                                   "127.0.0.1:0",     "--port-file",      dir_ + "/ports", "--bookmark-interval",
                                   "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // a killed test leaves no server behind
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::freopen((dir_ + "/fixture.log").c_str(), "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(dir_ + "/ports");
    if (in >> port_ >> control_port_ && port_ > 0) return;
    int st;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the API fixture exited at start; see " + dir_ + "/fixture.log");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("the API fixture did not write its ports in 30 s");
}

FixtureProcess::~FixtureProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int st;
    waitpid(pid_, &st, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string FixtureProcess::control(const std::string& what, const std::string& query) {
  httplib::Client c("127.0.0.1", control_port_);
  auto r = c.Post(("/fixture/" + what + (query.empty() ? "" : "?" + query)).c_str());
  if (!r || r->status != 200) throw std::runtime_error("fixture control " + what + " failed");
  return r->body;
}

cpp::k8s::KubeConfig FixtureProcess::config(bool tls) const {
  cpp::k8s::KubeConfig c;
  c.server = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  return c;
}

std::shared_ptr<cpp::k8s::KubeClient> FixtureProcess::client(double qps) const {
  cpp::k8s::KubeClient::Options o;
  o.config = config();
  o.qps = qps;
  return std::make_shared<cpp::k8s::KubeClient>(o);
}

}  // namespace k8stest

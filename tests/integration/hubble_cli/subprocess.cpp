#include "subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cpp::hubble_cli::test {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Process::Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  char tmpl[] = "/tmp/cpp-hubble-cli-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int out = open((dir_ + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open((dir_ + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    // The test runner may have blocked signals; the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
  if (!dir_.empty()) {
    unlink((dir_ + "/out").c_str());
    unlink((dir_ + "/err").c_str());
    rmdir(dir_.c_str());
  }
}

bool Process::reap(bool block) {
  if (exited_) return true;
  pid_t r = waitpid(pid_, &status_, block ? 0 : WNOHANG);
  if (r == pid_) exited_ = true;
  return exited_;
}

bool Process::wait_output(const std::string& text) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_file(dir_ + "/out").find(text) != std::string::npos) return true;
    if (reap(false)) return read_file(dir_ + "/out").find(text) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void Process::signal(int sig) {
  if (!exited_) kill(pid_, sig);
}

Result Process::finish(std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!reap(false) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Result r;
  if (!exited_) {
    kill(pid_, SIGKILL);
    reap(true);
  } else if (WIFEXITED(status_)) {
    r.exit_code = WEXITSTATUS(status_);
  } else if (WIFSIGNALED(status_)) {
    r.exit_code = 128 + WTERMSIG(status_);
  }
  r.out = read_file(dir_ + "/out");
  r.err = read_file(dir_ + "/err");
  return r;
}

Result run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  Process p(argv, env);
  return p.finish();
}

}  // namespace cpp::hubble_cli::test

#include "lab/proc.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace cpp::lab {

namespace {

// Reads the status pipe a forked child writes its errno to when exec fails
// (the pipe is close-on-exec, so a successful exec closes it empty). Closes fd.
bool child_exec_failed(int fd, int& child_errno) {
  ssize_t n;
  do {
    n = ::read(fd, &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  return n == static_cast<ssize_t>(sizeof(child_errno));
}


using Clock = std::chrono::steady_clock;

std::vector<std::string> build_env(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const auto& x : extra)
      if (x.substr(0, x.find('=')) == key) overridden = true;
    if (!overridden) env.push_back(kv);
  }
  for (const auto& x : extra) env.push_back(x);
  return env;
}

std::vector<char*> cstrs(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In a forked child: report errno on the status pipe and exit.
[[noreturn]] void child_fail(int status_fd, int err) {
  ssize_t n = ::write(status_fd, &err, sizeof(err));
  (void)n;
  _exit(127);
}

bool reap_if_child(pid_t pid, int* status) {
  int st = 0;
  pid_t r = ::waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    if (status) *status = st;
    return true;
  }
  return false;
}

}  // namespace

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$;&|<>()*?") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name;
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

RunResult run(const std::vector<std::string>& argv_in, const RunOptions& opts) {
  if (argv_in.empty()) throw std::runtime_error("run: empty command");
  std::string prog = find_program(argv_in[0]);
  if (prog.empty()) throw std::runtime_error(argv_in[0] + ": program not found in PATH");
  std::vector<std::string> argv = argv_in;
  std::vector<std::string> env = build_env(opts.env);
  auto argv_c = cstrs(argv);
  auto env_c = cstrs(env);

  int netns_fd = -1;
  if (!opts.netns_path.empty()) {
    netns_fd = ::open(opts.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0)
      throw std::runtime_error("open network namespace " + opts.netns_path + ": " + std::strerror(errno));
  }
  int in_p[2], out_p[2], err_p[2], st_p[2];
  if (::pipe2(in_p, O_CLOEXEC) || ::pipe2(out_p, O_CLOEXEC) || ::pipe2(err_p, O_CLOEXEC) || ::pipe2(st_p, O_CLOEXEC))
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) child_fail(st_p[1], errno);
    if (::dup2(in_p[0], 0) < 0 || ::dup2(out_p[1], 1) < 0 || ::dup2(err_p[1], 2) < 0) child_fail(st_p[1], errno);
    ::execve(prog.c_str(), argv_c.data(), env_c.data());
    child_fail(st_p[1], errno);
  }
  if (netns_fd >= 0) ::close(netns_fd);
  ::close(in_p[0]);
  ::close(out_p[1]);
  ::close(err_p[1]);
  ::close(st_p[1]);

  int child_errno = 0;
  if (child_exec_failed(st_p[0], child_errno)) {
    ::close(in_p[1]);
    ::close(out_p[0]);
    ::close(err_p[0]);
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot start " + shell_join(argv_in) + ": " + std::strerror(child_errno));
  }

  RunResult res;
  size_t in_off = 0;
  int in_fd = in_p[1];
  ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  if (opts.stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int out_fd = out_p[0], err_fd = err_p[0];
  auto deadline = Clock::now() + opts.timeout;
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      res.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3];
    int nf = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in_fd >= 0) idx_in = nf, fds[nf++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) idx_out = nf, fds[nf++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) idx_err = nf, fds[nf++] = {err_fd, POLLIN, 0};
    int r = ::poll(fds, nf, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (idx_in >= 0 && fds[idx_in].revents) {
      ssize_t w = ::write(in_fd, opts.stdin_data.data() + in_off, opts.stdin_data.size() - in_off);
      if (w > 0) in_off += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) in_off = opts.stdin_data.size();
      if (in_off >= opts.stdin_data.size()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
    auto drain = [](int& fd, short revents, std::string& sink) {
      if (!revents) return;
      char buf[8192];
      ssize_t m = ::read(fd, buf, sizeof(buf));
      if (m > 0) {
        sink.append(buf, static_cast<size_t>(m));
      } else if (m == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fd);
        fd = -1;
      }
    };
    if (idx_out >= 0) drain(out_fd, fds[idx_out].revents, res.out);
    if (idx_err >= 0) drain(err_fd, fds[idx_err].revents, res.err);
  }
  for (int fd : {in_fd, out_fd, err_fd})
    if (fd >= 0) ::close(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) res.exit_code = 128 + WTERMSIG(status);
  return res;
}

std::string run_checked(const std::vector<std::string>& argv, const RunOptions& opts) {
  RunResult r = run(argv, opts);
  if (r.timed_out) throw std::runtime_error(shell_join(argv) + ": timed out");
  if (r.exit_code != 0) {
    std::string err = r.err.empty() ? r.out : r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    throw std::runtime_error(shell_join(argv) + " failed (exit " + std::to_string(r.exit_code) + ")" +
                             (err.empty() ? "" : ": " + err));
  }
  return r.out;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  auto text = std::ifstream("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  std::string s((std::istreambuf_iterator<char>(text)), std::istreambuf_iterator<char>());
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return std::nullopt;
  std::istringstream rest(s.substr(rp + 2));
  std::string field;
  // Fields after the command: 3 (state) ... 22 (starttime) → 20 fields.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return std::nullopt;
    if (i == 3 && field == "Z") return std::nullopt;  // zombie: already dead
  }
  return std::strtoull(field.c_str(), nullptr, 10);
}

bool process_alive(const ProcessRef& p) {
  if (p.pid <= 0) return false;
  int st;
  if (reap_if_child(p.pid, &st)) return false;
  auto t = process_start_time(p.pid);
  return t && *t == p.start_time;
}

ProcessRef spawn_daemon(const std::vector<std::string>& argv_in, const std::string& log_path) {
  std::string prog = find_program(argv_in.at(0));
  if (prog.empty()) throw std::runtime_error(argv_in[0] + ": program not found");
  std::vector<std::string> argv = argv_in;
  auto argv_c = cstrs(argv);
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("open " + log_path + ": " + std::strerror(errno));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int st_p[2];
  if (::pipe2(st_p, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setsid();
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) child_fail(st_p[1], errno);
    ::execve(prog.c_str(), argv_c.data(), environ);
    child_fail(st_p[1], errno);
  }
  ::close(log_fd);
  ::close(null_fd);
  ::close(st_p[1]);
  int child_errno = 0;
  if (child_exec_failed(st_p[0], child_errno)) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot start " + shell_join(argv_in) + ": " + std::strerror(child_errno));
  }
  ProcessRef ref{pid, 0};
  if (auto t = process_start_time(pid)) ref.start_time = *t;
  return ref;
}

bool stop_process(const ProcessRef& p, std::chrono::milliseconds grace) {
  if (!process_alive(p)) return true;
  auto wait_gone = [&](std::chrono::milliseconds d) {
    auto deadline = Clock::now() + d;
    while (Clock::now() < deadline) {
      if (!process_alive(p)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return !process_alive(p);
  };
  ::kill(p.pid, SIGTERM);
  if (wait_gone(grace)) return true;
  if (process_alive(p)) ::kill(p.pid, SIGKILL);
  return wait_gone(std::chrono::milliseconds(5000));
}

std::string tail_file(const std::string& path, size_t lines) {
  std::ifstream in(path);
  if (!in) return "";
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

}  // namespace cpp::lab

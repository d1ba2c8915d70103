#pragma once
// Child processes for the lab: run a command to completion (optionally inside
// a network namespace), start a daemon with its output in a log file, and
// stop a process by PID — verified by its start time, so a recycled PID is
// never signalled.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cpp::lab {

struct RunOptions {
  std::string netns_path;         // setns(2) into this network namespace before exec
  std::vector<std::string> env;   // KEY=VALUE added to (or replacing in) the inherited environment
  std::string stdin_data;         // fed to the child's stdin
  std::chrono::milliseconds timeout{60000};
};

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv (argv[0] looked up in PATH) and waits for it. Throws
// std::runtime_error only when the program cannot be started.
RunResult run(const std::vector<std::string>& argv, const RunOptions& opts = {});

// run(), and throws std::runtime_error("<cmd>: <stderr>") unless it exits 0.
std::string run_checked(const std::vector<std::string>& argv, const RunOptions& opts = {});

// Absolute path of a program found in PATH (plus /usr/sbin and /sbin), or "".
std::string find_program(const std::string& name);

// A process identified by PID and start time (field 22 of /proc/PID/stat).
struct ProcessRef {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

std::optional<uint64_t> process_start_time(pid_t pid);
// Running (not a zombie) and still the same process.
bool process_alive(const ProcessRef& p);

// Starts argv detached (own session, stdin from /dev/null, stdout+stderr
// appended to log_path). Throws when exec fails.
ProcessRef spawn_daemon(const std::vector<std::string>& argv, const std::string& log_path);

// SIGTERM, wait up to `grace`, then SIGKILL and wait a little more. Returns
// true when the process is gone (or was never there). Reaps it if it is our child.
bool stop_process(const ProcessRef& p, std::chrono::milliseconds grace);

// Last `lines` lines of a text file ("" when unreadable).
std::string tail_file(const std::string& path, size_t lines);

// "a b 'c d'" for messages.
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace cpp::lab

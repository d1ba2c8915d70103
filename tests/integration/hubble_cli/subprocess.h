#pragma once
// Runs a binary with arguments, stdout and stderr captured in files.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace cpp::hubble_cli::test {

struct Result {
  int exit_code = -1;  // -1: did not exit in time (killed); 128+N: killed by signal N
  std::string out, err;
};

class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
  ~Process();
  // Waits until stdout contains `text` (or the process exits / 30 s pass).
  bool wait_output(const std::string& text);
  void signal(int sig);
  // Waits for exit (killing it after `limit`), then returns what it printed.
  Result finish(std::chrono::seconds limit = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  std::string dir_;
  int status_ = -1;
  bool exited_ = false;
  bool reap(bool block_until);
};

// Runs to completion.
Result run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});

std::string read_file(const std::string& path);

}  // namespace cpp::hubble_cli::test

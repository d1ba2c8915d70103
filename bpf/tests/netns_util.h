#pragma once
// Helpers for tests that build nodes and pods out of network namespaces
// (brief section 5): shell commands, entering a namespace from a thread.
#include <functional>
#include <string>

namespace cpp::bpftest {

struct CmdResult {
  int status = -1;  // exit code, or -1 if it didn't exit normally
  std::string output;
};

// Runs `sh -c cmd`, stdout and stderr combined.
CmdResult sh(const std::string& cmd);
// As sh(), throwing std::runtime_error with the output when it fails.
std::string must(const std::string& cmd);

// "nsenter --net=/run/netns/<ns> " — unlike `ip netns exec`, nsenter
// leaves /sys (and /sys/fs/bpf) alone.
std::string in_ns(const std::string& ns);

// Runs fn on a thread that has entered /run/netns/<ns>; the caller's own
// namespace is never changed. Exceptions propagate.
void run_in_netns(const std::string& ns, const std::function<void()>& fn);

}  // namespace cpp::bpftest

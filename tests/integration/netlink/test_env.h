#pragma once
// Test namespaces and shell helpers for the netlink integration tests.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "netlink/netns.h"

namespace nltest {

// Installs SIGINT/SIGTERM/SIGHUP/SIGABRT/SIGSEGV handlers and an atexit hook
// that remove every namespace still registered (umount2 + unlink, both
// async-signal-safe), so a crashing or interrupted run leaves nothing behind.
void install_cleanup_handlers();

// Creates namespace cpp-nl-<pid>-<n> with `ip netns add` and registers it.
std::string create_ns();
// `ip netns del` + unregister. Safe to call twice.
void delete_ns(const std::string& name);
// Names of namespaces this process still has registered (for leak checks).
int registered_ns_count();

// Runs a shell command, returns stdout; *rc gets the exit status.
std::string sh(const std::string& cmd, int* rc = nullptr);
// "nsenter --net=/run/netns/<ns> <cmd>" (never `ip netns exec`: it remounts /sys).
std::string in_ns(const std::string& ns, const std::string& cmd, int* rc = nullptr);
nlohmann::json in_ns_json(const std::string& ns, const std::string& cmd);

// Fixture: two fresh namespaces a and b, removed in TearDown.
class NsFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::string a, b;
  cpp::NetnsHandle ha, hb;
};

}  // namespace nltest

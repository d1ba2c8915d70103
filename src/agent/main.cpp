// cilium-agent: the per-node daemon.
#include <csignal>
#include <cstdlib>
#include <iostream>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "agent/daemon.h"
#include "common/log.h"
#include "common/version.h"
#include "config/agent_config.h"
#include "config/config_dir.h"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::string default_node_name() {
  if (const char* n = std::getenv("K8S_NODE_NAME"); n && *n) return n;
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return host;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ciliumpp agent"};
  std::string config_dir;
  std::string node_name = default_node_name();
  app.add_option("--config-dir", config_dir, "directory with one file per configuration key")->required();
  app.add_option("--node-name", node_name, "this node's name (default: $K8S_NODE_NAME or the hostname)");
  bool validate_only = false;
  app.add_flag("--validate-config", validate_only,
               "check the configuration (reporting unknown keys) and exit without starting");
  app.set_version_flag("--version", std::string("cilium-agent ") + cpp::kVersion);
  CLI11_PARSE(app, argc, argv);

  cpp::config::AgentConfig cfg;
  try {
    auto dir = cpp::config::read_config_dir(config_dir);
    cfg = cpp::config::make_agent_config(dir, node_name);
  } catch (const std::exception& e) {
    std::cerr << "cilium-agent: configuration error: " << e.what() << std::endl;
    return 2;
  }
  cpp::init_logging("cilium-agent", cfg.debug);
  for (const auto& k : cfg.raw.unknown_keys) spdlog::warn("unknown configuration key '{}' ignored", k);
  if (validate_only) {
    std::cout << "configuration in " << config_dir << " is valid: " << cfg.raw.values.size() << " keys, "
              << cfg.raw.unknown_keys.size() << " unknown" << std::endl;
    return 0;
  }

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return cpp::agent::run_daemon(cfg, g_stop);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}

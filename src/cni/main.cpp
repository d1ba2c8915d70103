// cilium-cni: the CNI plugin (spec 1.0.0, plus GC and STATUS of 1.1).
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <map>

#include <spdlog/sinks/basic_file_sink.h>

#include "cni/cni_error.h"
#include "cni/commands.h"
#include "cni/netconf.h"
#include "common/log.h"

extern char** environ;

namespace {

std::map<std::string, std::string> read_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

void log_to_file(const std::string& path) {
  if (path.empty()) return;
  try {
    spdlog::default_logger()->sinks().push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(path));
  } catch (const std::exception&) {
    // The log file is a convenience; an unwritable path must not fail the pod.
  }
}

}  // namespace

int main() {
  cpp::init_logging("cilium-cni", false);
  std::string version = "1.0.0";
  try {
    auto inv = cpp::cni::parse_invocation(read_env());
    if (inv.command == "VERSION") {
      std::cout << cpp::cni::cmd_version().dump() << std::endl;
      return 0;
    }
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto conf = cpp::cni::parse_netconf(input);
    version = conf.cni_version;
    log_to_file(conf.log_file);
    spdlog::info("{} container={} netns={} ifname={}", inv.command, inv.container_id, inv.netns, inv.ifname);
    if (inv.command == "ADD") {
      std::cout << cpp::cni::cmd_add(conf, inv).dump() << std::endl;
    } else if (inv.command == "DEL") {
      cpp::cni::cmd_del(conf, inv);
    } else if (inv.command == "CHECK") {
      cpp::cni::cmd_check(conf, inv);
    } else if (inv.command == "GC") {
      cpp::cni::cmd_gc(conf);
    } else if (inv.command == "STATUS") {
      cpp::cni::cmd_status(conf);
    } else {
      throw cpp::cni::CniError(cpp::cni::kInvalidEnv, "unknown CNI_COMMAND " + inv.command);
    }
    return 0;
  } catch (const cpp::cni::CniError& e) {
    spdlog::error("{} (code {})", e.what(), e.code());
    std::cout << e.to_json(version).dump() << std::endl;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    std::cout << cpp::cni::CniError(cpp::cni::kIoFailure, e.what()).to_json(version).dump() << std::endl;
  }
  return 1;
}

#include "agent/cni_conf.h"

#include <filesystem>

#include "common/files.h"

namespace cpp::agent {

nlohmann::json make_cni_conflist(const std::string& socket_path, const std::string& log_file) {
  return {
      {"cniVersion", "1.0.0"},
      {"name", "cilium"},
      {"plugins", nlohmann::json::array({{{"type", "cilium-cni"},
                                          {"enable-debug", false},
                                          {"log-file", log_file},
                                          {"socket-path", socket_path}}})},
  };
}

void write_cni_conflist(const std::string& path, const nlohmann::json& conflist) {
  make_dirs(std::filesystem::path(path).parent_path().string());
  write_file_atomic(path, conflist.dump(2) + "\n");
}

}  // namespace cpp::agent

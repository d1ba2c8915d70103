#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kvstore/etcd_client.h"

using cpp::kvstore::load_etcd_config;
namespace fs = std::filesystem;

namespace {

class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text) {
    path_ = (fs::temp_directory_path() / ("cpp-etcd-config-" + std::to_string(::getpid()) + "-" +
                                          std::to_string(counter_++)))
                .string();
    std::ofstream(path_) << text;
  }
  ~ConfigFile() { fs::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// The error names the file and the field.
void expect_error(const std::string& text, const std::string& fragment) {
  ConfigFile f(text);
  try {
    load_etcd_config(f.path());
    ADD_FAILURE() << "accepted: " << text;
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(f.path()), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }
}

}  // namespace

TEST(EtcdConfig, UpstreamFormat) {
  // As upstream's cilium-etcd-secrets / etcd.config ConfigMap writes it.
  ConfigFile f(R"(---
endpoints:
- http://192.0.2.2:2379
- 192.0.2.3:2379
trusted-ca-file: /var/lib/etcd-secrets/etcd-client-ca.crt
)");
  auto o = load_etcd_config(f.path());
  ASSERT_EQ(o.endpoints.size(), 2u);
  EXPECT_EQ(o.endpoints[0], "http://192.0.2.2:2379");
  EXPECT_EQ(o.endpoints[1], "192.0.2.3:2379");
  EXPECT_GT(o.request_timeout.count(), 0);

  ConfigFile single("endpoints: http://[2001:db8::2]:2379\n");
  EXPECT_EQ(load_etcd_config(single.path()).endpoints.size(), 1u);
}

TEST(EtcdConfig, BadInputNamesFileAndField) {
  expect_error("endpoints: [\n", "not valid YAML");
  expect_error("- a\n- b\n", "'endpoints'");
  expect_error("other: 1\n", "'endpoints' is missing");
  expect_error("endpoints: []\n", "'endpoints' is empty");
  expect_error("endpoints:\n- http://192.0.2.2:2379\n- {a: 1}\n", "endpoints[1]");
  expect_error("endpoints:\n- https://192.0.2.2:2379\n", "TLS");
  expect_error("endpoints:\n- 192.0.2.2\n", "endpoints[0]");
  try {
    load_etcd_config("/nonexistent/etcd.config");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/etcd.config"), std::string::npos);
  }
}

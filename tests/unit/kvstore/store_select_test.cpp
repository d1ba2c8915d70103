// `kvstore` / `kvstore-opt` → which ResourceStore the agent uses. No etcd
// runs here: building the etcd client does not connect.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/store_select.h"
#include "config/agent_config.h"
#include "store/etcd_store.h"

using namespace cpp;
namespace fs = std::filesystem;

namespace {

config::AgentConfig agent_config(std::map<std::string, std::string> values) {
  config::ConfigDir dir;
  values.emplace("ipv4-range", "10.233.64.0/24");
  dir.values = std::move(values);
  return config::make_agent_config(dir, "node1");
}

void expect_config_error(std::map<std::string, std::string> values, const std::string& fragment) {
  try {
    agent_config(std::move(values));
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("cpp-store-select-" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

}  // namespace

TEST(StoreSelect, DirectoryByDefault) {
  TempDir tmp;
  auto cfg = agent_config({{"local-store-dir", tmp.path() + "/store"}});
  EXPECT_EQ(cfg.kvstore, "");
  auto b = agent::make_resource_store(cfg);
  EXPECT_FALSE(b.etcd);
  EXPECT_NE(dynamic_cast<store::DirectoryStore*>(b.store.get()), nullptr);
  EXPECT_EQ(b.status()["type"], "directory");
}

TEST(StoreSelect, EtcdFromUpstreamStyleOptions) {
  TempDir tmp;
  std::string path = tmp.file("etcd.config", "endpoints:\n- http://192.0.2.2:2379\n- http://192.0.2.3:2379\n");
  auto cfg = agent_config({{"kvstore", "etcd"}, {"kvstore-opt", R"({"etcd.config": ")" + path + R"("})"}});
  EXPECT_EQ(cfg.kvstore_etcd_config, path);
  auto b = agent::make_resource_store(cfg);
  ASSERT_TRUE(b.etcd);
  EXPECT_EQ(b.etcd->options().endpoints.size(), 2u);
  EXPECT_NE(dynamic_cast<store::EtcdStore*>(b.store.get()), nullptr);
  auto st = b.status();
  EXPECT_EQ(st["type"], "etcd");
  EXPECT_EQ(st["endpoints"].size(), 2u);
  EXPECT_EQ(st["connected"], 0);  // nothing listens on 192.0.2.x here
}

TEST(StoreSelect, BadValuesAreClearErrors) {
  expect_config_error({{"kvstore", "consul"}}, "'kvstore'");
  expect_config_error({{"kvstore", "etcd"}}, "'kvstore-opt'");
  expect_config_error({{"kvstore", "etcd"}, {"kvstore-opt", "etcd.config=/x"}}, "not valid JSON");
  expect_config_error({{"kvstore", "etcd"}, {"kvstore-opt", "[1]"}}, "JSON object");
  expect_config_error({{"kvstore", "etcd"}, {"kvstore-opt", R"({"etcd.config": 1})"}}, "not a string");

  auto cfg = agent_config({{"kvstore", "etcd"}, {"kvstore-opt", R"({"etcd.config": "/nonexistent/etcd.config"})"}});
  try {
    agent::make_resource_store(cfg);
    ADD_FAILURE() << "accepted a missing etcd.config";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/etcd.config"), std::string::npos) << e.what();
  }
}

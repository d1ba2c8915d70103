// Kubernetes mode of the agent: its config keys, the store it selects and
// the taint it removes (src/agent/store_select, node_taints).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "agent/node_taints.h"
#include "agent/store_select.h"
#include "config/agent_config.h"
#include "dbg/format.h"
#include "store/store.h"

using namespace cpp;
using nlohmann::json;

namespace {

config::ConfigDir base() {
  config::ConfigDir d;
  d.values["ipv4-range"] = "10.233.64.0/24";
  return d;
}

std::string write_kubeconfig(const std::string& server) {
  auto path = std::filesystem::temp_directory_path() / ("cpp-k8s-mode-test-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " << server
                      << "\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context:\n"
                         "    cluster: c\n    user: u\ncurrent-context: x\n";
  return path.string();
}

}  // namespace

TEST(K8sModeConfig, ReadsKeysWithUpstreamDefaults) {
  auto c = config::make_agent_config(base(), "n1");
  EXPECT_TRUE(c.k8s_kubeconfig_path.empty());
  EXPECT_TRUE(c.remove_cilium_node_taints);
  EXPECT_EQ(c.k8s_heartbeat_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.k8s_client_qps, 5);
  auto d = base();
  d.values["k8s-kubeconfig-path"] = "/etc/kube/config";
  d.values["k8s-api-server"] = "https://10.0.0.1:6443";
  d.values["k8s-heartbeat-timeout"] = "2s";
  d.values["k8s-client-qps"] = "50";
  d.values["k8s-client-burst"] = "100";
  d.values["remove-cilium-node-taints"] = "false";
  c = config::make_agent_config(d, "n1");
  EXPECT_EQ(c.k8s_kubeconfig_path, "/etc/kube/config");
  EXPECT_EQ(c.k8s_api_server, "https://10.0.0.1:6443");
  EXPECT_EQ(c.k8s_heartbeat_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.k8s_client_qps, 50);
  EXPECT_EQ(c.k8s_client_burst, 100);
  EXPECT_FALSE(c.remove_cilium_node_taints);
}

TEST(K8sModeConfig, KvstoreEtcdAndKubeconfigAreMutuallyExclusive) {
  auto d = base();
  d.values["kvstore"] = "etcd";
  d.values["kvstore-opt"] = R"({"etcd.config": "/x/etcd.config"})";
  d.values["k8s-kubeconfig-path"] = "/etc/kube/config";
  try {
    config::make_agent_config(d, "n1");
    FAIL() << "accepted kvstore etcd with k8s-kubeconfig-path";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mutually exclusive"), std::string::npos) << e.what();
  }
}

TEST(K8sModeConfig, HeartbeatTimeoutMustBePositive) {
  auto d = base();
  d.values["k8s-heartbeat-timeout"] = "0s";
  EXPECT_THROW(config::make_agent_config(d, "n1"), std::invalid_argument);
}

TEST(K8sModeStore, KubeconfigSelectsKubeStoreAndApiServerOverridesItsServer) {
  auto d = base();
  d.values["k8s-kubeconfig-path"] = write_kubeconfig("https://192.0.2.200:6443");
  d.values["k8s-api-server"] = "http://127.0.0.1:1";
  auto c = config::make_agent_config(d, "n1");
  auto b = agent::make_resource_store(c);
  ASSERT_NE(b.kube, nullptr);
  EXPECT_EQ(b.etcd, nullptr);
  EXPECT_EQ(b.kube->config().server, "http://127.0.0.1:1");
  EXPECT_EQ(b.status()["type"], "kubernetes");
  EXPECT_EQ(b.kubernetes_status()["state"], "Unreachable");
  EXPECT_EQ(b.kubernetes_status()["store"], "KubeStore");
  // Nothing listens on port 1: waiting gives up as soon as stop is set.
  std::atomic<bool> stop{true};
  EXPECT_FALSE(b.wait_until_reachable(stop));
  std::filesystem::remove(d.values["k8s-kubeconfig-path"]);
}

TEST(K8sModeStore, MissingKubeconfigNamesTheFile) {
  auto d = base();
  d.values["k8s-kubeconfig-path"] = "/nonexistent/kubeconfig";
  auto c = config::make_agent_config(d, "n1");
  try {
    agent::make_resource_store(c);
    FAIL() << "a missing kubeconfig was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/kubeconfig"), std::string::npos) << e.what();
  }
}

TEST(K8sModeStore, WithoutKubeconfigTheDirectoryStoreStays) {
  auto d = base();
  d.values["local-store-dir"] = "/tmp/cpp-k8s-mode-test-store";
  auto b = agent::make_resource_store(config::make_agent_config(d, "n1"));
  EXPECT_EQ(b.kube, nullptr);
  EXPECT_EQ(b.status()["type"], "directory");
  EXPECT_FALSE(b.not_ready_reason());
  std::filesystem::remove_all("/tmp/cpp-k8s-mode-test-store");
}

TEST(NodeTaints, DropsOnlyTheAgentNotReadyTaint) {
  json node{{"spec",
             {{"taints",
               {{{"key", "node.cilium.io/agent-not-ready"}, {"effect", "NoSchedule"}},
                {{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}}}}}};
  EXPECT_TRUE(agent::drop_agent_not_ready_taint(node));
  ASSERT_EQ(node["spec"]["taints"].size(), 1u);
  EXPECT_EQ(node["spec"]["taints"][0]["key"], "node-role.kubernetes.io/control-plane");
  EXPECT_FALSE(agent::drop_agent_not_ready_taint(node));
}

TEST(NodeTaints, RemovesTheEmptyListAndToleratesNodesWithoutTaints) {
  json node{{"spec", {{"taints", {{{"key", "node.cilium.io/agent-not-ready"}, {"effect", "NoSchedule"}}}}}}};
  EXPECT_TRUE(agent::drop_agent_not_ready_taint(node));
  EXPECT_FALSE(node["spec"].contains("taints"));
  json bare{{"metadata", {{"name", "n1"}}}};
  EXPECT_FALSE(agent::drop_agent_not_ready_taint(bare));
}

TEST(NodeTaints, RemovalThroughTheStore) {
  auto dir = std::filesystem::temp_directory_path() / ("cpp-k8s-taint-" + std::to_string(::getpid()));
  store::DirectoryStore s(dir.string());
  s.put({{"apiVersion", "v1"},
         {"kind", "Node"},
         {"metadata", {{"name", "n1"}}},
         {"spec", {{"taints", {{{"key", "node.cilium.io/agent-not-ready"}, {"effect", "NoSchedule"}}}}}}});
  EXPECT_TRUE(agent::remove_agent_not_ready_taint(s, "n1"));
  auto n = s.get("Node", "", "n1");
  ASSERT_TRUE(n);
  EXPECT_FALSE((*n)["spec"].contains("taints")) << n->dump();
  EXPECT_TRUE(agent::remove_agent_not_ready_taint(s, "absent"));
  std::filesystem::remove_all(dir);
}

TEST(K8sModeStatus, CiliumDbgShowsTheKubernetesLine) {
  json status{{"cluster-name", "c"},
              {"kubernetes", {{"state", "Ok"}, {"server", "https://192.0.2.9:6443"}, {"store", "KubeStore"}}},
              {"kvstore", {{"type", "kubernetes"}, {"server", "https://192.0.2.9:6443"}}}};
  auto out = dbg::format_status(status);
  EXPECT_NE(out.find("Kubernetes:              Ok   https://192.0.2.9:6443   (KubeStore)"), std::string::npos) << out;
  EXPECT_NE(out.find("KVStore:                 Disabled   (resources in the Kubernetes API)"), std::string::npos)
      << out;
  status["kubernetes"] = {{"state", "Unreachable"}, {"server", "https://x"}, {"store", "KubeStore"},
                          {"msg", "Kubernetes API https://x unreachable for 31 s: connection refused"}};
  out = dbg::format_status(status);
  EXPECT_NE(out.find("Unreachable   https://x   (KubeStore)   Kubernetes API https://x unreachable"), std::string::npos)
      << out;
}

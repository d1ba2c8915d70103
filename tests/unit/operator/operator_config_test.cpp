#include <gtest/gtest.h>

#include "operator/operator_config.h"

using namespace cpp;
using namespace std::chrono_literals;

namespace {
config::ConfigDir base() {
  config::ConfigDir d;
  d.values["kvstore"] = "etcd";
  d.values["kvstore-opt"] = R"({"etcd.config": "/var/lib/etcd-config/etcd.config"})";
  return d;
}
}  // namespace

TEST(OperatorConfig, UpstreamDefaults) {
  auto c = op::make_operator_config(base());
  EXPECT_EQ(c.etcd_config, "/var/lib/etcd-config/etcd.config");
  EXPECT_EQ(c.healthz_addr, "127.0.0.1:9234");
  ASSERT_TRUE(c.pool.ipv4);
  EXPECT_EQ(c.pool.ipv4->str(), "10.0.0.0/8");
  EXPECT_EQ(c.pool.ipv4_mask, 24);
  EXPECT_FALSE(c.pool.ipv6);  // enable-ipv6 defaults to false
  EXPECT_EQ(c.identity_gc_interval, 15min);
  EXPECT_EQ(c.lease_ttl_seconds, 5);
}

TEST(OperatorConfig, SeedKeys) {
  auto d = base();
  d.values["cluster-pool-ipv4-cidr"] = "10.233.64.0/18";
  d.values["cluster-pool-ipv4-mask-size"] = "24";
  d.values["enable-ipv6"] = "true";
  d.values["identity-gc-interval"] = "15m0s";
  d.values["identity-heartbeat-timeout"] = "30m0s";
  d.values["cilium-endpoint-gc-interval"] = "5m0s";
  d.values["operator-api-serve-addr"] = "127.0.0.1:9234";
  auto c = op::make_operator_config(d);
  EXPECT_EQ(c.pool.ipv4->str(), "10.233.64.0/18");
  EXPECT_EQ(c.pool.ipv6->str(), "fd00::/104");
  EXPECT_EQ(c.pool.ipv6_mask, 120);
  EXPECT_EQ(c.identity_gc_grace, 30min);
  EXPECT_EQ(c.endpoint_gc_interval, 5min);
}

TEST(OperatorConfig, ErrorsNameTheKey) {
  auto no_kv = base();
  no_kv.values.erase("kvstore");
  auto expect_error = [](const config::ConfigDir& d, const std::string& key) {
    try {
      op::make_operator_config(d);
      ADD_FAILURE() << "no error for " << key;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  expect_error(no_kv, "'kvstore'");
  auto no_opt = base();
  no_opt.values["kvstore-opt"] = "{}";
  expect_error(no_opt, "'kvstore-opt'");
  auto bad_mask = base();
  bad_mask.values["cluster-pool-ipv4-mask-size"] = "4";
  expect_error(bad_mask, "cluster-pool-ipv4-mask-size");
}

TEST(OperatorConfig, KvstoreOptForms) {
  EXPECT_EQ(op::etcd_config_from_kvstore_opt(R"({"etcd.config":"/a"})"), "/a");
  EXPECT_EQ(op::etcd_config_from_kvstore_opt("etcd.config=/b,etcd.qps=10"), "/b");
  EXPECT_EQ(op::etcd_config_from_kvstore_opt("etcd.qps=10"), "");
  EXPECT_THROW(op::etcd_config_from_kvstore_opt(R"({"etcd.config": 5})"), std::invalid_argument);
}

TEST(OperatorConfig, KubernetesModeWithoutEtcd) {
  config::ConfigDir d;
  d.values["k8s-kubeconfig-path"] = "/etc/kubernetes/admin.conf";
  d.values["k8s-client-qps"] = "20";
  auto c = op::make_operator_config(d);
  EXPECT_TRUE(c.k8s);
  EXPECT_EQ(c.kubeconfig_path, "/etc/kubernetes/admin.conf");
  EXPECT_EQ(c.k8s_qps, 20);
  EXPECT_EQ(c.lease_ttl_seconds, 15);  // upstream's lease duration
  EXPECT_TRUE(c.etcd_config.empty());

  // In a pod, no kvstore means the service account's API; a kvstore keeps etcd.
  auto in_pod = op::make_operator_config(config::ConfigDir{}, true);
  EXPECT_TRUE(in_pod.k8s);
  EXPECT_TRUE(in_pod.kubeconfig_path.empty());
  EXPECT_FALSE(op::make_operator_config(base(), true).k8s);
  EXPECT_FALSE(op::make_operator_config(base()).k8s);
}

TEST(OperatorConfig, KvstoreAndKubeconfigAreExclusive) {
  auto d = base();
  d.values["k8s-kubeconfig-path"] = "/etc/kubernetes/admin.conf";
  try {
    op::make_operator_config(d);
    ADD_FAILURE() << "kvstore and k8s-kubeconfig-path accepted together";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("kvstore etcd and k8s-kubeconfig-path are mutually exclusive"),
              std::string::npos)
        << e.what();
  }
}

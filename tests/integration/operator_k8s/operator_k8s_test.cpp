// cilium-operator-generic in K8s mode (k8s-kubeconfig-path, no etcd) against
// the API fixture server: Lease leader election with failover after SIGKILL
// and hand-over on SIGTERM, cluster-pool IPAM, LB IPAM and CiliumIdentity GC
// through the API, and /healthz following the API's reachability. The fixture and
// the operators are real processes, killed by PID.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

#include "etcd_fixture.h"
#include "fixture_process.h"
#include "ipam/cilium_node.h"
#include "k8s/client/kube_store.h"
#include "operator/lease_record.h"

using namespace cpp;
using namespace std::chrono_literals;
using json = nlohmann::json;
using kvtest::eventually;
namespace fs = std::filesystem;

namespace {

constexpr const char* kToken = "operator-test-token";

struct Operator {
  std::string id, log;
  int health_port = 0;
  pid_t pid = -1;

  ~Operator() { kvtest::reap(pid); }
  // The /healthz answer: status code and body (0 and null when nothing answered).
  std::pair<int, json> healthz() const {
    httplib::Client c("127.0.0.1", health_port);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(10, 0);
    auto r = c.Get("/healthz");
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  bool says_leader() const {
    auto [code, body] = healthz();
    return code == 200 && body.value("leader", false);
  }
  std::optional<int> wait_exit(std::chrono::seconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        kvtest::forget(pid);
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }
  std::string log_text() const {
    std::ifstream in(log);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

class OperatorK8sTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cpp-opk8s-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "config");
    std::ofstream(dir_ / "kubeconfig") << "apiVersion: v1\nkind: Config\n"
                                       << "clusters:\n- name: fixture\n  cluster:\n    server: http://127.0.0.1:"
                                       << api_.port() << "\n"
                                       << "users:\n- name: operator\n  user:\n    token: " << kToken << "\n"
                                       << "contexts:\n- name: fixture\n  context:\n    cluster: fixture\n"
                                       << "    user: operator\ncurrent-context: fixture\n";
    config("k8s-kubeconfig-path", (dir_ / "kubeconfig").string());
    config("ipam", "cluster-pool");
    config("enable-ipv4", "true");
    config("cluster-pool-ipv4-cidr", "10.200.0.0/16");
    config("cluster-pool-ipv4-mask-size", "24");
    k8s::KubeClient::Options o;
    o.config = api_.config();
    o.config.token = kToken;
    o.qps = 0;
    store_ = std::make_unique<k8s::KubeStore>(std::make_shared<k8s::KubeClient>(o));
  }
  void TearDown() override {
    for (auto& op : ops_) {
      if (HasFailure()) std::cerr << "--- log of " << op->id << " ---\n" << op->log_text();
      kvtest::reap(op->pid);
    }
    fs::remove_all(dir_);
  }
  void config(const std::string& key, const std::string& value) { std::ofstream(dir_ / "config" / key) << value; }

  Operator& start_operator(const std::string& id, std::vector<std::string> extra = {}) {
    auto op = std::make_unique<Operator>();
    op->id = id;
    op->log = (dir_ / (id + ".log")).string();
    op->health_port = kvtest::free_port();
    std::vector<std::string> args{OPERATOR_BIN, "--config-dir", (dir_ / "config").string(), "--id", id,
                                  "--healthz-addr", "127.0.0.1:" + std::to_string(op->health_port),
                                  "--leader-lease-ttl", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    op->pid = kvtest::spawn(args, op->log);
    ops_.push_back(std::move(op));
    return *ops_.back();
  }
  json lease() {
    auto l = store_->get("Lease", op::kLeaseNamespace, op::kLeaseName);
    return l ? *l : json::object();
  }
  std::string holder() { return op::read_lease(lease()).holder; }

  k8stest::FixtureProcess api_{{"--token", kToken}};
  std::unique_ptr<k8s::KubeStore> store_;
  fs::path dir_;
  std::vector<std::unique_ptr<Operator>> ops_;
};

TEST_F(OperatorK8sTest, OneLeaderThenFailoverOnSigkillAndHandOverOnSigterm) {
  auto& a = start_operator("op-a");
  auto& b = start_operator("op-b");
  ASSERT_TRUE(eventually([&] { return a.says_leader() || b.says_leader(); }, 60s));
  Operator& leader = a.says_leader() ? a : b;
  Operator& standby = &leader == &a ? b : a;
  ASSERT_TRUE(eventually([&] { return standby.healthz().first == 200; }, 30s));
  // Over several renewals (lease 3 s, renewed every second) the leader keeps
  // the Lease and the standby only waits.
  auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_EQ(holder(), leader.id);
    EXPECT_FALSE(standby.says_leader());
    std::this_thread::sleep_for(200ms);
  }
  json l = lease();
  EXPECT_EQ(l["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(l["spec"]["leaseDurationSeconds"], 3);
  EXPECT_EQ(l["spec"]["leaseTransitions"], 0);
  EXPECT_NE(l["spec"]["renewTime"], l["spec"]["acquireTime"]);

  // A dead leader does not resign: the standby takes over once the lease expires.
  ::kill(leader.pid, SIGKILL);
  ASSERT_TRUE(eventually([&] { return standby.says_leader(); }, 60s));
  EXPECT_EQ(holder(), standby.id);
  EXPECT_EQ(lease()["spec"]["leaseTransitions"], 1);

  // A stopped leader resigns: the Lease is left vacant at once.
  ::kill(standby.pid, SIGTERM);
  auto rc = standby.wait_exit(60s);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 0);
  EXPECT_EQ(holder(), "");
}

TEST_F(OperatorK8sTest, ClusterPoolAndLbIpamWriteThroughTheApi) {
  auto& op = start_operator("op-a");
  ASSERT_TRUE(eventually([&] { return op.says_leader(); }, 60s));
  for (int i = 1; i <= 3; ++i) {
    ipam::AgentNodeFields f;
    f.name = "node" + std::to_string(i);
    f.internal_ipv4 = IpAddr::parse("192.168.50." + std::to_string(i));
    store_->put(*ipam::merge_agent_fields(nullptr, f));
  }
  auto cidrs = [&](const std::string& n) {
    auto o = store_->get("CiliumNode", "", n);
    return o ? ipam::pod_cidrs_of(*o) : std::vector<IpPrefix>{};
  };
  std::map<std::string, std::string> owner;
  for (int i = 1; i <= 3; ++i) {
    const std::string n = "node" + std::to_string(i);
    ASSERT_TRUE(eventually([&] { return !cidrs(n).empty(); }, 60s)) << n;
    for (const auto& c : cidrs(n)) {
      EXPECT_EQ(c.str().rfind("10.200.", 0), 0u) << c.str();
      EXPECT_EQ(c.len, 24) << c.str();
      EXPECT_TRUE(owner.emplace(c.str(), n).second) << c.str() << " given twice";
    }
  }

  store_->put({{"apiVersion", "cilium.io/v2alpha1"},
               {"kind", "CiliumLoadBalancerIPPool"},
               {"metadata", {{"name", "blue"}}},
               {"spec", {{"blocks", {{{"cidr", "198.51.100.0/24"}}}}}}});
  store_->put({{"apiVersion", "v1"},
               {"kind", "Service"},
               {"metadata", {{"name", "web"}, {"namespace", "default"}}},
               {"spec", {{"type", "LoadBalancer"}, {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}}});
  auto ingress = [&] {
    auto s = store_->get("Service", "default", "web");
    if (!s) return json::array();
    return s->value("status", json::object()).value("loadBalancer", json::object()).value("ingress", json::array());
  };
  ASSERT_TRUE(eventually([&] { return ingress().size() == 1; }, 60s));
  EXPECT_EQ(ingress()[0].value("ip", "").rfind("198.51.100.", 0), 0u) << ingress().dump();
}

TEST_F(OperatorK8sTest, IdentityGcDeletesUnusedCiliumIdentities) {
  for (const char* id : {"70001", "70002"})
    store_->put({{"apiVersion", "cilium.io/v2"},
                 {"kind", "CiliumIdentity"},
                 {"metadata", {{"name", id}}},
                 {"security-labels", {{"k8s:app", std::string("app-") + id}}}});
  store_->put({{"apiVersion", "cilium.io/v2"},
               {"kind", "CiliumEndpoint"},
               {"metadata", {{"name", "web-1"}, {"namespace", "default"}}},
               {"status", {{"id", 7}, {"identity", {{"id", 70002}}}}}});
  auto& op = start_operator("op-a", {"--identity-gc-interval", "500ms", "--identity-gc-grace", "2s"});
  ASSERT_TRUE(eventually([&] { return op.says_leader(); }, 60s));
  ASSERT_TRUE(eventually([&] { return !store_->get("CiliumIdentity", "", "70001"); }, 60s));
  EXPECT_TRUE(store_->get("CiliumIdentity", "", "70002")) << "an identity an endpoint uses was deleted";
}

TEST_F(OperatorK8sTest, HealthzFollowsTheApi) {
  auto& op = start_operator("op-a");
  ASSERT_TRUE(eventually([&] { return op.healthz().first == 200; }, 60s));
  api_.control("down");
  ASSERT_TRUE(eventually([&] { return op.healthz().first == 503; }, 60s));
  EXPECT_EQ(op.healthz().second.value("detail", ""), "kubernetes API unreachable");
  api_.control("up");
  ASSERT_TRUE(eventually([&] { return op.healthz().first == 200; }, 60s));
}

TEST_F(OperatorK8sTest, KvstoreWithKubeconfigIsAConfigurationError) {
  config("kvstore", "etcd");
  auto& op = start_operator("op-a");
  auto rc = op.wait_exit(60s);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 2);
  EXPECT_NE(op.log_text().find("kvstore etcd and k8s-kubeconfig-path are mutually exclusive"), std::string::npos)
      << op.log_text();
}

}  // namespace

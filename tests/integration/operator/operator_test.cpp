// cilium-operator-generic against a real etcd: leader election and
// failover, cluster-pool IPAM (assignment, exhaustion, release), identity
// and endpoint GC, /healthz. Operators run as real processes, killed by PID.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include "etcd_fixture.h"
#include "ipam/cilium_node.h"
#include "kvstore/etcd_client.h"
#include "store/etcd_store.h"

using namespace cpp;
using namespace std::chrono_literals;
using kvtest::eventually;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// One operator replica, a child process that dies with the test.
struct Operator {
  std::string id;
  int health_port = 0;
  pid_t pid = -1;
  std::string log;

  void start(const std::string& config_dir, const std::vector<std::string>& extra) {
    health_port = kvtest::free_port();
    std::vector<std::string> args{OPERATOR_BIN, "--config-dir", config_dir, "--id", id, "--healthz-addr",
                                  "127.0.0.1:" + std::to_string(health_port)};
    args.insert(args.end(), extra.begin(), extra.end());
    pid = kvtest::spawn(args, log);
  }
  void signal(int sig) {
    if (pid > 0) ::kill(pid, sig);
  }
  // The exit status once it exited; nullopt when it still runs at the deadline.
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
  void kill() { kvtest::reap(pid); }
  std::optional<json> healthz() const {
    httplib::Client c("127.0.0.1", health_port);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(5, 0);
    auto r = c.Get("/healthz");
    if (!r || r->status != 200) return std::nullopt;
    return json::parse(r->body, nullptr, false);
  }
  int healthz_status() const {
    httplib::Client c("127.0.0.1", health_port);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(10, 0);
    auto r = c.Get("/healthz");
    return r ? r->status : 0;
  }
  std::string log_text() const {
    std::ifstream in(log);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  ~Operator() { kill(); }
};

class OperatorTest : public kvtest::SharedEtcdTest {
 protected:
  void SetUp() override {
    kvstore::EtcdOptions o;
    o.endpoints = cluster_->endpoints();
    o.request_timeout = 10s;
    o.dial_timeout = 2s;
    etcd_ = std::make_shared<kvstore::EtcdClient>(o);
    etcd_->del_prefix("cilium/");
    store_ = std::make_unique<store::EtcdStore>(etcd_);
    dir_ = fs::temp_directory_path() /
           ("cpp-optest-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "config");
    std::string cfg = "endpoints:\n";
    for (const auto& e : cluster_->endpoints()) cfg += "- " + e + "\n";
    write("etcd.config", cfg, false);
    config("kvstore", "etcd");
    config("kvstore-opt", R"({"etcd.config": ")" + (dir_ / "etcd.config").string() + R"("})");
    config("ipam", "cluster-pool");
    config("enable-ipv4", "true");
    config("enable-ipv6", "true");
    config("cluster-pool-ipv4-cidr", "10.200.0.0/16");
    config("cluster-pool-ipv4-mask-size", "24");
    config("cluster-pool-ipv6-cidr", "fd00:200::/104");
    config("cluster-pool-ipv6-mask-size", "120");
  }
  void TearDown() override {
    for (auto& op : ops_) {
      if (HasFailure()) std::cerr << "--- log of " << op->id << " ---\n" << op->log_text();
      op->kill();
    }
    fs::remove_all(dir_);
  }

  void write(const std::string& name, const std::string& text, bool in_config) {
    std::ofstream(in_config ? dir_ / "config" / name : dir_ / name) << text;
  }
  void config(const std::string& key, const std::string& value) { write(key, value, true); }

  Operator& start_operator(const std::string& id, std::vector<std::string> extra = {}) {
    auto op = std::make_unique<Operator>();
    op->id = id;
    op->log = (dir_ / (id + ".log")).string();
    if (extra.empty()) extra = {"--leader-lease-ttl", "3"};
    op->start((dir_ / "config").string(), extra);
    ops_.push_back(std::move(op));
    return *ops_.back();
  }
  std::string leader() {
    auto kv = etcd_->get(kvstore::keys::kOperatorLeader);
    return kv ? kv->value : "";
  }
  void add_node(const std::string& name, const std::string& ip) {
    ipam::AgentNodeFields f;
    f.name = name;
    f.internal_ipv4 = IpAddr::parse(ip);
    store_->put(*ipam::merge_agent_fields(nullptr, f));
  }
  std::vector<IpPrefix> cidrs(const std::string& name) {
    auto n = store_->get("CiliumNode", "", name);
    return n ? ipam::pod_cidrs_of(*n) : std::vector<IpPrefix>{};
  }
  std::string op_error(const std::string& name) {
    auto n = store_->get("CiliumNode", "", name);
    return n ? ipam::operator_error_of(*n) : "";
  }
  // No two nodes share a PodCIDR.
  void expect_no_overlap() {
    std::map<std::string, std::string> owner;
    for (const auto& n : store_->list("CiliumNode"))
      for (const auto& c : ipam::pod_cidrs_of(n)) {
        auto [it, fresh] = owner.emplace(c.str(), n["metadata"]["name"].get<std::string>());
        EXPECT_TRUE(fresh) << c.str() << " on " << it->second << " and " << n["metadata"]["name"];
      }
  }

  std::shared_ptr<kvstore::EtcdClient> etcd_;
  std::unique_ptr<store::EtcdStore> store_;
  fs::path dir_;
  std::vector<std::unique_ptr<Operator>> ops_;
};

TEST_F(OperatorTest, LeaderAssignsPodCidrsAndStandbyTakesOverAfterSigkill) {
  auto& op1 = start_operator("op1");
  ASSERT_TRUE(eventually([&] { return leader() == "op1"; }, 30s));
  auto& op2 = start_operator("op2");
  ASSERT_TRUE(eventually([&] { return op2.healthz().has_value(); }, 30s));
  EXPECT_EQ(leader(), "op1");  // the standby did not steal it
  auto h1 = op1.healthz();
  ASSERT_TRUE(h1);
  EXPECT_EQ((*h1)["status"], "ok");
  EXPECT_EQ((*h1)["leader"], true);
  EXPECT_EQ((*op2.healthz())["leader"], false);

  add_node("node-a", "192.0.2.11");
  ASSERT_TRUE(eventually([&] { return cidrs("node-a").size() == 2; }, 30s));
  EXPECT_EQ(cidrs("node-a")[0].str(), "10.200.0.0/24");
  EXPECT_EQ(cidrs("node-a")[1].str(), "fd00:200::/120");

  op1.kill();  // SIGKILL: no resignation, the lease (3 s) has to expire
  auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return leader() == "op2"; }, 30s));
  auto takeover = std::chrono::steady_clock::now() - killed;
  EXPECT_LT(takeover, 3s + 3s) << "takeover took "
                               << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count() << " ms";
  EXPECT_TRUE(eventually([&] {
    auto h = op2.healthz();
    return h && (*h)["leader"] == true;
  }));

  // The new leader rebuilt the pool from node-a and keeps assigning.
  add_node("node-b", "192.0.2.12");
  ASSERT_TRUE(eventually([&] { return cidrs("node-b").size() == 2; }, 30s));
  EXPECT_EQ(cidrs("node-b")[0].str(), "10.200.1.0/24");
  EXPECT_EQ(cidrs("node-a")[0].str(), "10.200.0.0/24");
  expect_no_overlap();
}

TEST_F(OperatorTest, SigtermResignsAndHandsOverAtOnce) {
  auto& op1 = start_operator("op1", {"--leader-lease-ttl", "30"});
  ASSERT_TRUE(eventually([&] { return leader() == "op1"; }, 30s));
  start_operator("op2", {"--leader-lease-ttl", "30"});
  ASSERT_TRUE(eventually([&] { return ops_[1]->healthz().has_value(); }, 30s));
  op1.signal(SIGTERM);
  EXPECT_EQ(op1.wait_exit(15s), 0);
  // Far below the 30 s lease: the leader revoked it on the way out.
  EXPECT_TRUE(eventually([&] { return leader() == "op2"; }, 10s));
}

TEST_F(OperatorTest, ExhaustedPoolWritesAnErrorAndReleasedBlocksAreReused) {
  config("enable-ipv6", "false");
  config("cluster-pool-ipv4-cidr", "10.201.0.0/23");  // two /24 blocks
  start_operator("op1");
  ASSERT_TRUE(eventually([&] { return leader() == "op1"; }, 30s));
  add_node("n1", "192.0.2.21");
  ASSERT_TRUE(eventually([&] { return cidrs("n1").size() == 1; }, 30s));
  add_node("n2", "192.0.2.22");
  ASSERT_TRUE(eventually([&] { return cidrs("n2").size() == 1; }, 30s));
  add_node("n3", "192.0.2.23");
  ASSERT_TRUE(eventually([&] { return !op_error("n3").empty(); }, 30s));
  EXPECT_NE(op_error("n3").find("exhausted"), std::string::npos) << op_error("n3");
  EXPECT_NE(op_error("n3").find("10.201.0.0/23"), std::string::npos) << op_error("n3");
  EXPECT_TRUE(cidrs("n3").empty());
  expect_no_overlap();

  // Deleting n1 releases its block; the waiting node gets it.
  auto n1_block = cidrs("n1")[0];
  store_->remove("CiliumNode", "", "n1");
  ASSERT_TRUE(eventually([&] { return cidrs("n3").size() == 1; }, 30s));
  EXPECT_EQ(cidrs("n3")[0], n1_block);
  EXPECT_EQ(op_error("n3"), "");
  expect_no_overlap();
}

TEST_F(OperatorTest, NodeCarryingAnotherNodesCidrGetsAnErrorNotAnOverlap) {
  config("enable-ipv6", "false");
  start_operator("op1");
  ASSERT_TRUE(eventually([&] { return leader() == "op1"; }, 30s));
  add_node("n1", "192.0.2.21");
  ASSERT_TRUE(eventually([&] { return cidrs("n1").size() == 1; }, 30s));
  // An agent restored from stale state claims n1's block.
  ipam::AgentNodeFields f;
  f.name = "n2";
  f.internal_ipv4 = IpAddr::parse("192.0.2.22");
  f.pod_cidrs = cidrs("n1");
  store_->put(*ipam::merge_agent_fields(nullptr, f));
  ASSERT_TRUE(eventually([&] { return !op_error("n2").empty(); }, 30s));
  EXPECT_NE(op_error("n2").find("already assigned to node n1"), std::string::npos) << op_error("n2");
}

TEST_F(OperatorTest, GarbageCollectsUnusedIdentitiesAndStaleEndpoints) {
  start_operator("op1", {"--leader-lease-ttl", "3", "--identity-gc-interval", "300ms", "--identity-gc-grace", "1s",
                         "--endpoint-gc-interval", "300ms"});
  ASSERT_TRUE(eventually([&] { return leader() == "op1"; }, 30s));
  const std::string ids = kvstore::keys::kIdentityId, vals = kvstore::keys::kIdentityValue;
  etcd_->put(ids + "300", "k8s:app=unused;");
  etcd_->put(ids + "301", "k8s:app=used;");
  auto lease = etcd_->lease_grant(60);
  etcd_->put(vals + "k8s:app=used;/node-a", "301", lease);
  add_node("node-a", "192.0.2.11");
  auto cep = [](const std::string& name, const std::string& node) {
    return json{{"apiVersion", "cilium.io/v2"},
                {"kind", "CiliumEndpoint"},
                {"metadata", {{"name", name}, {"namespace", "default"}}},
                {"status", {{"id", 1}, {"networking", {{"addressing", json::array()}, {"node", node}}}}}};
  };
  store_->put(cep("on-live-node", "192.0.2.11"));
  store_->put(cep("on-gone-node", "192.0.2.99"));
  EXPECT_TRUE(eventually([&] { return !etcd_->get(ids + "300"); }, 30s));
  EXPECT_TRUE(etcd_->get(ids + "301"));
  EXPECT_TRUE(eventually([&] { return !store_->get("CiliumEndpoint", "default", "on-gone-node"); }, 30s));
  EXPECT_TRUE(store_->get("CiliumEndpoint", "default", "on-live-node"));
}

TEST_F(OperatorTest, UnreachableEtcdMeansUnhealthyNotDead) {
  write("etcd.config", "endpoints:\n- http://127.0.0.1:" + std::to_string(kvtest::free_port()) + "\n", false);
  auto& op = start_operator("op1");
  EXPECT_TRUE(eventually([&] { return op.healthz_status() == 503; }, 30s));
  EXPECT_FALSE(op.wait_exit(1s));  // keeps retrying
}

TEST_F(OperatorTest, BadConfigurationIsAClearError) {
  config("cluster-pool-ipv4-mask-size", "8");
  auto& op = start_operator("op1");
  EXPECT_EQ(op.wait_exit(20s), 2);
  EXPECT_NE(op.log_text().find("cluster-pool-ipv4-mask-size"), std::string::npos) << op.log_text();
}

}  // namespace

// cilium-operator-generic's /metrics (enable-metrics,
// operator-prometheus-serve-addr) against a real etcd: every scrape is parsed
// by prometheus_client's reference parser (prom_parse.py), and the metrics
// follow what the operator does (identity GC, stale endpoint GC, LB IPAM).
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "etcd_fixture.h"
#include "kvstore/etcd_client.h"
#include "store/etcd_store.h"

using namespace cpp;
using namespace std::chrono_literals;
using json = nlohmann::json;
using kvtest::eventually;
namespace fs = std::filesystem;

namespace {

// Runs the reference parser on text; nullopt (and the error in *error) when it does not parse.
std::optional<json> parse_exposition(const std::string& text, std::string* error) {
  auto dir = fs::temp_directory_path() / ("cpp-metrics-parse-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto in = dir / "in.txt", out = dir / "out.json", err = dir / "err.txt";
  std::ofstream(in) << text;
  std::string cmd = std::string(PYTHON3) + " " + PROM_PARSE + " <" + in.string() + " >" + out.string() + " 2>" +
                    err.string();
  int rc = std::system(cmd.c_str());
  std::ifstream o(out), e(err);
  std::string out_text((std::istreambuf_iterator<char>(o)), {}), err_text((std::istreambuf_iterator<char>(e)), {});
  fs::remove_all(dir);
  if (rc != 0) {
    if (error) *error = err_text;
    return std::nullopt;
  }
  return json::parse(out_text);
}

class OperatorMetricsTest : public kvtest::SharedEtcdTest {
 protected:
  void SetUp() override {
    etcd_ = std::make_shared<kvstore::EtcdClient>(kvtest::client_options(cluster_->endpoints()));
    etcd_->del_prefix("cilium/");
    store_ = std::make_unique<store::EtcdStore>(etcd_);
    dir_ = fs::temp_directory_path() / ("cpp-opmetrics-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "config");
    std::string cfg = "endpoints:\n";
    for (const auto& e : cluster_->endpoints()) cfg += "- " + e + "\n";
    std::ofstream(dir_ / "etcd.config") << cfg;
    auto ports = kvtest::free_ports(2);
    health_port_ = ports[0];
    metrics_port_ = ports[1];
    config("kvstore", "etcd");
    config("kvstore-opt", R"({"etcd.config": ")" + (dir_ / "etcd.config").string() + R"("})");
    config("ipam", "cluster-pool");
    config("cluster-pool-ipv4-cidr", "10.220.0.0/16");
    config("enable-metrics", "true");
    config("operator-prometheus-serve-addr", "127.0.0.1:" + std::to_string(metrics_port_));
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "--- operator log ---\n" << log_text();
    kvtest::reap(pid_);
    fs::remove_all(dir_);
  }
  void config(const std::string& key, const std::string& value) { std::ofstream(dir_ / "config" / key) << value; }
  void start_operator() {
    pid_ = kvtest::spawn({OPERATOR_BIN, "--config-dir", (dir_ / "config").string(), "--id", "op1", "--healthz-addr",
                          "127.0.0.1:" + std::to_string(health_port_), "--leader-lease-ttl", "3",
                          "--identity-gc-interval", "300ms", "--identity-gc-grace", "1s", "--endpoint-gc-interval",
                          "300ms"},
                         (dir_ / "operator.log").string());
  }
  std::string log_text() const {
    std::ifstream in(dir_ / "operator.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::optional<std::string> scrape(std::string* content_type = nullptr) const {
    httplib::Client c("127.0.0.1", metrics_port_);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(10, 0);
    auto r = c.Get("/metrics");
    if (!r || r->status != 200) return std::nullopt;
    if (content_type) *content_type = r->get_header_value("Content-Type");
    return r->body;
  }
  // The parsed scrape; fails the test when the text does not parse.
  json metrics() {
    auto text = scrape();
    if (!text) {
      ADD_FAILURE() << "no answer from /metrics";
      return json::object();
    }
    std::string error;
    auto j = parse_exposition(*text, &error);
    if (!j) {
      ADD_FAILURE() << error << "\n" << *text;
      return json::object();
    }
    return *j;
  }
  // The value of the family's sample whose labels include `labels`; nullopt when absent.
  std::optional<double> value(const std::string& family, const json& labels = json::object(),
                              const std::string& sample = "") {
    auto m = metrics();
    if (!m.contains(family)) return std::nullopt;
    for (const auto& s : m[family]["samples"]) {
      if (!sample.empty() && s["name"] != sample) continue;
      bool match = true;
      for (const auto& [k, v] : labels.items()) match = match && s["labels"].value(k, "") == v;
      if (match) return s["value"].get<double>();
    }
    return std::nullopt;
  }
  bool value_is(const std::string& family, const json& labels, const std::function<bool(double)>& pred) {
    auto v = value(family, labels);
    return v && pred(*v);
  }
  std::string leader() {
    auto kv = etcd_->get(kvstore::keys::kOperatorLeader);
    return kv ? kv->value : "";
  }

  std::shared_ptr<kvstore::EtcdClient> etcd_;
  std::unique_ptr<store::EtcdStore> store_;
  fs::path dir_;
  int health_port_ = 0, metrics_port_ = 0;
  pid_t pid_ = -1;
};

json pool(const std::string& name, const std::string& cidr) {
  return {{"apiVersion", "cilium.io/v2alpha1"},
          {"kind", "CiliumLoadBalancerIPPool"},
          {"metadata", {{"name", name}}},
          {"spec", {{"blocks", {{{"cidr", cidr}}}}}}};
}

json lb_service(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"type", "LoadBalancer"}, {"clusterIP", "10.96.7.7"}, {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}}};
}

}  // namespace

TEST_F(OperatorMetricsTest, ExpositionParsesAndCarriesUpstreamFamilies) {
  start_operator();
  ASSERT_TRUE(eventually([&] { return scrape().has_value(); }, 30s)) << "metrics server never answered";
  std::string type;
  ASSERT_TRUE(scrape(&type));
  EXPECT_EQ(type, "text/plain; version=0.0.4; charset=utf-8");
  auto m = metrics();
  ASSERT_TRUE(m.contains("cilium_operator_process_cpu_seconds_total")) << m.dump();
  EXPECT_EQ(m["cilium_operator_process_cpu_seconds_total"]["type"], "counter");
  EXPECT_EQ(m["cilium_operator_identity_gc_runs"]["type"], "gauge");
  EXPECT_EQ(m["cilium_operator_endpoint_gc_objects_total"]["type"], "counter");
  auto rss = value("cilium_operator_process_resident_memory_bytes");
  ASSERT_TRUE(rss);
  EXPECT_GT(*rss, 1e6);
  auto start = value("cilium_operator_process_start_time_seconds");
  ASSERT_TRUE(start);
  EXPECT_NEAR(*start, static_cast<double>(std::time(nullptr)), 120);
}

TEST_F(OperatorMetricsTest, IdentityAndEndpointGcAreCounted) {
  start_operator();
  ASSERT_TRUE(eventually([&] { return leader() == "op1"; }, 30s));
  const std::string ids = kvstore::keys::kIdentityId, vals = kvstore::keys::kIdentityValue;
  etcd_->put(ids + "300", "k8s:app=unused;");
  etcd_->put(ids + "301", "k8s:app=used;");
  auto lease = etcd_->lease_grant(60);
  etcd_->put(vals + "k8s:app=used;/node-a", "301", lease);
  json labels_deleted = {{"status", "deleted"}, {"identity_type", "kvstore"}};
  json labels_alive = {{"status", "alive"}, {"identity_type", "kvstore"}};
  json runs_ok = {{"outcome", "success"}, {"identity_type", "kvstore"}};
  ASSERT_TRUE(eventually([&] { return !etcd_->get(ids + "300"); }, 30s));
  // The run that deleted 300 reports it; later runs report 0 deleted, 1 alive.
  EXPECT_TRUE(eventually([&] { return value_is("cilium_operator_identity_gc_entries", labels_alive, [](double v) { return v == 1; }); }, 30s));
  auto runs = value("cilium_operator_identity_gc_runs", runs_ok);
  ASSERT_TRUE(runs);
  EXPECT_GE(*runs, 2);
  EXPECT_TRUE(eventually([&] { return value_is("cilium_operator_identity_gc_runs", runs_ok, [&](double v) { return v > *runs; }); }, 30s));
  EXPECT_TRUE(value_is("cilium_operator_identity_gc_latency", runs_ok, [](double v) { return v >= 0 && v < 10; }));
  EXPECT_TRUE(value("cilium_operator_identity_gc_entries", labels_deleted).has_value());

  store_->put({{"apiVersion", "cilium.io/v2"},
               {"kind", "CiliumEndpoint"},
               {"metadata", {{"name", "on-gone-node"}, {"namespace", "default"}}},
               {"status", {{"id", 1}, {"networking", {{"addressing", json::array()}, {"node", "192.0.2.99"}}}}}});
  ASSERT_TRUE(eventually([&] { return !store_->get("CiliumEndpoint", "default", "on-gone-node"); }, 30s));
  EXPECT_TRUE(eventually([&] { return value_is("cilium_operator_endpoint_gc_objects_total", {{"outcome", "success"}}, [](double v) { return v == 1; }); }, 30s));
}

TEST_F(OperatorMetricsTest, LbIpamGaugesFollowPoolsAndServices) {
  start_operator();
  ASSERT_TRUE(eventually([&] { return leader() == "op1"; }, 30s));
  store_->put(pool("blue", "198.51.100.0/28"));
  ASSERT_TRUE(eventually([&] { return value_is("cilium_operator_lbipam_services_matching", {}, [](double v) { return v == 0; }); }, 30s));
  EXPECT_TRUE(value_is("cilium_operator_lbipam_ips_used", {{"pool", "blue"}}, [](double v) { return v == 0; }));
  auto available = value("cilium_operator_lbipam_ips_available", {{"pool", "blue"}});
  ASSERT_TRUE(available);
  EXPECT_GT(*available, 0);

  store_->put(lb_service("web"));
  EXPECT_TRUE(eventually([&] { return value_is("cilium_operator_lbipam_ips_used", {{"pool", "blue"}}, [](double v) { return v == 1; }); }, 30s));
  EXPECT_TRUE(value_is("cilium_operator_lbipam_ips_available", {{"pool", "blue"}}, [&](double v) { return v == *available - 1; }));
  EXPECT_TRUE(value_is("cilium_operator_lbipam_services_matching", {}, [](double v) { return v == 1; }));
  EXPECT_TRUE(value_is("cilium_operator_lbipam_services_unsatisfied", {}, [](double v) { return v == 0; }));
  EXPECT_TRUE(value_is("cilium_operator_lbipam_conflicting_pools", {}, [](double v) { return v == 0; }));

  // An overlapping pool conflicts; a pool that goes away leaves no series behind.
  store_->put(pool("zz-overlap", "198.51.100.0/29"));
  EXPECT_TRUE(eventually([&] { return value_is("cilium_operator_lbipam_conflicting_pools", {}, [](double v) { return v == 1; }); }, 30s));
  store_->remove("CiliumLoadBalancerIPPool", "", "zz-overlap");
  EXPECT_TRUE(eventually([&] { return !value("cilium_operator_lbipam_ips_used", {{"pool", "zz-overlap"}}); }, 30s));
  EXPECT_TRUE(value_is("cilium_operator_lbipam_conflicting_pools", {}, [](double v) { return v == 0; }));
}

TEST_F(OperatorMetricsTest, BusyMetricsPortStopsTheOperatorWithAClearError) {
  // Someone else holds the port.
  httplib::Server squatter;
  ASSERT_TRUE(squatter.bind_to_port("127.0.0.1", metrics_port_));
  start_operator();
  std::optional<int> status;
  ASSERT_TRUE(eventually([&] {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_) return false;
    kvtest::forget(pid_);
    pid_ = -1;
    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return true;
  }, 30s));
  EXPECT_NE(*status, 0);
  EXPECT_NE(log_text().find("cannot bind the metrics server to 127.0.0.1:" + std::to_string(metrics_port_)),
            std::string::npos)
      << log_text();
}

TEST_F(OperatorMetricsTest, MetricsAreOffUnlessEnabled) {
  config("enable-metrics", "false");
  start_operator();
  ASSERT_TRUE(eventually([&] { return leader() == "op1"; }, 30s));
  EXPECT_FALSE(scrape().has_value());
}

TEST(PromParse, RejectsMalformedExposition) {
  std::string error;
  EXPECT_FALSE(parse_exposition("metric{label=\"unterminated} 1\n", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parse_exposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n", &error));
  EXPECT_NE(error.find("not cumulative"), std::string::npos) << error;
  EXPECT_TRUE(parse_exposition("# HELP ok_total fine\n# TYPE ok_total counter\nok_total{a=\"x\\\"y\"} 1\n", &error));
}

// The kube-proxy replacement keys: defaults, values, and clear errors.
#include <gtest/gtest.h>

#include "agent/service_setup.h"
#include "config/agent_config.h"
#include "config/config_dir.h"
#include "dbg/format.h"

namespace cpp::config {
namespace {

AgentConfig make(std::map<std::string, std::string> kv) {
  ConfigDir d;
  kv.emplace("ipv4-range", "10.233.64.0/24");
  for (const auto& [k, v] : kv) validate_key(k, v, d);
  return make_agent_config(d, "node1");
}

std::string error_of(std::map<std::string, std::string> kv) {
  try {
    make(std::move(kv));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(LbConfig, DefaultsAreUpstreamsAndOff) {
  auto c = make({});
  EXPECT_FALSE(c.kube_proxy_replacement);
  EXPECT_FALSE(c.bpf_lb_sock);
  EXPECT_EQ(c.bpf_lb_acceleration, "disabled");
  EXPECT_EQ(c.bpf_lb_algorithm, "random");
  EXPECT_EQ(c.bpf_lb_map_max, 65536u);
  EXPECT_TRUE(c.service_no_backend_reject);
  EXPECT_TRUE(c.enable_external_ips);
  EXPECT_FALSE(c.bpf_lb_external_clusterip);
  EXPECT_EQ(c.node_port_min, 30000);
  EXPECT_EQ(c.node_port_max, 32767);
  EXPECT_FALSE(agent::lb_consts(c).enabled);
}

TEST(LbConfig, ValuesAreRead) {
  auto c = make({{"kube-proxy-replacement", "true"},
                 {"cgroup-root", "/sys/fs/cgroup/unified/ciliumpp/lab/n1"},
                 {"bpf-lb-acceleration", "best-effort"},
                 {"bpf-lb-algorithm", "maglev"},
                 {"bpf-lb-map-max", "131072"},
                 {"service-no-backend-response", "drop"},
                 {"enable-external-ips", "false"},
                 {"bpf-lb-external-clusterip", "true"},
                 {"node-port-range", "31000,31999"}});
  EXPECT_TRUE(c.kube_proxy_replacement);
  EXPECT_TRUE(c.bpf_lb_sock);  // on with KPR once a cgroup is given
  EXPECT_EQ(c.bpf_lb_algorithm, "maglev");
  EXPECT_EQ(c.bpf_lb_map_max, 131072u);
  EXPECT_FALSE(c.service_no_backend_reject);
  EXPECT_FALSE(c.enable_external_ips);
  EXPECT_EQ(c.node_port_min, 31000);
  EXPECT_EQ(c.node_port_max, 31999);
  auto lb = agent::lb_consts(c);
  EXPECT_TRUE(lb.enabled && lb.sock && lb.external_clusterip && !lb.reject_no_backend);
  EXPECT_EQ(lb.map_max, 131072u);

  EXPECT_FALSE(make({{"kube-proxy-replacement", "true"}}).bpf_lb_sock);  // no cgroup: no socket LB
  EXPECT_FALSE(make({{"kube-proxy-replacement", "true"},
                     {"cgroup-root", "/sys/fs/cgroup/unified/x"},
                     {"bpf-lb-sock", "false"}})
                   .bpf_lb_sock);
}

TEST(LbConfig, BadValuesNameTheKey) {
  EXPECT_NE(error_of({{"kube-proxy-replacement", "strict"}}).find("'kube-proxy-replacement': \"strict\" is a value of old releases"),
            std::string::npos);
  EXPECT_NE(error_of({{"kube-proxy-replacement", "partial"}}).find("use true (was strict) or false"), std::string::npos);
  EXPECT_NE(error_of({{"bpf-lb-map-max", "8"}}).find("'bpf-lb-map-max': 8 is outside 16..16777216"), std::string::npos);
  EXPECT_NE(error_of({{"node-port-range", "32767,30000"}}).find("'node-port-range': \"32767,30000\""), std::string::npos);
  EXPECT_NE(error_of({{"node-port-range", "30000"}}).find("'node-port-range'"), std::string::npos);
  EXPECT_NE(error_of({{"bpf-lb-sock", "true"}}).find("'cgroup-root' is not set"), std::string::npos);
  for (auto bad : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/", "/sys/fs/cgroup/cpu/x", "/tmp/x",
                   "/sys/fs/cgroup/unified/a/../.."})
    EXPECT_NE(error_of({{"bpf-lb-sock", "true"}, {"cgroup-root", bad}}).find("'cgroup-root'"), std::string::npos) << bad;
  ConfigDir d;
  EXPECT_THROW(validate_key("bpf-lb-algorithm", "round-robin", d), std::invalid_argument);
  EXPECT_THROW(validate_key("bpf-lb-acceleration", "fast", d), std::invalid_argument);
  EXPECT_THROW(validate_key("service-no-backend-response", "ignore", d), std::invalid_argument);
}

TEST(LbConfig, LbModeIsSnatOnlyAndDsrIsRefusedInTunnelMode) {
  EXPECT_EQ(error_of({{"bpf-lb-mode", "snat"}}), "");
  for (auto mode : {"dsr", "hybrid"}) {
    EXPECT_NE(error_of({{"bpf-lb-mode", mode}}).find(std::string("'bpf-lb-mode': \"") + mode +
                                                     "\" cannot be used with routing-mode tunnel"),
              std::string::npos);
    EXPECT_NE(error_of({{"bpf-lb-mode", mode}, {"routing-mode", "native"}}).find("only snat"), std::string::npos);
  }
  ConfigDir d;
  EXPECT_THROW(validate_key("bpf-lb-mode", "maglev", d), std::invalid_argument);
}

TEST(LbConfig, ServiceLoopbackAddressesReachTheDatapath) {
  auto def = agent::lb_consts(make({}));
  EXPECT_EQ(def.loopback_ipv4.str(), "169.254.42.1");
  EXPECT_EQ(def.loopback_ipv6.str(), "fe80::1");
  auto c = agent::lb_consts(make({{"ipv4-service-loopback-address", "169.254.1.1"},
                                  {"ipv6-service-loopback-address", "fe80::42"}}));
  EXPECT_EQ(c.loopback_ipv4.str(), "169.254.1.1");
  EXPECT_EQ(c.loopback_ipv6.str(), "fe80::42");
  EXPECT_NE(error_of({{"ipv4-service-loopback-address", "fe80::1"}}).find("'ipv4-service-loopback-address': \"fe80::1\" is not an IPv4 address"),
            std::string::npos);
  EXPECT_NE(error_of({{"ipv6-service-loopback-address", "x"}}).find("is not an IPv6 address"), std::string::npos);
}

TEST(ServiceListFormat, UpstreamColumnsOneLinePerBackend) {
  auto list = nlohmann::json::parse(R"([{"spec": {"id": 3,
    "frontend-address": {"ip": "10.96.0.10", "port": 80, "protocol": "TCP", "scope": "external"},
    "backend-addresses": [{"ip": "10.0.0.1", "port": 8080, "protocol": "TCP", "state": "active"},
                          {"ip": "fd00::2", "port": 8080, "protocol": "TCP", "state": "terminating"}],
    "flags": {"type": "NodePort"}}}])");
  EXPECT_EQ(dbg::format_service_list(list),
            "ID  Frontend           Service Type  Backend\n"
            "3   10.96.0.10:80/TCP  NodePort      1 => 10.0.0.1:8080/TCP (active)\n"
            "                                     2 => [fd00::2]:8080/TCP (terminating)\n");
}

}  // namespace
}  // namespace cpp::config

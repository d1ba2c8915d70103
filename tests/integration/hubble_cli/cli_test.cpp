// The hubble and cilium-dbg binaries against an in-test Observer service.
#include <signal.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../unit/hubble_cli/test_flows.h"
#include "api/unix_http.h"
#include "fake_observer.h"
#include "subprocess.h"

using namespace cpp::hubble_cli::test;

namespace {

const std::string kHubble = HUBBLE_BIN;
const std::string kDbg = CILIUM_DBG_BIN;

std::vector<flow::Flow> canned() { return {policy_drop(), allowed_verdict(), trace_to_endpoint()}; }

std::string temp_socket(const std::string& name) {
  return "/tmp/cpp-hubble-cli-" + std::to_string(getpid()) + "-" + name + ".sock";
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = temp_socket(::testing::UnitTest::GetInstance()->current_test_info()->name());
    unix_ = std::make_unique<FakeServer>(service_, "unix:" + socket_);
    tcp_ = std::make_unique<FakeServer>(service_, "127.0.0.1:0");
  }
  void TearDown() override {
    unix_.reset();
    tcp_.reset();
    unlink(socket_.c_str());
  }
  std::string unix_server() const { return "unix://" + socket_; }
  std::string tcp_server() const { return "127.0.0.1:" + std::to_string(tcp_->port()); }

  FakeObserver service_{canned()};
  std::string socket_;
  std::unique_ptr<FakeServer> unix_, tcp_;
};

const char* kDropLine =
    "Nov 26 22:01:02.123: front/fe:41234 (ID:256) -> back/be:8080 (ID:258) Policy denied DROPPED (TCP Flags: SYN) "
    "policy: back/deny-front\n";
const char* kAllowLine =
    "Nov 26 22:01:02.123: front/fe:41234 (ID:256) -> back/be:8080 (ID:258) policy-verdict:L3-L4 INGRESS ALLOWED "
    "(TCP Flags: SYN) policy: back/backend-allow\n";

}  // namespace

TEST_F(Cli, ObserveOverUnixSendsFiltersAndPrintsCompact) {
  auto r = run({kHubble, "--server", unix_server(), "observe", "--pod", "back/be", "--not", "--verdict", "FORWARDED",
                "--to-port", "8080", "--last", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto req = service_.wait_request(1);
  EXPECT_EQ(req.number(), 5u);
  EXPECT_FALSE(req.follow());
  ASSERT_EQ(req.whitelist_size(), 2);
  EXPECT_EQ(req.whitelist(0).source_pod(0), "back/be");
  EXPECT_EQ(req.whitelist(0).destination_port(0), "8080");
  EXPECT_EQ(req.whitelist(1).destination_pod(0), "back/be");
  EXPECT_EQ(req.whitelist(1).destination_port(0), "8080");
  ASSERT_EQ(req.blacklist_size(), 1);
  ASSERT_EQ(req.blacklist(0).verdict_size(), 1);
  EXPECT_EQ(req.blacklist(0).verdict(0), flow::FORWARDED);
  EXPECT_EQ(req.blacklist(0).source_pod_size(), 0);
  EXPECT_NE(r.out.find(kDropLine), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(kAllowLine), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" to-endpoint FORWARDED (TCP Flags: SYN)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("EVENTS LOST: HUBBLE_RING_BUFFER 7"), std::string::npos) << r.out;
}

TEST_F(Cli, ObserveOverTcpFromEnvPrintsJson) {
  auto r = run({kHubble, "observe", "--type", "drop", "--from-label", "k8s:app=fe", "-o", "json"},
               {{"HUBBLE_SERVER", tcp_server()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto req = service_.wait_request(1);
  EXPECT_EQ(req.number(), 20u);
  ASSERT_EQ(req.whitelist_size(), 1);
  ASSERT_EQ(req.whitelist(0).event_type_size(), 1);
  EXPECT_EQ(req.whitelist(0).event_type(0).type(), 1);
  EXPECT_EQ(req.whitelist(0).source_label(0), "k8s:app=fe");
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> objs;
  while (std::getline(lines, line)) objs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objs.size(), 4u) << r.out;
  EXPECT_EQ(objs[0]["flow"]["verdict"], "DROPPED");
  EXPECT_EQ(objs[0]["flow"]["ingress_denied_by"][0]["name"], "deny-front");
  EXPECT_EQ(objs[0]["node_name"], "node-a");
  EXPECT_EQ(objs[0]["time"], "2026-11-26T22:01:02.123Z");
  EXPECT_EQ(objs[3]["lost_events"]["num_events_lost"], "7");
}

TEST_F(Cli, ObserveDictAndTable) {
  auto d = run({kHubble, "--server", tcp_server(), "observe", "-o", "dict", "--since", "5m"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto req = service_.wait_request(1);
  EXPECT_EQ(req.number(), 0u);
  EXPECT_TRUE(req.has_since());
  EXPECT_TRUE(req.has_until());
  EXPECT_NE(d.out.find("       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n"
                       "     POLICY: back/deny-front\n------------\n"),
            std::string::npos)
      << d.out;
  auto t = run({kHubble, "observe", "--server", unix_server(), "-o", "table", "--print-node-name"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out.rfind("TIMESTAMP", 0), 0u) << t.out;
  EXPECT_NE(t.out.find("NODE"), std::string::npos);
  EXPECT_NE(t.out.find("node-a"), std::string::npos);
}

TEST_F(Cli, FollowStopsCleanlyOnSigint) {
  Process p({kHubble, "--server", unix_server(), "observe", "--follow", "--to-namespace", "back"});
  ASSERT_TRUE(p.wait_output("EVENTS LOST"));
  auto req = service_.wait_request(1);
  EXPECT_TRUE(req.follow());
  EXPECT_EQ(req.number(), 0u);
  EXPECT_EQ(req.whitelist(0).destination_pod(0), "back/");
  p.signal(SIGINT);
  auto r = p.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(service_.wait_follower_gone());
  EXPECT_NE(r.out.find(kDropLine), std::string::npos) << r.out;
}

TEST_F(Cli, ServerRejectionIsReported) {
  auto r = run({kHubble, "--server", tcp_server(), "observe", "--from-namespace", "reject"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("INVALID_ARGUMENT: source_pod: namespace 'reject' is refused"), std::string::npos) << r.err;
}

TEST_F(Cli, NoServerIsAClearError) {
  auto u = run({kHubble, "--server", "unix:///tmp/cpp-hubble-cli-absent.sock", "--timeout", "500ms", "observe"});
  EXPECT_EQ(u.exit_code, 1);
  EXPECT_NE(u.err.find("failed to connect to 'unix:///tmp/cpp-hubble-cli-absent.sock'"), std::string::npos) << u.err;
  auto t = run({kHubble, "status", "--server", "127.0.0.1:1", "--timeout", "500ms"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.err.find("failed to connect to '127.0.0.1:1'"), std::string::npos) << t.err;
}

TEST_F(Cli, StatusAndListNodes) {
  auto s = run({kHubble, "status", "--server", unix_server()});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, "Healthcheck (via " + unix_server() +
                       "): Ok\nCurrent/Max Flows: 12/4,095 (0.29%)\nFlows/s: 2.00\nConnected Nodes: 1/1\n");
  auto n = run({kHubble, "list", "nodes", "--server", tcp_server()});
  ASSERT_EQ(n.exit_code, 0) << n.err;
  EXPECT_NE(n.out.find("node-a   Connected   1m1s"), std::string::npos) << n.out;
  auto v = run({kHubble, "version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("hubble v", 0), 0u);
}

TEST_F(Cli, StatusChecksHealthFirst) {
  unix_->health().set_serving(false);
  auto s = run({kHubble, "status", "--server", unix_server()});
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.out, "Healthcheck (via " + unix_server() + "): Unavailable: NOT_SERVING\n");
  EXPECT_EQ(s.err, "Error: not healthy\n");

  FakeObserver old_service{canned()};
  FakeServer old_server(old_service, "127.0.0.1:0", false);
  auto o = run({kHubble, "status", "--server", "127.0.0.1:" + std::to_string(old_server.port())});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("failed getting status: health check (grpc.health.v1.Health/Check) on '127.0.0.1:"),
            std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("UNIMPLEMENTED"), std::string::npos) << o.err;
}

TEST_F(Cli, FollowedTablePrintsRowsAsFlowsArrive) {
  // The fake keeps a followed stream open after its flows: anything printed
  // before SIGINT was printed while the stream was live.
  Process p({kHubble, "--server", unix_server(), "observe", "--follow", "-o", "table"});
  ASSERT_TRUE(p.wait_output("EVENTS LOST: HUBBLE_RING_BUFFER 7\n"));
  p.signal(SIGINT);
  auto r = p.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "TIMESTAMP             SOURCE           DESTINATION    TYPE            VERDICT   SUMMARY\n"
            "Nov 26 22:01:02.123   front/fe:41234   back/be:8080   Policy denied   DROPPED   TCP Flags: SYN\n"
            "Nov 26 22:01:02.123   front/fe:41234   back/be:8080   policy-verdict:L3-L4 INGRESS   ALLOWED   TCP Flags: "
            "SYN\n"
            "Nov 26 22:01:02.123   front/fe:41234   back/be:8080   to-endpoint                    FORWARDED   TCP "
            "Flags: SYN\n"
            "N/A: EVENTS LOST: HUBBLE_RING_BUFFER 7\n");
}

TEST_F(Cli, BadFlagsExitOneWithoutAsking) {
  auto u = run({kHubble, "--server", unix_server(), "observe", "--frobnicate"});
  EXPECT_EQ(u.exit_code, 1);
  EXPECT_NE(u.err.find("--frobnicate"), std::string::npos) << u.err;
  auto v = run({kHubble, "--server", unix_server(), "observe", "--verdict", "MAYBE"});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.err.find("invalid --verdict value 'MAYBE'"), std::string::npos) << v.err;
  auto l = run({kHubble, "--server", unix_server(), "observe", "--last", "3", "--since", "1h"});
  EXPECT_EQ(l.exit_code, 1);
  EXPECT_NE(l.err.find("--last cannot be combined with --since"), std::string::npos) << l.err;
  auto x = run({kHubble, "--server", unix_server(), "observe", "--pod", "a", "b"});
  EXPECT_EQ(x.exit_code, 1);
  EXPECT_NE(x.err.find("not expected: b"), std::string::npos) << x.err;
  auto o = run({kHubble, "--server", unix_server(), "observe", "-o", "yaml"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("--output value 'yaml'"), std::string::npos) << o.err;
}

TEST_F(Cli, MonitorPrintsMonitorLinesForTheChosenTypes) {
  Process p({kDbg, "monitor", "--hubble-socket", socket_, "--type", "drop", "--type", "policy-verdict"});
  ASSERT_TRUE(p.wait_output("Lost 7 events (HUBBLE_RING_BUFFER)"));
  auto req = service_.wait_request(1);
  EXPECT_TRUE(req.follow());
  ASSERT_EQ(req.whitelist_size(), 1);
  ASSERT_EQ(req.whitelist(0).event_type_size(), 2);
  EXPECT_EQ(req.whitelist(0).event_type(0).type(), 1);
  EXPECT_EQ(req.whitelist(0).event_type(1).type(), 5);
  p.signal(SIGINT);
  auto r = p.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(service_.wait_follower_gone());
  EXPECT_NE(r.out.find("Listening for events on " + socket_), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("xx drop (Policy denied) flow 0x0 to endpoint 1234, ifindex 5, file bpf_lxc.c:0, , identity "
                       "256->258: 10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Policy verdict log: flow 0x0 local EP ID 1234, remote ID 256, proto 6, ingress, action "
                       "allow, match L3-L4, 10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN, policy back/backend-allow\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("-> endpoint 1234 flow 0x0 , identity 256->258 state new ifindex lxc123"), std::string::npos);
}

TEST_F(Cli, MonitorRelatedToAndJson) {
  Process other({kDbg, "monitor", "--hubble-socket", socket_, "--related-to", "9999", "-j"});
  ASSERT_TRUE(other.wait_output("lost_events"));
  other.signal(SIGTERM);
  auto none = other.finish();
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out.find("\"flow\""), std::string::npos) << none.out;

  Process mine({kDbg, "monitor", "--hubble-socket", unix_server(), "--related-to", "1234", "-j"});
  ASSERT_TRUE(mine.wait_output("lost_events"));
  mine.signal(SIGINT);
  auto r = mine.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int flows = 0;
  while (std::getline(lines, line))
    if (nlohmann::json::parse(line).contains("flow")) ++flows;
  EXPECT_EQ(flows, 3) << r.out;
}

TEST_F(Cli, MonitorFindsTheSocketThroughTheAgentConfig) {
  std::string agent = temp_socket("agent");
  cpp::api::UnixHttpServer api(agent, [&](const cpp::api::HttpRequest& req) {
    if (req.path == "/v1/config") return cpp::api::HttpResponse{200, nlohmann::json{{"hubble-socket-path", socket_}}.dump()};
    return cpp::api::HttpResponse{404, R"({"error":"not found"})"};
  });
  api.start();
  Process p({kDbg, "-H", "unix://" + agent, "monitor", "-v"});
  ASSERT_TRUE(p.wait_output("Listening for events on " + socket_));
  ASSERT_TRUE(p.wait_output("Lost 7 events"));
  p.signal(SIGINT);
  auto r = p.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // -v: each monitor line is followed by the flow with pods, node and policy.
  EXPECT_NE(r.out.find("tcp SYN\nNov 26 22:01:02.123 [node-a]: front/fe:41234 (ID:256) -> back/be:8080 (ID:258) Policy "
                       "denied DROPPED (TCP Flags: SYN) policy: back/deny-front\n"),
            std::string::npos)
      << r.out;
  api.stop();
  unlink(agent.c_str());
}

TEST_F(Cli, MonitorRejectsBadTypeAndMissingSocket) {
  auto t = run({kDbg, "monitor", "--hubble-socket", socket_, "--type", "bogus"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.err.find("invalid --type 'bogus': expected drop, trace, policy-verdict or trace-sock"), std::string::npos) << t.err;
  auto m = run({kDbg, "monitor", "--hubble-socket", "/tmp/cpp-hubble-cli-absent.sock"});
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_NE(m.err.find("failed to connect to '/tmp/cpp-hubble-cli-absent.sock'"), std::string::npos) << m.err;
}

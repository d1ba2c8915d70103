// ObserverServer over a FlowRing the test fills, with real gRPC clients over
// TCP (127.0.0.1, kernel-chosen port) and the unix socket.
#include "hubble_server/observer_server.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "observer/observer.grpc.pb.h"
#include "test_flows.h"

namespace cpp::hubble {
namespace {

using namespace std::chrono_literals;
using testing::tcp_flow;
namespace fs = std::filesystem;

constexpr int64_t kSec = 1'000'000'000;

std::chrono::system_clock::time_point deadline_in(std::chrono::seconds s) {
  return std::chrono::system_clock::now() + s;
}

class ObserverServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cpp-hubble-server-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/run/cilium/hubble.sock";  // parent dirs do not exist yet
  }
  void TearDown() override {
    if (server_) server_->stop();
    fs::remove_all(dir_);
  }

  void start(size_t capacity = 1000) {
    ring_ = std::make_unique<FlowRing>(capacity);
    server_ = std::make_unique<ObserverServer>(
        ObserverSources{ring_.get(), [this] { return lost_.load(); }},
        ObserverOptions{"node-a", "1.2.3-test", "127.0.0.1:0", socket_, ""});
    server_->start();
    ASSERT_GT(server_->tcp_port(), 0);
  }

  std::unique_ptr<observer::Observer::Stub> tcp_client() {
    return observer::Observer::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->tcp_port()),
                                                           grpc::InsecureChannelCredentials()));
  }
  std::unique_ptr<observer::Observer::Stub> unix_client() {
    return observer::Observer::NewStub(grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
  }

  // Flows at seconds from..to; odd seconds go to port 80, even to 443.
  void fill(int from, int to) {
    for (int s = from; s <= to; ++s) ring_->push(tcp_flow(s * kSec, "10.0.0.1", "10.0.0.2", s % 2 ? 80 : 443));
  }

  struct Result {
    grpc::Status status;
    std::vector<observer::GetFlowsResponse> responses;
    std::vector<int64_t> times() const {
      std::vector<int64_t> t;
      for (const auto& r : responses)
        if (r.has_flow()) t.push_back(r.flow().time().seconds());
      return t;
    }
  };

  static Result get_flows(observer::Observer::Stub& stub, const observer::GetFlowsRequest& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline_in(30s));
    Result res;
    auto reader = stub.GetFlows(&ctx, req);
    observer::GetFlowsResponse r;
    while (reader->Read(&r)) res.responses.push_back(r);
    res.status = reader->Finish();
    return res;
  }

  std::string dir_, socket_;
  std::unique_ptr<FlowRing> ring_;
  std::atomic<uint64_t> lost_{0};
  std::unique_ptr<ObserverServer> server_;
};

TEST_F(ObserverServerTest, LastNOverTcpAndUnixSocket) {
  start();
  fill(1, 10);
  observer::GetFlowsRequest req;
  req.set_number(3);
  std::vector<std::unique_ptr<observer::Observer::Stub>> stubs;
  stubs.push_back(tcp_client());
  stubs.push_back(unix_client());
  for (auto& stub : stubs) {
    const Result res = get_flows(*stub, req);
    ASSERT_TRUE(res.status.ok()) << res.status.error_message();
    EXPECT_EQ(res.times(), (std::vector<int64_t>{8, 9, 10}));
    const auto& last = res.responses.back();
    EXPECT_EQ(last.node_name(), "node-a");
    EXPECT_EQ(last.time().seconds(), 10);
    EXPECT_EQ(last.flow().source().pod_name(), "client");
    EXPECT_EQ(last.flow().destination().pod_name(), "server");
    EXPECT_EQ(last.flow().l4().tcp().destination_port(), 443u);
    EXPECT_EQ(last.flow().verdict(), flow::FORWARDED);
  }
}

TEST_F(ObserverServerTest, FirstNAndEverything) {
  start();
  fill(1, 10);
  observer::GetFlowsRequest req;
  req.set_number(2);
  req.set_first(true);
  EXPECT_EQ(get_flows(*tcp_client(), req).times(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(get_flows(*tcp_client(), observer::GetFlowsRequest{}).times().size(), 10u);
}

TEST_F(ObserverServerTest, SinceUntil) {
  start();
  fill(1, 10);
  observer::GetFlowsRequest req;
  req.mutable_since()->set_seconds(3);
  req.mutable_until()->set_seconds(5);
  const Result res = get_flows(*unix_client(), req);
  ASSERT_TRUE(res.status.ok()) << res.status.error_message();
  EXPECT_EQ(res.times(), (std::vector<int64_t>{3, 4, 5}));
}

TEST_F(ObserverServerTest, WhitelistAndBlacklist) {
  start();
  fill(1, 10);
  observer::GetFlowsRequest white;
  white.add_whitelist()->add_destination_port("80");
  EXPECT_EQ(get_flows(*tcp_client(), white).times(), (std::vector<int64_t>{1, 3, 5, 7, 9}));

  observer::GetFlowsRequest black;
  black.add_blacklist()->add_destination_port("80");
  black.add_blacklist()->add_destination_port("443");
  const Result none = get_flows(*tcp_client(), black);
  EXPECT_TRUE(none.status.ok());
  EXPECT_TRUE(none.times().empty());

  observer::GetFlowsRequest both;  // pods are "from or to": two whitelist filters
  both.add_whitelist()->add_source_pod("default/client");
  both.add_whitelist()->add_destination_pod("default/nobody");
  both.add_blacklist()->add_destination_port("443");
  both.set_number(2);
  EXPECT_EQ(get_flows(*tcp_client(), both).times(), (std::vector<int64_t>{7, 9}));
}

TEST_F(ObserverServerTest, BadRequestsAreInvalidArgumentWithTheReason) {
  start();
  fill(1, 3);
  observer::GetFlowsRequest bad_ip;
  bad_ip.add_whitelist()->add_source_ip("10.0.0.300");
  Result res = get_flows(*tcp_client(), bad_ip);
  EXPECT_EQ(res.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(res.status.error_message().find("source_ip"), std::string::npos) << res.status.error_message();
  EXPECT_NE(res.status.error_message().find("10.0.0.300"), std::string::npos) << res.status.error_message();
  EXPECT_TRUE(res.responses.empty());

  observer::GetFlowsRequest number_since;
  number_since.set_number(3);
  number_since.mutable_since()->set_seconds(1);
  res = get_flows(*tcp_client(), number_since);
  EXPECT_EQ(res.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(res.status.error_message(), "number cannot be combined with since/until");

  // The server still serves well-formed requests.
  observer::GetFlowsRequest ok;
  ok.set_number(1);
  EXPECT_EQ(get_flows(*unix_client(), ok).times(), (std::vector<int64_t>{3}));
}

// Pushes a flow every few ms (seconds 1000, 1001, ...) until destroyed.
class Pusher {
 public:
  explicit Pusher(FlowRing& ring) : thread_([this, &ring] {
      for (int s = 1000; !stop_; ++s) {
        ring.push(tcp_flow(s * kSec));
        std::this_thread::sleep_for(5ms);
      }
    }) {}
  ~Pusher() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(ObserverServerTest, FollowStreamsNewFlowsInOrder) {
  start();
  fill(1, 5);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline_in(30s));
  observer::GetFlowsRequest req;
  req.set_follow(true);
  auto reader = unix_client()->GetFlows(&ctx, req);
  Pusher pusher(*ring_);
  std::vector<int64_t> times;
  observer::GetFlowsResponse r;
  while (times.size() < 5 && reader->Read(&r))
    if (r.has_flow()) times.push_back(r.flow().time().seconds());
  ASSERT_EQ(times.size(), 5u);
  for (size_t i = 0; i < times.size(); ++i) {
    EXPECT_GE(times[i], 1000) << "follow without number must not replay history";
    if (i) {
      EXPECT_EQ(times[i], times[i - 1] + 1);
    }
  }
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ObserverServerTest, ClientCancellingMidStreamLeavesOthersStreaming) {
  start();
  auto stub = tcp_client();
  observer::GetFlowsRequest req;
  req.set_follow(true);
  grpc::ClientContext ctx_a, ctx_b;
  ctx_a.set_deadline(deadline_in(30s));
  ctx_b.set_deadline(deadline_in(30s));
  auto a = stub->GetFlows(&ctx_a, req);
  auto b = unix_client()->GetFlows(&ctx_b, req);
  Pusher pusher(*ring_);
  observer::GetFlowsResponse r;
  ASSERT_TRUE(a->Read(&r));
  ASSERT_TRUE(b->Read(&r));
  ctx_a.TryCancel();
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // A client that vanishes without cancelling: its channel goes away.
  {
    grpc::ClientContext ctx_c;
    auto c = observer::Observer::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->tcp_port()), grpc::InsecureChannelCredentials()));
    auto cr = c->GetFlows(&ctx_c, req);
    ASSERT_TRUE(cr->Read(&r));
    ctx_c.TryCancel();
  }

  const int64_t after = [&] {
    EXPECT_TRUE(b->Read(&r));
    return r.flow().time().seconds();
  }();
  int more = 0;
  while (more < 10 && b->Read(&r)) {
    if (!r.has_flow()) continue;
    EXPECT_GT(r.flow().time().seconds(), after);
    ++more;
  }
  EXPECT_EQ(more, 10);

  observer::ServerStatusResponse st;
  grpc::ClientContext sctx;
  EXPECT_TRUE(stub->ServerStatus(&sctx, observer::ServerStatusRequest{}, &st).ok());
  ctx_b.TryCancel();
  b->Finish();
}

TEST_F(ObserverServerTest, DatapathLossReachesFollowers) {
  start();
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline_in(30s));
  observer::GetFlowsRequest req;
  req.set_follow(true);
  lost_ = 40;  // before the stream: not reported
  auto reader = tcp_client()->GetFlows(&ctx, req);
  // The stream takes its baseline when it starts following; a flow it
  // receives proves that happened.
  Pusher pusher(*ring_);
  observer::GetFlowsResponse r;
  ASSERT_TRUE(reader->Read(&r));
  lost_ = 47;
  bool got = false;
  while (!got && reader->Read(&r)) {
    if (!r.has_lost_events()) continue;
    EXPECT_EQ(r.lost_events().source(), flow::PERF_EVENT_RING_BUFFER);
    EXPECT_EQ(r.lost_events().num_events_lost(), 7u);
    EXPECT_EQ(r.node_name(), "node-a");
    got = true;
  }
  EXPECT_TRUE(got);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(ObserverServerTest, FollowerBehindTheRingCountsEveryFlowItMissed) {
  start(4);
  fill(1, 1);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline_in(60s));
  observer::GetFlowsRequest req;
  req.set_follow(true);
  req.set_number(1);
  auto reader = tcp_client()->GetFlows(&ctx, req);
  observer::GetFlowsResponse r;
  ASSERT_TRUE(reader->Read(&r));
  ASSERT_EQ(r.flow().time().seconds(), 1);
  // Everything pushed from here on is past the stream's start: each flow is
  // either delivered or counted as lost, and the newest always arrives.
  constexpr int kBurst = 20000;
  fill(2, kBurst + 1);
  uint64_t delivered = 0, lost = 0;
  int64_t last = 0;
  while (last != kBurst + 1 && reader->Read(&r)) {
    if (r.has_lost_events()) {
      EXPECT_EQ(r.lost_events().source(), flow::HUBBLE_RING_BUFFER);
      lost += r.lost_events().num_events_lost();
    } else {
      EXPECT_GT(r.flow().time().seconds(), last);
      last = r.flow().time().seconds();
      ++delivered;
    }
  }
  EXPECT_EQ(last, kBurst + 1);
  EXPECT_EQ(delivered + lost, uint64_t(kBurst));
  EXPECT_GT(lost, 0u);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(ObserverServerTest, ServerStatusAndNodes) {
  start(50);
  fill(1, 60);
  auto stub = tcp_client();
  observer::ServerStatusResponse st;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub->ServerStatus(&c1, observer::ServerStatusRequest{}, &st).ok());
  EXPECT_EQ(st.num_flows(), 50u);
  EXPECT_EQ(st.max_flows(), 50u);
  EXPECT_EQ(st.seen_flows(), 60u);
  EXPECT_GT(st.uptime_ns(), 0u);
  EXPECT_EQ(st.version(), "1.2.3-test");
  ASSERT_TRUE(st.has_num_connected_nodes());
  EXPECT_EQ(st.num_connected_nodes().value(), 1u);
  EXPECT_EQ(st.num_unavailable_nodes().value(), 0u);

  observer::GetNodesResponse nodes;
  grpc::ClientContext c2;
  ASSERT_TRUE(unix_client()->GetNodes(&c2, observer::GetNodesRequest{}, &nodes).ok());
  ASSERT_EQ(nodes.nodes_size(), 1);
  const auto& n = nodes.nodes(0);
  EXPECT_EQ(n.name(), "node-a");
  EXPECT_EQ(n.version(), "1.2.3-test");
  EXPECT_EQ(n.address(), "127.0.0.1:" + std::to_string(server_->tcp_port()));
  EXPECT_EQ(n.state(), relay::NODE_CONNECTED);
  EXPECT_FALSE(n.tls().enabled());
  EXPECT_GT(n.uptime_ns(), 0u);
  EXPECT_EQ(n.num_flows(), 50u);
  EXPECT_EQ(n.max_flows(), 50u);
  EXPECT_EQ(n.seen_flows(), 60u);
}

TEST_F(ObserverServerTest, StopEndsOpenStreamsAndRemovesTheSocket) {
  start();
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline_in(30s));
  observer::GetFlowsRequest req;
  req.set_follow(true);
  auto reader = tcp_client()->GetFlows(&ctx, req);
  Pusher pusher(*ring_);
  observer::GetFlowsResponse r;
  ASSERT_TRUE(reader->Read(&r));  // the stream is open and following
  ASSERT_TRUE(fs::exists(socket_));
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  while (reader->Read(&r)) {
  }
  EXPECT_FALSE(reader->Finish().ok());
  EXPECT_FALSE(fs::exists(socket_));
}

TEST_F(ObserverServerTest, StaleSocketIsReplacedOtherFilesAreNot) {
  fs::create_directories(fs::path(socket_).parent_path());
  {  // a socket file left by a dead process
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    strncpy(sa.sun_path, socket_.c_str(), sizeof(sa.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    close(fd);
  }
  start();
  fill(1, 2);
  observer::GetFlowsRequest req;
  EXPECT_EQ(get_flows(*unix_client(), req).times().size(), 2u);
  server_->stop();
  server_.reset();

  std::FILE* f = std::fopen(socket_.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  FlowRing ring(4);
  ObserverServer s(ObserverSources{&ring, {}}, ObserverOptions{"n", "v", "", socket_, ""});
  try {
    s.start();
    FAIL() << "a regular file at the socket path was replaced";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a socket"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_regular_file(socket_));
}

TEST_F(ObserverServerTest, PortInUseIsAClearError) {
  start();
  FlowRing ring(4);
  ObserverServer second(ObserverSources{&ring, {}},
                        ObserverOptions{"n", "v", "127.0.0.1:" + std::to_string(server_->tcp_port()), "", ""});
  try {
    second.start();
    FAIL() << "second server bound a port in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(server_->tcp_port())), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cpp::hubble

// The observer server's grpc.health.v1.Health service through a real gRPC
// client, over TCP and the unix socket: Check for the server and for
// upstream's observer name, NOT_FOUND for others, and a Watch that sees
// SERVING and then NOT_SERVING when the server stops.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "hubble_server/observer_server.h"

namespace cpp::hubble {
namespace {

namespace hv1 = grpc::health::v1;

class ObserverHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cpp-hubble-health-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    server_ = std::make_unique<ObserverServer>(ObserverSources{&ring_, {}},
                                               ObserverOptions{"node-a", "v", "127.0.0.1:0", dir_ + "/h.sock", ""});
    server_->start();
  }
  void TearDown() override {
    server_->stop();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<hv1::Health::Stub> stub(const std::string& target) {
    return hv1::Health::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  }
  std::string tcp() const { return "127.0.0.1:" + std::to_string(server_->tcp_port()); }
  std::string unix_socket() const { return "unix:" + dir_ + "/h.sock"; }

  std::string dir_;
  FlowRing ring_{16};
  std::unique_ptr<ObserverServer> server_;
};

TEST_F(ObserverHealthTest, CheckAnswersOnBothListeners) {
  for (const auto& target : {tcp(), unix_socket()}) {
    auto s = stub(target);
    for (const char* service : {"", "hubble.server.Observer"}) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      hv1::HealthCheckRequest req;
      req.set_service(service);
      hv1::HealthCheckResponse resp;
      auto st = s->Check(&ctx, req, &resp);
      ASSERT_TRUE(st.ok()) << target << " '" << service << "': " << st.error_message();
      EXPECT_EQ(resp.status(), hv1::HealthCheckResponse::SERVING) << target << " '" << service << "'";
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    hv1::HealthCheckRequest req;
    req.set_service("no.such.Service");
    hv1::HealthCheckResponse resp;
    auto st = s->Check(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << target;
    EXPECT_EQ(st.error_message(), "unknown service 'no.such.Service'");
  }
}

TEST_F(ObserverHealthTest, WatchSeesServingThenNotServingOnStop) {
  auto s = stub(unix_socket());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  hv1::HealthCheckRequest req;
  req.set_service("hubble.server.Observer");
  auto reader = s->Watch(&ctx, req);
  hv1::HealthCheckResponse resp;
  ASSERT_TRUE(reader->Read(&resp));
  EXPECT_EQ(resp.status(), hv1::HealthCheckResponse::SERVING);
  std::thread stopper([&] { server_->stop(); });
  bool second = reader->Read(&resp);
  stopper.join();
  ASSERT_TRUE(second);
  EXPECT_EQ(resp.status(), hv1::HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(reader->Read(&resp));
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(ObserverHealthTest, WatchOfAnUnknownServiceSaysSo) {
  auto s = stub(tcp());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  hv1::HealthCheckRequest req;
  req.set_service("no.such.Service");
  auto reader = s->Watch(&ctx, req);
  hv1::HealthCheckResponse resp;
  ASSERT_TRUE(reader->Read(&resp));
  EXPECT_EQ(resp.status(), hv1::HealthCheckResponse::SERVICE_UNKNOWN);
  ctx.TryCancel();
  while (reader->Read(&resp)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace cpp::hubble

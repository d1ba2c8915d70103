// The observer's TCP listener with TLS (and mutual TLS) from certificates
// openssl makes for the test; the unix socket stays plaintext.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "hubble_server/observer_server.h"
#include "observer/observer.grpc.pb.h"

namespace cpp::hubble {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ObserverTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cpp-hubble-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // A CA, a server certificate for 127.0.0.1 and a client certificate.
    const std::string script = "set -e; cd " + dir_ + R"(
      ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      openssl req -x509 $ec -keyout ca.key -out ca.crt -subj /CN=test-ca -days 1
      echo "subjectAltName=IP:127.0.0.1,DNS:node-a.default.hubble-grpc.cilium.io" > server.ext
      for who in server client; do
        openssl req $ec -keyout $who.key -out $who.csr -subj /CN=$who
        if [ $who = server ]; then ext="-extfile server.ext"; else ext=""; fi
        openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt -days 1 $ext
      done
    )";
    ASSERT_EQ(std::system(("bash -c '" + script + "' >" + dir_ + "/openssl.log 2>&1").c_str()), 0)
        << slurp(dir_ + "/openssl.log");
  }
  void TearDown() override {
    if (server_) server_->stop();
    fs::remove_all(dir_);
  }

  void start(bool mutual) {
    ObserverOptions o{"node-a", "v-test", "127.0.0.1:0", dir_ + "/hubble.sock", ""};
    o.tls_cert_file = dir_ + "/server.crt";
    o.tls_key_file = dir_ + "/server.key";
    if (mutual) o.tls_client_ca_file = dir_ + "/ca.crt";
    server_ = std::make_unique<ObserverServer>(ObserverSources{&ring_, {}}, o);
    server_->start();
  }

  grpc::Status status_over(std::shared_ptr<grpc::ChannelCredentials> creds, std::string target = "") {
    if (target.empty()) target = "127.0.0.1:" + std::to_string(server_->tcp_port());
    auto stub = observer::Observer::NewStub(grpc::CreateChannel(target, creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    observer::ServerStatusResponse resp;
    return stub->ServerStatus(&ctx, observer::ServerStatusRequest{}, &resp);
  }

  std::shared_ptr<grpc::ChannelCredentials> tls(bool with_client_cert) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = slurp(dir_ + "/ca.crt");
    if (with_client_cert) {
      o.pem_private_key = slurp(dir_ + "/client.key");
      o.pem_cert_chain = slurp(dir_ + "/client.crt");
    }
    return grpc::SslCredentials(o);
  }

  std::string dir_;
  FlowRing ring_{16};
  std::unique_ptr<ObserverServer> server_;
};

TEST_F(ObserverTlsTest, TcpNeedsTlsUnixSocketStaysPlaintext) {
  start(false);
  EXPECT_TRUE(status_over(tls(false)).ok());
  EXPECT_FALSE(status_over(grpc::InsecureChannelCredentials()).ok());
  EXPECT_TRUE(status_over(grpc::InsecureChannelCredentials(), "unix:" + dir_ + "/hubble.sock").ok());

  auto stub = observer::Observer::NewStub(
      grpc::CreateChannel("unix:" + dir_ + "/hubble.sock", grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  observer::GetNodesResponse nodes;
  ASSERT_TRUE(stub->GetNodes(&ctx, observer::GetNodesRequest{}, &nodes).ok());
  ASSERT_EQ(nodes.nodes_size(), 1);
  EXPECT_TRUE(nodes.nodes(0).tls().enabled());
}

TEST_F(ObserverTlsTest, MutualTlsRejectsClientsWithoutCertificate) {
  start(true);
  EXPECT_TRUE(status_over(tls(true)).ok());
  EXPECT_FALSE(status_over(tls(false)).ok());
}

TEST_F(ObserverTlsTest, HealthServiceAnswersOverMutualTls) {
  start(true);
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->tcp_port()), tls(true)));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("hubble.server.Observer");
  grpc::health::v1::HealthCheckResponse resp;
  auto st = health->Check(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(ObserverTlsTest, IncompleteOrUnreadableTlsConfigIsAClearError) {
  ObserverOptions half{"n", "v", "127.0.0.1:0", "", ""};
  half.tls_cert_file = dir_ + "/server.crt";
  EXPECT_THROW(ObserverServer(ObserverSources{&ring_, {}}, half).start(), std::invalid_argument);

  ObserverOptions missing = half;
  missing.tls_key_file = dir_ + "/nope.key";
  try {
    ObserverServer(ObserverSources{&ring_, {}}, missing).start();
    FAIL() << "missing key accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/nope.key"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cpp::hubble

// The hubble binary against the real ObserverServer's TLS listener (as the
// seed runs it: hubble-disable-tls false, a server certificate, and a client
// CA for mutual TLS), with a CA, server and client certificates openssl
// makes for each test. The server certificate names only
// node-a.default.hubble-grpc.cilium.io (as upstream's), so dialing
// 127.0.0.1 needs --tls-server-name.
#include <netinet/in.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "hubble_server/observer_server.h"
#include "subprocess.h"

using namespace cpp::hubble_cli::test;

namespace {

const std::string kHubble = HUBBLE_BIN;
const std::string kName = "node-a.default.hubble-grpc.cilium.io";

cpp::hubble::Flow forwarded_flow() {
  cpp::hubble::Flow f;
  f.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
  f.node_name = "node-a";
  f.ip_version = 4;
  f.src_ip = *cpp::IpAddr::parse("10.0.0.1");
  f.dst_ip = *cpp::IpAddr::parse("10.0.0.2");
  f.src_port = 40000;
  f.dst_port = 80;
  f.protocol = IPPROTO_TCP;
  f.tcp_flags = 0x02;
  f.verdict = cpp::hubble::Verdict::Forwarded;
  f.event_type = cpp::hubble::kMonitorTypeTrace;
  return f;
}

class TlsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cpp-hubble-cli-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // ca signs the server and the client; other-ca signs a stranger client
    // and stands for "a CA the client was not told about".
    const std::string script = "set -e; cd " + dir_ + R"(
      ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      for ca in ca other-ca; do openssl req -x509 $ec -keyout $ca.key -out $ca.crt -subj /CN=$ca -days 1; done
      echo "subjectAltName=DNS:node-a.default.hubble-grpc.cilium.io" > server.ext
      sign() {  # sign WHO CA [EXTFILE]
        openssl req $ec -keyout $1.key -out $1.csr -subj /CN=$1
        openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -out $1.crt -days 1 ${3:+-extfile $3}
      }
      sign server ca server.ext
      sign client ca
      sign stranger other-ca
    )";
    ASSERT_EQ(std::system(("bash -c '" + script + "' >" + dir_ + "/openssl.log 2>&1").c_str()), 0)
        << read_file(dir_ + "/openssl.log");
    ring_.push(forwarded_flow());
  }
  void TearDown() override {
    if (server_) server_->stop();
    std::filesystem::remove_all(dir_);
  }

  void start(bool mutual) {
    cpp::hubble::ObserverOptions o{"node-a", "v-test", "127.0.0.1:0", "", ""};
    o.tls_cert_file = dir_ + "/server.crt";
    o.tls_key_file = dir_ + "/server.key";
    if (mutual) o.tls_client_ca_file = dir_ + "/ca.crt";
    server_ = std::make_unique<cpp::hubble::ObserverServer>(cpp::hubble::ObserverSources{&ring_, {}}, o);
    server_->start();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->tcp_port()); }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }

  // hubble with the global flags first, then the command.
  Result hubble(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), {kHubble, "--timeout", "10s"});
    return run(args, env);
  }
  std::vector<std::string> trusted() const { return {"--tls-ca-cert-files", file("ca.crt"), "--tls-server-name", kName}; }
  std::vector<std::string> client_cert(const std::string& who = "client") const {
    return {"--tls-client-cert-file", file(who + ".crt"), "--tls-client-key-file", file(who + ".key")};
  }
  static std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  std::string dir_;
  cpp::hubble::FlowRing ring_{16};
  std::unique_ptr<cpp::hubble::ObserverServer> server_;
};

TEST_F(TlsCli, StatusObserveAndNodesOverTlsWithACa) {
  start(false);
  auto s = hubble(cat({"status", "--server", "tls://" + address()}, trusted()));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out.rfind("Healthcheck (via tls://" + address() + "): Ok\nCurrent/Max Flows: 1/16", 0), 0u) << s.out;

  auto o = hubble(cat({"observe", "--server", address(), "--tls", "-o", "json"}, trusted()));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("\"verdict\":\"FORWARDED\""), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\"node_name\":\"node-a\""), std::string::npos) << o.out;

  auto n = hubble(cat({"list", "nodes", "--server", "tls://" + address()}, trusted()));
  ASSERT_EQ(n.exit_code, 0) << n.err;
  EXPECT_NE(n.out.find("node-a   Connected"), std::string::npos) << n.out;
}

TEST_F(TlsCli, OptionsFromHubbleEnvironmentVariables) {
  start(true);
  auto s = hubble({"status"}, {{"HUBBLE_SERVER", address()},
                               {"HUBBLE_TLS", "true"},
                               {"HUBBLE_TLS_CA_CERT_FILES", file("other-ca.crt") + " " + file("ca.crt")},
                               {"HUBBLE_TLS_SERVER_NAME", kName},
                               {"HUBBLE_TLS_CLIENT_CERT_FILE", file("client.crt")},
                               {"HUBBLE_TLS_CLIENT_KEY_FILE", file("client.key")}});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out.rfind("Healthcheck (via " + address() + "): Ok\n", 0), 0u) << s.out;
}

TEST_F(TlsCli, OptionsFromTheConfigFile) {
  start(true);
  std::ofstream(file("config.yaml")) << "server: tls://" << address() << "\n"
                                     << "tls-ca-cert-files:\n  - " << file("ca.crt") << "\n"
                                     << "tls-server-name: " << kName << "\n"
                                     << "tls-client-cert-file: " << file("client.crt") << "\n"
                                     << "tls-client-key-file: " << file("client.key") << "\n";
  auto given = hubble({"--config", file("config.yaml"), "status"});
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(given.out.rfind("Healthcheck (via tls://" + address() + "): Ok\n", 0), 0u) << given.out;

  // Upstream's default place, under XDG_CONFIG_HOME; a flag still wins.
  std::filesystem::create_directories(file("xdg/hubble"));
  std::filesystem::copy_file(file("config.yaml"), file("xdg/hubble/config.yaml"));
  auto found = hubble({"list", "nodes"}, {{"XDG_CONFIG_HOME", file("xdg")}});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_NE(found.out.find("node-a   Connected"), std::string::npos) << found.out;
  auto overridden = hubble({"status", "--tls-server-name", "node-b.default.hubble-grpc.cilium.io"},
                           {{"XDG_CONFIG_HOME", file("xdg")}});
  EXPECT_EQ(overridden.exit_code, 1);
  EXPECT_NE(overridden.err.find("--tls-server-name"), std::string::npos) << overridden.err;
}

TEST_F(TlsCli, MutualTlsNeedsAClientCertificateTheServerTrusts) {
  start(true);
  auto ok = hubble(cat(cat({"observe", "--server", "tls://" + address()}, trusted()), client_cert()));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("10.0.0.1:40000"), std::string::npos) << ok.out;

  auto none = hubble(cat({"status", "--server", "tls://" + address()}, trusted()));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.out, "");
  EXPECT_NE(none.err.find("failed to connect to 'tls://" + address() +
                          "': the server closed the TLS connection: it requires a client certificate"),
            std::string::npos)
      << none.err;

  auto stranger = hubble(cat(cat({"status", "--server", "tls://" + address()}, trusted()), client_cert("stranger")));
  EXPECT_EQ(stranger.exit_code, 1);
  EXPECT_NE(stranger.err.find("did not accept the client certificate '" + file("stranger.crt") + "'"),
            std::string::npos)
      << stranger.err;
}

TEST_F(TlsCli, UntrustedServerCertificateFailsClearly) {
  start(false);
  auto r = hubble({"status", "--server", "tls://" + address(), "--tls-ca-cert-files", file("other-ca.crt"),
                   "--tls-server-name", kName});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("TLS handshake failed: the server's certificate is not trusted"), std::string::npos) << r.err;
  // gRPC's own log lines stay out of the way; the one error line says it all.
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

TEST_F(TlsCli, ServerNameIsHonoured) {
  start(false);
  auto dialed = hubble({"status", "--server", "tls://" + address(), "--tls-ca-cert-files", file("ca.crt")});
  EXPECT_EQ(dialed.exit_code, 1);
  EXPECT_NE(dialed.err.find("not issued for the name dialed (set the name it carries with --tls-server-name)"),
            std::string::npos)
      << dialed.err;
  auto wrong = hubble({"status", "--server", "tls://" + address(), "--tls-ca-cert-files", file("ca.crt"),
                       "--tls-server-name", "node-b.default.hubble-grpc.cilium.io"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("--tls-server-name"), std::string::npos) << wrong.err;
  auto right = hubble(cat({"status", "--server", "tls://" + address()}, trusted()));
  EXPECT_EQ(right.exit_code, 0) << right.err;
}

TEST_F(TlsCli, AllowInsecureSkipsVerification) {
  start(true);
  auto r = hubble(cat({"observe", "--server", "tls://" + address(), "--tls-allow-insecure"}, client_cert()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("10.0.0.1:40000"), std::string::npos) << r.out;
}

TEST_F(TlsCli, WrongProtocolAndBadFilesAreClearErrors) {
  start(false);
  auto plain = hubble({"status", "--server", address()});
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.err.find("if the server uses TLS, pass --tls"), std::string::npos) << plain.err;

  auto missing = hubble({"status", "--server", "tls://" + address(), "--tls-ca-cert-files", file("absent.crt")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "Error: cannot load CA certificate '" + file("absent.crt") + "': No such file or directory\n");

  auto half = hubble(cat({"status", "--server", "tls://" + address(), "--tls-client-cert-file", file("client.crt")},
                         trusted()));
  EXPECT_EQ(half.exit_code, 1);
  EXPECT_NE(half.err.find("only one was provided"), std::string::npos) << half.err;

  auto key_as_cert = hubble(cat({"status", "--server", "tls://" + address(), "--tls-client-cert-file",
                                 file("client.key"), "--tls-client-key-file", file("client.key")},
                                trusted()));
  EXPECT_EQ(key_as_cert.exit_code, 1);
  EXPECT_NE(key_as_cert.err.find("cannot process client certificate '" + file("client.key") + "'"), std::string::npos)
      << key_as_cert.err;
}

}  // namespace

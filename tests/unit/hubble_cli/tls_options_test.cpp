// The hubble CLI's connection options: flags and HUBBLE_* variables as
// upstream names them, how they combine into a dial plan, the TLS files'
// errors, and how gRPC's connection errors are explained.
#include "hubble_cli/tls_options.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "error_text.h"

#include "hubble_cli/commands.h"

using namespace cpp::hubble_cli;

namespace {

GlobalOptions parse(std::vector<std::string> args) {
  CLI::App app;
  app.fallthrough();
  GlobalOptions g;
  add_connection_flags(app, g);
  app.add_subcommand("status");
  args.insert(args.begin(), "hubble");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return g;
}

// Sets HUBBLE_* variables for one test and removes them after.
struct Env {
  explicit Env(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {
    for (const auto& [k, v] : vars_) setenv(k.c_str(), v.c_str(), 1);
  }
  ~Env() {
    for (const auto& [k, v] : vars_) unsetenv(k.c_str());
  }
  std::map<std::string, std::string> vars_;
};


}  // namespace

TEST(TlsOptions, FlagsBeforeOrAfterTheSubcommand) {
  auto g = parse({"--server", "tls://node-a:4244", "status", "--tls-ca-cert-files", "a.crt,b.crt",
                  "--tls-client-cert-file", "c.crt", "--tls-client-key-file", "c.key", "--tls-server-name",
                  "node-a.default.hubble-grpc.cilium.io", "--tls-allow-insecure"});
  EXPECT_EQ(g.server, "tls://node-a:4244");
  EXPECT_FALSE(g.tls.tls);
  EXPECT_TRUE(g.tls.allow_insecure);
  EXPECT_EQ(g.tls.ca_cert_files, (std::vector<std::string>{"a.crt", "b.crt"}));
  EXPECT_EQ(g.tls.client_cert_file, "c.crt");
  EXPECT_EQ(g.tls.client_key_file, "c.key");
  EXPECT_EQ(g.tls.server_name, "node-a.default.hubble-grpc.cilium.io");
  EXPECT_TRUE(parse({"status", "--tls"}).tls.tls);
}

TEST(TlsOptions, EnvironmentVariablesAsUpstream) {
  Env env({{"HUBBLE_SERVER", "10.0.0.1:4244"},
           {"HUBBLE_TIMEOUT", "2s"},
           {"HUBBLE_TLS", "true"},
           {"HUBBLE_TLS_ALLOW_INSECURE", "false"},
           {"HUBBLE_TLS_CA_CERT_FILES", "/etc/a.crt /etc/b.crt"},
           {"HUBBLE_TLS_CLIENT_CERT_FILE", "/etc/c.crt"},
           {"HUBBLE_TLS_CLIENT_KEY_FILE", "/etc/c.key"},
           {"HUBBLE_TLS_SERVER_NAME", "x.hubble-grpc.cilium.io"}});
  auto g = parse({"status"});
  EXPECT_EQ(g.server, "10.0.0.1:4244");
  EXPECT_EQ(g.timeout, "2s");
  EXPECT_TRUE(g.tls.tls);
  EXPECT_FALSE(g.tls.allow_insecure);
  EXPECT_EQ(g.tls.client_cert_file, "/etc/c.crt");
  EXPECT_EQ(g.tls.server_name, "x.hubble-grpc.cilium.io");
  // Upstream's variable lists files separated by spaces.
  auto plan = plan_dial(g.server, g.tls);
  EXPECT_EQ(plan.flags.ca_cert_files, (std::vector<std::string>{"/etc/a.crt", "/etc/b.crt"}));
  // A flag wins over its variable.
  EXPECT_EQ(parse({"status", "--tls-server-name", "flag.example"}).tls.server_name, "flag.example");
}

TEST(TlsOptions, DialPlan) {
  auto plain = plan_dial("127.0.0.1:4244", {});
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.target, "127.0.0.1:4244");
  auto prefixed = plan_dial("tls://node-a:4244", {});
  EXPECT_TRUE(prefixed.tls);
  EXPECT_EQ(prefixed.target, "node-a:4244");
  TlsFlags f;
  f.tls = true;
  auto flagged = plan_dial("/var/run/cilium/hubble.sock", f);
  EXPECT_TRUE(flagged.tls);
  EXPECT_EQ(flagged.target, "unix:///var/run/cilium/hubble.sock");
  EXPECT_THROW(plan_dial("tls://", {}), std::invalid_argument);
  EXPECT_THROW(plan_dial("tls://nohost", {}), std::invalid_argument);
}

TEST(TlsOptions, ClientKeyPairRules) {
  TlsFlags half;
  half.client_cert_file = "c.crt";
  EXPECT_NE(message_of([&] { plan_dial("tls://a:1", half); }).find("only one was provided"), std::string::npos);
  TlsFlags key_only;
  key_only.client_key_file = "c.key";
  EXPECT_THROW(plan_dial("tls://a:1", key_only), std::invalid_argument);
  TlsFlags pair = half;
  pair.client_key_file = "c.key";
  EXPECT_NE(message_of([&] { plan_dial("a:1", pair); }).find("transport layer security required"), std::string::npos);
  EXPECT_TRUE(plan_dial("tls://a:1", pair).tls);
  // Without TLS the other TLS options are ignored, as upstream's.
  TlsFlags ca;
  ca.ca_cert_files = {"/nonexistent.crt"};
  EXPECT_NO_THROW(channel_credentials(plan_dial("a:1", ca)));
}

TEST(TlsOptions, FilesAreNamedInErrors) {
  char tmpl[] = "/tmp/cpp-hubble-tlsopt-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/not-pem.crt") << "hello\n";
  std::ofstream(dir + "/ca.crt") << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::ofstream(dir + "/c.key") << "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";

  TlsFlags missing;
  missing.ca_cert_files = {dir + "/ca.crt", dir + "/absent.crt"};
  EXPECT_EQ(message_of([&] { load_tls_material(missing); }),
            "cannot load CA certificate '" + dir + "/absent.crt': No such file or directory");
  TlsFlags garbage;
  garbage.ca_cert_files = {dir + "/not-pem.crt"};
  EXPECT_NE(message_of([&] { load_tls_material(garbage); }).find("cannot process CA certificate '" + dir + "/not-pem.crt'"),
            std::string::npos);
  TlsFlags key_as_cert;
  key_as_cert.client_cert_file = dir + "/c.key";
  key_as_cert.client_key_file = dir + "/c.key";
  EXPECT_NE(message_of([&] { load_tls_material(key_as_cert); }).find("client certificate '" + dir + "/c.key'"),
            std::string::npos);
  TlsFlags good;
  good.ca_cert_files = {dir + "/ca.crt", dir + "/ca.crt"};
  good.client_cert_file = dir + "/ca.crt";
  good.client_key_file = dir + "/c.key";
  auto m = load_tls_material(good);
  EXPECT_EQ(m.roots.size(), 2 * m.client_cert.size());
  EXPECT_NE(m.client_key.find("PRIVATE KEY"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(TlsOptions, ExplainsConnectionErrors) {
  auto tls = plan_dial("tls://a:1", {});
  TlsFlags pair;
  pair.client_cert_file = "me.crt";
  pair.client_key_file = "me.key";
  auto mtls = plan_dial("tls://a:1", pair);
  auto plain = plan_dial("a:1", {});
  const std::string prefix = "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: ";
  EXPECT_NE(explain_tls_failure(prefix + "Ssl handshake failed: SSL_ERROR_SSL: error:0A000086:SSL "
                                         "routines::certificate verify failed",
                                tls)
                .find("not trusted"),
            std::string::npos);
  EXPECT_NE(explain_tls_failure(prefix + "Peer name 127.0.0.1 is not in peer certificate", tls).find("--tls-server-name"),
            std::string::npos);
  EXPECT_NE(explain_tls_failure(prefix + "Socket closed", tls).find("requires a client certificate"), std::string::npos);
  EXPECT_NE(explain_tls_failure(prefix + "Socket closed", mtls).find("did not accept the client certificate 'me.crt'"),
            std::string::npos);
  EXPECT_NE(explain_tls_failure(prefix + "Ssl handshake failed: SSL_ERROR_SSL: error:0A00010B:SSL routines::wrong "
                                         "version number",
                                tls)
                .find("does not speak TLS"),
            std::string::npos);
  EXPECT_NE(explain_tls_failure(prefix + "Socket closed", plain).find("pass --tls"), std::string::npos);
  // Not TLS problems: the caller keeps waiting for the server.
  EXPECT_EQ(explain_tls_failure(prefix + "Failed to connect to remote host: Connection refused", tls), "");
  EXPECT_EQ(explain_tls_failure(prefix + "Failed to connect to remote host: Connection refused", plain), "");
}

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "k8s/client/kube_config.h"

using namespace cpp::k8s;
namespace fs = std::filesystem;

namespace {

class Dir {
 public:
  Dir() {
    std::string t = (fs::temp_directory_path() / "cpp-kubeconfig-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~Dir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
    return path_ + "/" + name;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const char* kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: lab
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: ca.crt
- name: plain
  cluster:
    server: http://127.0.0.1:8080
contexts:
- name: lab
  context: {cluster: lab, user: agent, namespace: kube-system}
- name: other
  context: {cluster: plain, user: certs}
users:
- name: agent
  user:
    tokenFile: token
- name: certs
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
)";

}  // namespace

TEST(KubeConfig, CurrentContextWithFilesRelativeToTheKubeconfig) {
  Dir d;
  d.write("ca.crt", "CA PEM");
  d.write("token", "secret-token\n");
  auto c = load_kubeconfig(d.write("config", kTwoContexts));
  EXPECT_EQ(c.server, "https://127.0.0.1:6443");
  EXPECT_EQ(c.ca_pem, "CA PEM");
  EXPECT_EQ(c.token, "secret-token");
  EXPECT_EQ(c.token_file, d.path() + "/token");
  EXPECT_EQ(c.ns, "kube-system");
  EXPECT_FALSE(c.insecure_skip_tls_verify);
}

TEST(KubeConfig, NamedContextWithInlineCertificates) {
  Dir d;
  auto c = load_kubeconfig(d.write("config", kTwoContexts), "other");
  EXPECT_EQ(c.server, "http://127.0.0.1:8080");
  EXPECT_EQ(c.client_cert_pem, "CERT");
  EXPECT_EQ(c.client_key_pem, "KEY");
  EXPECT_EQ(c.ns, "default");
}

TEST(KubeConfig, ErrorsNameTheFileAndField) {
  Dir d;
  auto msg = [&](const std::string& text, const std::string& ctx = "") {
    try {
      load_kubeconfig(d.write("bad", text), ctx);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg(kTwoContexts, "nope").find("contexts: no entry named \"nope\""), std::string::npos);
  EXPECT_NE(msg("clusters: []\n").find("current-context"), std::string::npos);
  EXPECT_NE(msg("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: "
                "{server: ftp://h}\n")
                .find("is not an http(s) URL"),
            std::string::npos);
  EXPECT_NE(msg(kTwoContexts).find("certificate-authority: cannot read"), std::string::npos);  // ca.crt missing
  EXPECT_NE(msg("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n"
                "  cluster: {server: 'http://h'}\nusers:\n- name: u\n  user: {client-certificate-data: Q0VSVA==}\n")
                .find("client-certificate and client-key go together"),
            std::string::npos);
  EXPECT_THROW(load_kubeconfig(d.path() + "/missing"), std::invalid_argument);
}

TEST(KubeConfig, InClusterFromTheServiceAccount) {
  Dir d;
  d.write("token", "sa-token\n");
  d.write("ca.crt", "CLUSTER CA");
  d.write("namespace", "kube-system");
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(load_in_cluster(d.path()));  // not in a pod
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = load_in_cluster(d.path());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token, "sa-token");
  EXPECT_EQ(c->ca_pem, "CLUSTER CA");
  EXPECT_EQ(c->ns, "kube-system");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  EXPECT_EQ(load_in_cluster(d.path())->server, "https://[fd00::1]:443");
  fs::remove(d.path() + "/token");
  EXPECT_THROW(load_in_cluster(d.path()), std::invalid_argument);
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
}

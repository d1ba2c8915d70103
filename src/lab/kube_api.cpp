#include "lab/kube_api.h"

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include "common/files.h"
#include "k8s/client/kube_config.h"
#include "lab/cluster.h"
#include "lab/proc.h"

namespace cpp::lab {

namespace {

std::string random_token() {
  std::ifstream in("/dev/urandom", std::ios::binary);
  unsigned char b[20];
  if (!in.read(reinterpret_cast<char*>(b), sizeof b)) throw std::runtime_error("cannot read /dev/urandom");
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (unsigned char c : b) {
    t += hex[c >> 4];
    t += hex[c & 15];
  }
  return t;
}

// A CA and a server certificate for the API's address and the in-cluster
// names, as kubeadm issues them (EC keys: quick to make).
void make_certificates(const std::string& dir) {
  if (find_program("openssl").empty()) throw std::runtime_error("openssl not found in PATH (apt-get install openssl)");
  const std::vector<std::string> ec{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  run_checked(with({"openssl", "req", "-x509", "-days", "3650", "-subj", "/CN=cilium-lab-ca", "-keyout",
                    dir + "/ca.key", "-out", dir + "/ca.crt"},
                   ec));
  run_checked(with({"openssl", "req", "-subj", "/CN=kube-apiserver", "-keyout", dir + "/server.key", "-out",
                    dir + "/server.csr"},
                   ec));
  write_file_atomic(dir + "/server.ext", std::string("subjectAltName=IP:") + kKubeApiIpv4 +
                                             ",DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n"
                                             "extendedKeyUsage=serverAuth\n");
  run_checked({"openssl", "x509", "-req", "-days", "3650", "-in", dir + "/server.csr", "-CA", dir + "/ca.crt", "-CAkey",
               dir + "/ca.key", "-CAcreateserial", "-extfile", dir + "/server.ext", "-out", dir + "/server.crt"});
}

std::string kubeconfig_text(const std::string& lab, const std::string& ca, const std::string& token) {
  std::string server = std::string("https://") + kKubeApiIpv4 + ":" + std::to_string(kKubeApiPort);
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: " + lab + "\n  cluster:\n    server: " + server +
         "\n    certificate-authority: " + ca + "\nusers:\n- name: " + lab + "-admin\n  user:\n    token: " + token +
         "\ncontexts:\n- name: " + lab + "\n  context:\n    cluster: " + lab + "\n    user: " + lab +
         "-admin\n    namespace: default\ncurrent-context: " + lab + "\n";
}

bool api_answers(const DaemonState& d, const std::string& ca, const std::string& token) {
  RunOptions o;
  o.netns_path = d.netns_path();
  o.timeout = std::chrono::milliseconds(3000);
  auto r = run({"curl", "-sf", "-m", "2", "--cacert", ca, "-H", "Authorization: Bearer " + token,
                std::string("https://") + kKubeApiIpv4 + ":" + std::to_string(kKubeApiPort) + "/version"},
               o);
  return r.exit_code == 0 && r.out.find("gitVersion") != std::string::npos;
}

}  // namespace

void start_kube_apiserver(LabState& lab, int timeout_s) {
  std::string bin = lab.bin_dir + "/cpp-kube-apiserver-fixture";
  if (::access(bin.c_str(), X_OK) != 0)
    throw std::runtime_error(bin + " not found (build the cpp-kube-apiserver-fixture target)");
  lab.kubeapi.push_back(make_daemon(lab, "kubeapi", 9, "apiserver.log"));
  DaemonState& d = lab.kubeapi.back();
  save_lab(lab);
  make_certificates(d.dir);
  std::string token = random_token();
  write_file_atomic(d.dir + "/token", token);
  write_file_atomic(lab.kubeconfig_path(), kubeconfig_text(lab.name, d.dir + "/ca.crt", token));
  attach_to_underlay(lab, d.netns, "v" + d.name, d.ipv4, "");
  std::string nsenter = find_program("nsenter");
  if (nsenter.empty()) throw std::runtime_error("nsenter not found in PATH");
  d.proc = spawn_daemon({nsenter, "--net=" + d.netns_path(), bin, "--listen",
                         std::string(kKubeApiIpv4) + ":" + std::to_string(kKubeApiPort), "--tls-cert",
                         d.dir + "/server.crt", "--tls-key", d.dir + "/server.key", "--token", token,
                         "--control-listen", std::string(kKubeApiIpv4) + ":" + std::to_string(kKubeApiControlPort),
                         // The ClusterIP range the lab's Service admission uses (services.cpp).
                         "--service-cidr", "10.96.0.0/16"},
                        d.log);
  save_lab(lab);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (!api_answers(d, d.dir + "/ca.crt", token)) {
    if (!process_alive(d.proc))
      throw std::runtime_error("the API server exited during start-up; last lines of " + d.log + ":\n" +
                               tail_file(d.log, 20));
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("the API server did not answer within " + std::to_string(timeout_s) +
                               " s; last lines of " + d.log + ":\n" + tail_file(d.log, 20));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::shared_ptr<k8s::KubeClient> lab_kube_client(const LabState& lab) {
  k8s::KubeClient::Options o;
  o.config = k8s::load_kubeconfig(lab.kubeconfig_path());
  // The lab's own commands create many objects at once (connectivity test).
  o.qps = 100;
  o.burst = 200;
  return std::make_shared<k8s::KubeClient>(o);
}

}  // namespace cpp::lab

#pragma once
// Where the Kubernetes API is and how to authenticate to it: from a
// kubeconfig file (`k8s-kubeconfig-path`, kubectl's format) or, inside a
// pod, from the service account (KUBERNETES_SERVICE_HOST/PORT, the mounted
// token, CA and namespace), as client-go's rest.InClusterConfig does.
#include <optional>
#include <string>

namespace cpp::k8s {

struct KubeConfig {
  std::string server;  // https://host:port or http://host:port
  std::string ca_pem;  // empty: the system's CAs
  bool insecure_skip_tls_verify = false;
  std::string token;       // bearer token (empty: none)
  std::string token_file;  // re-read on every 401, as tokens are rotated
  std::string client_cert_pem, client_key_pem;
  std::string ns = "default";  // the context's (or pod's) namespace
};

// The current (or named) context of a kubeconfig; relative file references
// resolve against the kubeconfig's directory. Throws std::invalid_argument
// naming the file and field.
KubeConfig load_kubeconfig(const std::string& path, const std::string& context = "");

// The pod's service account. root: where serviceaccount/ lives (tests point it
// elsewhere). nullopt when KUBERNETES_SERVICE_HOST is unset (not in a pod);
// throws when it is set but the account's files are missing.
std::optional<KubeConfig> load_in_cluster(const std::string& root = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace cpp::k8s

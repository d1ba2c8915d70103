#pragma once
// The API fixture server as a child process on 127.0.0.1 (free ports), its
// /fixture/ control endpoints, and a client for it. Killed by PID when done.
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "k8s/client/kube_client.h"

namespace k8stest {

class FixtureProcess {
 public:
  // extra: more command-line options (--tls-cert, --token, ...).
  explicit FixtureProcess(std::vector<std::string> extra = {});
  ~FixtureProcess();
  int port() const { return port_; }
  // POST /fixture/<what>?<query> on the control listener; the answer body.
  std::string control(const std::string& what, const std::string& query = "");
  cpp::k8s::KubeConfig config(bool tls = false) const;
  std::shared_ptr<cpp::k8s::KubeClient> client(double qps = 0) const;

 private:
  pid_t pid_ = -1;
  int port_ = 0, control_port_ = 0;
  std::string dir_;
};

}  // namespace k8stest

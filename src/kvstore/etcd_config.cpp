// Upstream Cilium's etcd.config: a YAML map whose `endpoints` lists the
// members. TLS keys (trusted-ca-file, key-file, cert-file) are accepted and
// ignored; an https endpoint is refused when the client is built.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kvstore/etcd_channel.h"

namespace cpp::kvstore {

EtcdOptions load_etcd_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("etcd config " + path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto fail = [&](const std::string& msg) { return std::invalid_argument("etcd config " + path + ": " + msg); };
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw fail(std::string("not valid YAML: ") + e.what());
  }
  if (!root.IsMap()) throw fail("expected a YAML map with an 'endpoints' list");
  YAML::Node eps = root["endpoints"];
  if (!eps) throw fail("field 'endpoints' is missing");
  EtcdOptions opts;
  auto add = [&](const YAML::Node& n, const std::string& where) {
    if (!n.IsScalar() || n.Scalar().empty()) throw fail("field '" + where + "': expected an endpoint URL");
    try {
      detail::dial_target(n.Scalar());  // refuse now what the client could not dial
    } catch (const std::invalid_argument& e) {
      throw fail("field '" + where + "': " + e.what());
    }
    opts.endpoints.push_back(n.Scalar());
  };
  if (eps.IsSequence()) {
    for (size_t i = 0; i < eps.size(); ++i) add(eps[i], "endpoints[" + std::to_string(i) + "]");
  } else {
    add(eps, "endpoints");
  }
  if (opts.endpoints.empty()) throw fail("field 'endpoints' is empty");
  return opts;
}

}  // namespace cpp::kvstore

#include "agent/hubble_enricher.h"

#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "netlink/netns.h"

namespace cpp::agent {
namespace {

// Caches only grow with what the node sees; a bound keeps a long-running
// agent that sees many short-lived pods from growing without limit.
constexpr size_t kCacheMax = 16384;

template <typename M>
void bound(M& m) {
  if (m.size() >= kCacheMax) m.clear();
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

// The cookie bpf_get_netns_cookie() returns for processes in the namespace
// at path; 0 when it cannot be learned (namespace gone).
uint64_t netns_cookie_of(const std::string& path) {
  try {
    auto ns = NetnsHandle::open_path(path);
    return run_in_netns(ns, [] {
      int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return uint64_t{0};
      uint64_t cookie = 0;
      socklen_t len = sizeof(cookie);
      if (::getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) cookie = 0;
      ::close(fd);
      return cookie;
    });
  } catch (const std::exception& e) {
    spdlog::debug("hubble: netns cookie of '{}': {}", path, e.what());
    return 0;
  }
}

}  // namespace

HubbleEnricher::HubbleEnricher(std::string node_name, const endpoint::Manager& endpoints,
                               const identity::IdentityAllocator& ids, const PolicySubsystem& policy,
                               store::ResourceStore& store, const ServiceSubsystem* services)
    : node_name_(std::move(node_name)),
      endpoints_(endpoints),
      ids_(ids),
      policy_(policy),
      store_(store),
      services_(services) {}

HubbleEnricher::~HubbleEnricher() { stop(); }

void HubbleEnricher::start() {
  watch_ = store_.watch("CiliumEndpoint",
                        [this](store::EventType t, const nlohmann::json& obj) { on_cilium_endpoint(t, obj); });
}

void HubbleEnricher::stop() {
  if (watch_) watch_->stop();
  watch_.reset();
}

void HubbleEnricher::on_cilium_endpoint(store::EventType t, const nlohmann::json& obj) {
  PodRef ref{obj["metadata"].value("namespace", ""), obj["metadata"].value("name", "")};
  // obj is const: operator[] on a missing key would be undefined.
  const nlohmann::json::json_pointer id_at("/status/identity/id"), addressing_at("/status/networking/addressing");
  if (obj.contains(id_at) && obj.at(id_at).is_number_unsigned()) ref.identity = obj.at(id_at).get<uint32_t>();
  std::vector<IpAddr> addrs;
  if (obj.contains(addressing_at) && obj.at(addressing_at).is_array())
    for (const auto& a : obj.at(addressing_at))
      for (const char* k : {"ipv4", "ipv6"})
        if (a.contains(k) && a[k].is_string())
          if (auto ip = IpAddr::parse(a[k].get<std::string>())) addrs.push_back(*ip);
  std::lock_guard l(mu_);
  for (const auto& ip : addrs) {
    if (t == store::EventType::Deleted) {
      auto it = remote_pods_.find(ip);
      if (it != remote_pods_.end() && it->second.ns == ref.ns && it->second.name == ref.name) remote_pods_.erase(it);
    } else {
      remote_pods_[ip] = ref;
    }
  }
}

std::optional<HubbleEnricher::PodRef> HubbleEnricher::pod_of(const IpAddr& addr, uint16_t ep_id) const {
  if (ep_id != 0) {
    if (auto ep = endpoints_.get(ep_id); ep && (ep->ipv4 == addr || ep->ipv6 == addr))
      return PodRef{ep->k8s_namespace, ep->k8s_pod_name, ep->identity};
  }
  std::lock_guard l(mu_);
  auto it = remote_pods_.find(addr);
  if (it == remote_pods_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const std::vector<std::string>> HubbleEnricher::labels_of(uint32_t identity) const {
  {
    std::lock_guard l(mu_);
    auto it = labels_.find(identity);
    if (it != labels_.end()) return it->second;
  }
  auto out = std::make_shared<std::vector<std::string>>();
  if (auto ls = ids_.lookup(identity))
    for (const auto& lbl : *ls) out->push_back(lbl.str());
  std::sort(out->begin(), out->end());
  std::lock_guard l(mu_);
  bound(labels_);
  return labels_.emplace(identity, std::move(out)).first->second;
}

std::shared_ptr<const hubble::EndpointInfo> HubbleEnricher::endpoint(const IpAddr& addr, uint16_t ep_id,
                                                                     uint32_t identity) const {
  auto pod = pod_of(addr, ep_id);
  // Events the datapath resolved no identity for (trace-sock: the socket
  // layer names only an address) take the pod's, as upstream's ipcache does.
  if (identity == 0 && pod) identity = pod->identity;
  // The endpoint ID is only known for local endpoints: keyed by it, so that
  // a remote address with the same pod name never borrows a local ID.
  uint32_t local_id = 0;
  if (pod && ep_id != 0) local_id = ep_id;
  auto key = std::make_tuple(identity, local_id, pod ? pod->ns : "", pod ? pod->name : "");
  {
    std::lock_guard l(mu_);
    auto it = infos_.find(key);
    if (it != infos_.end()) return it->second;
  }
  auto info = std::make_shared<hubble::EndpointInfo>();
  info->id = local_id;
  info->identity = identity;
  if (pod) {
    info->namespace_ = pod->ns;
    info->pod_name = pod->name;
  }
  info->labels = *labels_of(identity);
  std::lock_guard l(mu_);
  bound(infos_);
  return infos_.emplace(key, std::move(info)).first->second;
}

std::shared_ptr<const hubble::PolicyRef> HubbleEnricher::policy(uint32_t cookie) const {
  if (cookie == 0) return nullptr;
  {
    std::lock_guard l(mu_);
    auto it = policies_.find(cookie);
    if (it != policies_.end()) return it->second;
  }
  auto rule = policy_.cookie_rule(cookie);
  if (!rule) return nullptr;
  auto ref = std::make_shared<hubble::PolicyRef>();
  ref->name = rule->name;
  ref->namespace_ = rule->ns;
  ref->kind = policy::to_string(rule->kind);
  ref->rule = rule->path;
  ref->revision = policy_.realized_revision();
  // Upstream's derived policy labels, so filters and UIs that key on them work.
  ref->labels = {"k8s:io.cilium.k8s.policy.derived-from=" + ref->kind, "k8s:io.cilium.k8s.policy.name=" + ref->name};
  if (!ref->namespace_.empty()) ref->labels.push_back("k8s:io.cilium.k8s.policy.namespace=" + ref->namespace_);
  std::lock_guard l(mu_);
  bound(policies_);
  return policies_.emplace(cookie, std::move(ref)).first->second;
}

std::optional<hubble::ServiceRef> HubbleEnricher::service(const IpAddr& addr, uint16_t port,
                                                          uint8_t protocol) const {
  if (!services_) return std::nullopt;
  auto name = services_->service_of(addr, port, protocol);
  if (!name) return std::nullopt;
  auto slash = name->find('/');
  if (slash == std::string::npos) return hubble::ServiceRef{*name, ""};
  return hubble::ServiceRef{name->substr(slash + 1), name->substr(0, slash)};
}

uint64_t HubbleEnricher::cookie_of_path(const std::string& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  {
    std::lock_guard l(mu_);
    auto it = netns_cookies_.find(path);
    if (it != netns_cookies_.end() && it->second.inode == st.st_ino) return it->second.cookie;
  }
  uint64_t c = netns_cookie_of(path);
  std::lock_guard l(mu_);
  bound(netns_cookies_);
  netns_cookies_[path] = {static_cast<uint64_t>(st.st_ino), c};
  return c;
}

std::optional<hubble::NetnsEndpoint> HubbleEnricher::endpoint_by_netns(uint64_t cookie, bool ipv6) const {
  if (cookie == 0) return std::nullopt;
  auto answer = [&](const endpoint::Endpoint& ep) -> std::optional<hubble::NetnsEndpoint> {
    const auto& addr = ipv6 ? ep.ipv6 : ep.ipv4;
    if (!addr) return std::nullopt;
    return hubble::NetnsEndpoint{ep.id, ep.identity, *addr};
  };
  const auto now = std::chrono::steady_clock::now();
  uint16_t known = 0;
  {
    std::lock_guard l(mu_);
    if (auto it = netns_eps_.find(cookie); it != netns_eps_.end()) {
      known = it->second;
    } else if (auto m = netns_misses_.find(cookie); m != netns_misses_.end() && now - m->second < kNetnsMissTtl) {
      return std::nullopt;
    }
  }
  // The endpoint ID may have been reused by another pod since: its
  // namespace must still have this cookie.
  if (known != 0)
    if (auto ep = endpoints_.get(known); ep && !ep->netns.empty() && cookie_of_path(ep->netns) == cookie)
      return answer(*ep);

  std::optional<endpoint::Endpoint> found;
  for (auto& ep : endpoints_.list()) {
    if (ep.netns.empty()) continue;
    uint64_t c = cookie_of_path(ep.netns);
    if (c == 0) continue;
    {
      std::lock_guard l(mu_);
      bound(netns_eps_);
      netns_eps_[c] = ep.id;
    }
    if (c == cookie) found = std::move(ep);
  }
  if (found) return answer(*found);
  std::lock_guard l(mu_);
  bound(netns_misses_);
  netns_misses_[cookie] = now;
  return std::nullopt;
}

std::string HubbleEnricher::interface_name(uint32_t ifindex) const {
  if (ifindex == 0) return "";
  {
    std::lock_guard l(mu_);
    auto it = ifnames_.find(ifindex);
    if (it != ifnames_.end()) return it->second;
  }
  char buf[IF_NAMESIZE] = {};
  std::string name = if_indextoname(ifindex, buf) ? buf : "";
  // Not cached when unknown: the device may not exist yet.
  if (name.empty()) return name;
  std::lock_guard l(mu_);
  bound(ifnames_);
  ifnames_[ifindex] = name;
  return name;
}

}  // namespace cpp::agent

#include "agent/health_endpoint.h"

#include "agent/json_response.h"
#include "common/log.h"
#include "health/named_netns.h"
#include "health/plumbing.h"
#include "identity/identity.h"
#include "labels/labels.h"
#include "netlink/netns.h"

namespace cpp::agent {
namespace {

constexpr const char* kIpamOwner = "health";
constexpr const char* kContainerId = "cilium-health";
constexpr auto kProbeWait = std::chrono::seconds(30);

std::vector<IpAddr> addresses_of(const endpoint::Endpoint& ep) {
  std::vector<IpAddr> out;
  if (ep.ipv4) out.push_back(*ep.ipv4);
  if (ep.ipv6) out.push_back(*ep.ipv6);
  return out;
}

}  // namespace

HealthSubsystem::HealthSubsystem(HealthDeps deps) : d_(std::move(deps)) {}

HealthSubsystem::~HealthSubsystem() { stop(); }

void HealthSubsystem::start() {
  if (!d_.cfg.enable_health_checking) {
    spdlog::info("health checking disabled (enable-health-checking: false)");
    remove_endpoint();
    return;
  }
  try {
    start_endpoint();
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    endpoint_note_ = std::string("health endpoint failed: ") + e.what();
    spdlog::error("{}", endpoint_note_);
  }
  start_node_responders();
  health::ProberOptions opts;
  opts.local_node = d_.cfg.node_name;
  opts.interval = d_.cfg.health_probe_interval;
  opts.http_port = health::kHealthPort;
  prober_ = std::make_unique<health::Prober>([this] { return targets(); }, opts);
  prober_->start();
  spdlog::info("health checking: probing every {} ms", opts.interval.count());
}

void HealthSubsystem::stop() {
  if (prober_) prober_->stop();
  for (auto& r : responders_) r->stop();
}

void HealthSubsystem::start_endpoint() {
  const auto& cfg = d_.cfg;
  if (!cfg.enable_endpoint_health_checking) {
    endpoint_note_ = "disabled (enable-endpoint-health-checking: false)";
    remove_endpoint();
    return;
  }
  // Agents sharing one host (lab and test nodes) share /run/netns: a fixed
  // default name would make them fight over one namespace.
  if (!cfg.raw.values.count("health-netns") && !health::in_initial_netns()) {
    endpoint_note_ = "not created: the agent runs in a node network namespace of its own, where the default "
                     "health-netns \"" + cfg.health_netns + "\" would be shared with other nodes; set health-netns";
    spdlog::warn("health endpoint {}", endpoint_note_);
    return;
  }
  auto alloc = d_.ipam.allocate(kIpamOwner);
  cni::PodAddressing net{alloc.ipv4, alloc.ipv6, d_.ipam.router_ipv4(), d_.ipam.router_ipv6(), d_.mtu};
  auto plumbing = health::ensure_health_plumbing(d_.nl, cfg.health_netns, net);

  endpoint::Endpoint ep;
  ep.container_id = kContainerId;
  ep.ifname = health::kEndpointIfname;
  ep.host_ifname = health::kHostIfname;
  ep.host_ifindex = plumbing.links.host.ifindex;
  ep.netns = plumbing.netns_path;
  ep.mac = plumbing.links.pod.mac;
  ep.host_mac = plumbing.links.host.mac;
  ep.ipv4 = alloc.ipv4;
  ep.ipv6 = alloc.ipv6;
  auto labels = labels::reserved_label_set(labels::kIdHealth);
  ep.labels = labels.to_map();
  ep.identity = identity::reserved_for_labels(labels).value_or(identity::kHealth);
  ep = d_.endpoints.upsert(ep);

  NetnsHandle ns = NetnsHandle::open_path(plumbing.netns_path);
  std::vector<std::unique_ptr<health::Responder>> started;
  for (const auto& a : addresses_of(ep)) {
    auto r = std::make_unique<health::Responder>();
    r->start(a, health::kHealthPort, &ns);
    started.push_back(std::move(r));
  }
  std::lock_guard lock(mu_);
  for (auto& r : started) responders_.push_back(std::move(r));
  endpoint_ = ep;
  spdlog::info("health endpoint {} {} in {} ({}), identity {}", ep.id, plumbing.reused ? "adopted" : "created",
               cfg.health_netns, ep.ipv4 ? ep.ipv4->str() : ep.ipv6->str(), ep.identity);
}

void HealthSubsystem::remove_endpoint() {
  auto ep = d_.endpoints.remove_by_container(kContainerId);
  if (!ep) return;
  try {
    d_.nl.remove_link(health::kHostIfname);
    d_.ipam.release(kIpamOwner);
    // Only the namespace the endpoint recorded, so a renamed health-netns
    // never removes a namespace the agent did not make.
    if (ep->netns.rfind("/run/netns/", 0) == 0) health::remove_named_netns(ep->netns.substr(11));
    spdlog::info("health endpoint {} removed: health checking is off", ep->id);
  } catch (const std::exception& e) {
    spdlog::warn("removing the health endpoint: {}", e.what());
  }
}

void HealthSubsystem::start_node_responders() {
  for (const auto& a : health::primary_first(d_.node_addresses)) {
    auto r = std::make_unique<health::Responder>();
    try {
      r->start(a, health::kHealthPort);
      std::lock_guard lock(mu_);
      responders_.push_back(std::move(r));
    } catch (const std::exception& e) {
      spdlog::warn("{}", e.what());
    }
  }
}

std::vector<IpAddr> HealthSubsystem::endpoint_addresses() const {
  std::lock_guard lock(mu_);
  return endpoint_ ? addresses_of(*endpoint_) : std::vector<IpAddr>{};
}

std::optional<IpAddr> HealthSubsystem::endpoint_ipv4() const {
  std::lock_guard lock(mu_);
  return endpoint_ ? endpoint_->ipv4 : std::nullopt;
}

std::optional<IpAddr> HealthSubsystem::endpoint_ipv6() const {
  std::lock_guard lock(mu_);
  return endpoint_ ? endpoint_->ipv6 : std::nullopt;
}

std::vector<health::NodeTarget> HealthSubsystem::targets() {
  health::NodeTarget local{d_.cfg.node_name, true, health::primary_first(d_.node_addresses),
                           health::primary_first(endpoint_addresses())};
  std::vector<std::string> warnings;
  auto out = health::cluster_targets(local, d_.store.list("CiliumNode"), &warnings);
  for (const auto& w : warnings) spdlog::warn("health: skipping {}", w);
  return out;
}

nlohmann::json HealthSubsystem::status_json() const {
  auto j = health::to_json(prober_->report());
  std::lock_guard lock(mu_);
  if (endpoint_) {
    j["health-endpoint"] = {{"id", endpoint_->id}, {"identity", endpoint_->identity}, {"netns", endpoint_->netns}};
    if (endpoint_->ipv4) j["health-endpoint"]["ipv4"] = endpoint_->ipv4->str();
    if (endpoint_->ipv6) j["health-endpoint"]["ipv6"] = endpoint_->ipv6->str();
  } else {
    j["health-endpoint"] = {{"error", endpoint_note_}};
  }
  return j;
}

std::optional<api::HttpResponse> HealthSubsystem::handle(const api::HttpRequest& req) {
  if (req.path != "/v1/health/status" && req.path != "/v1/health/probe") return std::nullopt;
  if (!prober_) return error(503, "health checking is disabled (enable-health-checking: false)");
  if (req.path == "/v1/health/status") {
    if (req.method != "GET") return error(405, "unsupported method " + req.method + " for " + req.path);
    return ok(status_json());
  }
  if (req.method != "POST") return error(405, "unsupported method " + req.method + " for " + req.path);
  if (!prober_->probe_now(kProbeWait)) return error(504, "probe round did not finish within 30s");
  return ok(status_json());
}

api::UnixHttpServer::Handler with_health_routes(api::UnixHttpServer::Handler inner, HealthSubsystem& health) {
  return [inner = std::move(inner), &health](const api::HttpRequest& req) {
    if (auto r = health.handle(req)) return *r;
    return inner(req);
  };
}

}  // namespace cpp::agent

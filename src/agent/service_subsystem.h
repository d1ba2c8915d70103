#pragma once
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/service_api.h"
#include "agent/service_reconciler.h"
#include "datapath/lb_map.h"
#include "service/model.h"
#include "store/store.h"

namespace cpp::agent {

// Services (kube-proxy replacement) on this node:
//   reads   Service and EndpointSlice objects from the store, and services
//           created through the API (kept in <state-dir>/services-api/<id>.json,
//           one file per service so a PUT costs the same at any size);
//   writes  cpp_lb_svc, cpp_lb_be and cpp_lb_maglev (through LbReconciler).
// Frontends come from service::frontends_of for this node; two services
// claiming one frontend are resolved by service::merge_frontends (the loser
// is logged with what and where, the rest keeps working), key by key, so
// a change costs what it touches, not what exists. Store events only
// record objects; a worker thread recomputes the services that changed and
// applies the difference, so a burst of events is programmed in one pass.
class ServiceSubsystem {
 public:
  struct Options {
    service::NodeView node;
    bool maglev = false;
    uint32_t map_max = CPP_LB_MAP_MAX_DEFAULT;
    std::string state_dir;  // API-created services, one <id>.json each; "" = not persisted
  };
  ServiceSubsystem(store::ResourceStore& store, datapath::LbMaps& maps, Options opts);
  ~ServiceSubsystem();

  // Adopts the ids in the maps, loads API services, replays the store and
  // programs everything once, then follows changes.
  void start();
  void stop();

  // GET /v1/service: every programmed frontend, by id.
  nlohmann::json list() const;
  std::optional<nlohmann::json> get(uint16_t id) const;
  // PUT /v1/service/{id}: creates or replaces an API service and programs
  // it before returning (true: created). Throws std::invalid_argument with
  // the field for bad input; nothing changes then.
  bool put(const nlohmann::json& spec, uint16_t id);
  // DELETE /v1/service/{id}: only API-created services; false if unknown.
  // Throws std::invalid_argument for a Kubernetes service's id.
  bool remove(uint16_t id);
  // Frontends programmed and conflicts (for status).
  nlohmann::json status() const;
  // The service ("namespace/name") a programmed frontend belongs to; for
  // naming translated flows. protocol is IPPROTO_*.
  std::optional<std::string> service_of(const IpAddr& addr, uint16_t port, uint8_t protocol) const;

 private:
  void on_event(const std::string& kind, store::EventType t, const nlohmann::json& obj);
  void reconcile_locked();
  void run();
  void save_api_locked(uint16_t id) const;
  // The service's frontends now (Kubernetes or API), nullopt if it is gone.
  std::optional<service::ServiceFrontends> compute_locked(const std::string& key);
  nlohmann::json entry_json_locked(uint16_t id) const;

  store::ResourceStore& store_;
  datapath::LbMaps& maps_;
  Options opts_;
  LbReconciler reconciler_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool synced_ = false, dirty_ = false, stopping_ = false;
  std::map<std::string, service::Service> services_;                      // key -> parsed
  std::map<std::string, service::EndpointSlice> slices_;                  // slice ns/name -> parsed
  std::map<std::string, std::set<std::string>> slices_of_;                // service key -> slice keys
  std::set<std::string> changed_;                                         // services to recompute
  std::map<std::string, service::ServiceFrontends> computed_;             // service key -> frontends
  std::map<uint16_t, ApiService> api_;                                    // id -> API service
  std::map<std::string, std::string> bad_objects_;                        // object -> parse error
  // Who wants which frontend, who got it, and what the others were told.
  std::map<datapath::LbFrontendKey, std::set<std::string>> claims_;
  std::map<std::string, std::map<datapath::LbFrontendKey, std::string>> conflicts_;
  std::set<datapath::LbFrontendKey> retry_;                               // failed last time
  bool first_pass_ = true;
  std::map<uint16_t, service::Frontend> programmed_;                      // id -> frontend
  std::map<datapath::LbFrontendKey, uint16_t> programmed_ids_;
  std::vector<std::unique_ptr<store::WatchHandle>> watches_;
  std::thread worker_;
};

}  // namespace cpp::agent

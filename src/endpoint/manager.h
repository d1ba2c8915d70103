#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "endpoint/endpoint.h"
#include "endpoint/id_allocator.h"

namespace cpp::endpoint {

// The kernel side of an endpoint, behind an interface so the manager's
// bookkeeping is testable without BPF.
class EndpointDatapath {
 public:
  virtual ~EndpointDatapath() = default;
  // Loads (or atomically replaces) the endpoint's program and writes its map
  // entries. Idempotent.
  virtual void attach(const Endpoint& ep) = 0;
  // Removes map entries and detaches; missing pieces are not errors.
  virtual void detach(const Endpoint& ep) = 0;
  // Whether the endpoint's host-side device still exists.
  virtual bool link_exists(const Endpoint& ep) = 0;
  // Deletes map entries that belong to no endpoint in `live` (left over when
  // a pod went away while the agent was down). Never flushes live entries.
  virtual void prune(const std::vector<Endpoint>& live) = 0;
};

// Called after an endpoint is created/updated (deleted=false) or removed.
using EndpointObserver = std::function<void(const Endpoint&, bool deleted)>;

// Owns endpoint records: ids, the state files under <state_dir>/endpoints/,
// and keeps the datapath matching them.
class Manager {
 public:
  Manager(std::string state_dir, EndpointDatapath& dp, EndpointObserver observer = nullptr);

  struct RestoreResult {
    std::vector<Endpoint> restored;
    std::vector<Endpoint> dropped;  // device gone: caller releases their IPs
    std::vector<std::string> warnings;
  };
  RestoreResult restore();

  // Creates or (same container id and interface) updates an endpoint. On
  // failure nothing is left behind and the error is rethrown.
  Endpoint upsert(Endpoint req);
  std::optional<Endpoint> remove(uint16_t id);
  std::optional<Endpoint> remove_by_container(const std::string& container_id);
  std::optional<Endpoint> get(uint16_t id) const;
  std::optional<Endpoint> get_by_container(const std::string& container_id) const;
  std::vector<Endpoint> list() const;

 private:
  std::string record_path(uint16_t id) const;
  std::optional<Endpoint> remove_locked(uint16_t id);
  std::string dir_;
  EndpointDatapath& dp_;
  EndpointObserver observer_;
  mutable std::mutex mu_;
  IdAllocator ids_;
  std::map<uint16_t, Endpoint> endpoints_;
};

}  // namespace cpp::endpoint

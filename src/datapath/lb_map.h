#pragma once
// The load-balancer maps of abi.h ("Load balancing"), decoded, and the thin
// interface the agent's ServiceSubsystem programs them through (so its diff
// and id logic is tested against a fake).
#include <ciliumpp/abi.h>

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"
#include "datapath/pinned_map.h"

namespace cpp::datapath {

// A frontend in one scope: the cpp_lb_svc key without the slot.
struct LbFrontendKey {
  IpAddr addr;
  uint16_t port = 0;   // host order
  uint8_t proto = 0;   // IPPROTO_*
  uint8_t scope = CPP_LB_SCOPE_INT;
  auto operator<=>(const LbFrontendKey&) const = default;
  std::string str() const;  // "10.96.0.10:80/TCP (i)", "[fd00::1]:53/UDP (e)"
};

// Slot 0 of a frontend.
struct LbServiceEntry {
  uint16_t svc_id = 0;
  uint16_t count = 0;
  uint32_t flags = 0;  // CPP_LB_F_*
  uint32_t affinity_timeout = 0;
  auto operator<=>(const LbServiceEntry&) const = default;
};

struct LbBackendEntry {
  IpAddr addr;
  uint16_t port = 0;  // host order
  uint8_t proto = 0;
  uint8_t flags = 0;  // CPP_LB_BE_F_*
  auto operator<=>(const LbBackendEntry&) const = default;
};

// What the maps hold, decoded.
struct LbSnapshot {
  std::map<LbFrontendKey, LbServiceEntry> services;               // slot 0 entries
  std::map<LbFrontendKey, std::map<uint16_t, uint32_t>> slots;    // slot (>0) -> backend id
  std::map<uint32_t, LbBackendEntry> backends;
  std::map<uint16_t, bool> maglev;                                // service ids with a table
};

cpp_lb_key lb_key(const LbFrontendKey& fe, uint16_t slot);
LbFrontendKey lb_key_frontend(const cpp_lb_key& k);
cpp_lb_backend lb_backend(const LbBackendEntry& b);
LbBackendEntry lb_backend_entry(const cpp_lb_backend& b);

// The writes the service control plane makes. Errors throw std::runtime_error.
class LbMaps {
 public:
  virtual ~LbMaps() = default;
  virtual void put_backend(uint32_t id, const LbBackendEntry& b) = 0;
  virtual void delete_backend(uint32_t id) = 0;
  virtual void put_service(const LbFrontendKey& fe, const LbServiceEntry& e) = 0;  // slot 0
  virtual void put_slot(const LbFrontendKey& fe, uint16_t slot, uint32_t backend_id) = 0;
  virtual void delete_slot(const LbFrontendKey& fe, uint16_t slot) = 0;  // slot 0: the service entry
  // The table has CPP_LB_MAGLEV_M backend ids; replaces any earlier one atomically.
  virtual void put_maglev(uint16_t svc_id, const std::vector<uint32_t>& table) = 0;
  virtual void delete_maglev(uint16_t svc_id) = 0;
  virtual LbSnapshot read() const = 0;
};

// The pinned maps under pin_dir (they exist once Loader::ensure_maps ran
// with the LB maps declared). The constructor throws naming the pin.
class BpfLbMaps : public LbMaps {
 public:
  explicit BpfLbMaps(const std::string& pin_dir);
  ~BpfLbMaps() override;

  void put_backend(uint32_t id, const LbBackendEntry& b) override;
  void delete_backend(uint32_t id) override;
  void put_service(const LbFrontendKey& fe, const LbServiceEntry& e) override;
  void put_slot(const LbFrontendKey& fe, uint16_t slot, uint32_t backend_id) override;
  void delete_slot(const LbFrontendKey& fe, uint16_t slot) override;
  void put_maglev(uint16_t svc_id, const std::vector<uint32_t>& table) override;
  void delete_maglev(uint16_t svc_id) override;
  LbSnapshot read() const override;

  // The Maglev table of a service (empty if none), for tests and the CLI.
  std::vector<uint32_t> maglev_table(uint16_t svc_id) const;

 private:
  std::vector<uint8_t> maglev_key(uint16_t svc_id) const;

  PinnedMap svc_;
  PinnedMap be_;
  std::string maglev_path_;
  int maglev_fd_ = -1;
  uint32_t maglev_key_size_ = 0;
};

// True if pin_dir holds cpp_lb_svc (kube-proxy replacement was enabled).
bool lb_maps_exist(const std::string& pin_dir);

// `cilium-dbg bpf lb list`: one object per cpp_lb_svc entry, upstream's
// columns: {"service": "10.96.0.10:80/TCP", "scope": "e"|"i", "slot",
// "backend": "10.0.0.1:8080/TCP" (slot 0: "0.0.0.0:0"), "backend_id",
// "svc_id", "count" and "flags": ["ClusterIP", "Maglev", ...] (slot 0)}.
nlohmann::json lb_snapshot_to_json(const LbSnapshot& s);
// Upstream's table: SERVICE ADDRESS / BACKEND ADDRESS (REVNAT_ID) (SLOT).
std::string lb_snapshot_to_text(const LbSnapshot& s);
std::vector<std::string> lb_flag_names(uint32_t flags);

}  // namespace cpp::datapath

#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "datapath/lb_map.h"
#include "service/model.h"

namespace cpp::agent {

// Keeps the LB maps equal to a list of frontends, changing only the
// difference, in an order a reader never trips over:
//   1. new/changed backends (cpp_lb_be);
//   2. per frontend: its slots, its Maglev table, then the slot-0 entry;
//      a shrinking frontend gets its smaller count before its surplus slots
//      go;
//   3. frontends no longer wanted: slot 0 first, then slots and table;
//   4. backends no frontend lists any more (a terminating backend stays as
//      long as some frontend lists it).
// Service ids (1..65535) belong to a frontend+scope, backend ids (1..) to a
// backend address; both stay with their owner for as long as it exists and
// are read back from the maps after a restart (restore()).
class LbReconciler {
 public:
  struct Options {
    bool maglev = false;          // bpf-lb-algorithm: maglev
    uint32_t max_backends = CPP_LB_MAP_MAX_DEFAULT;
  };
  LbReconciler(datapath::LbMaps& maps, Options opts);

  // Adopts what the maps hold: ids, entries (the next apply() diffs against
  // them). Returns warnings about entries it will clean up.
  std::vector<std::string> restore();

  // Pins `id` to the frontend (API services choose their id). Throws
  // std::invalid_argument if another frontend holds it or it is 0.
  void reserve(const datapath::LbFrontendKey& fe, uint16_t id);

  // Programs exactly `want` (one entry per address+scope; later duplicates
  // are ignored). Returns one message per frontend that failed; it is
  // retried on the next apply().
  std::vector<std::string> apply(const std::vector<service::Frontend>& want);
  // The incremental form: programs `upserts` (unchanged ones cost nothing)
  // and removes `removals`, leaving every other frontend alone. Backends
  // are removed only at the end, so one moving between frontends in the
  // same call keeps its id.
  std::vector<std::string> update(const std::vector<service::Frontend>& upserts,
                                  const std::vector<datapath::LbFrontendKey>& removals);
  std::vector<datapath::LbFrontendKey> applied_keys() const;

  // Forgets the frontend's id (it moves to another frontend); its entries
  // are removed by the next apply() if it is no longer wanted.
  void release(const datapath::LbFrontendKey& fe);
  std::optional<datapath::LbFrontendKey> id_owner(uint16_t id) const;

  std::optional<uint16_t> service_id(const datapath::LbFrontendKey& fe) const;
  std::optional<uint32_t> backend_id(const service::L4Addr& be) const;
  size_t frontend_count() const { return applied_.size(); }
  size_t backend_count() const { return applied_be_.size(); }

 private:
  struct Applied {
    bool has_entry = false;
    datapath::LbServiceEntry entry;
    std::map<uint16_t, uint32_t> slots;  // slot -> backend id
    bool maglev = false;
    std::vector<uint32_t> maglev_of;     // the active backend ids its table was built from
    bool dirty = false;                  // a write failed: rewrite everything next time
    std::optional<service::Frontend> fe; // what was programmed (unknown after restore)
    std::vector<std::pair<uint32_t, bool>> listing;  // backend id, active: the references it holds
  };
  struct Refs {
    int active = 0, terminating = 0;
  };

  std::optional<uint16_t> svc_id_for(const datapath::LbFrontendKey& fe);
  std::optional<uint32_t> be_id_for(const service::L4Addr& be);
  void upsert(const datapath::LbFrontendKey& key, const service::Frontend& f);
  void program(const datapath::LbFrontendKey& fe, const service::Frontend& f, uint16_t id,
               const std::vector<uint32_t>& active);
  void remove(const datapath::LbFrontendKey& fe);
  void release_id(const datapath::LbFrontendKey& fe);
  void add_refs(const std::vector<std::pair<uint32_t, bool>>& listing);
  void drop_refs(const std::vector<std::pair<uint32_t, bool>>& listing);
  // Writes the backend's state where its references changed it.
  void refresh_backend(uint32_t id);
  void collect_garbage(std::vector<std::string>& errors);

  datapath::LbMaps& maps_;
  Options opts_;
  std::map<datapath::LbFrontendKey, uint16_t> svc_ids_;
  std::map<uint16_t, datapath::LbFrontendKey> svc_owner_;
  std::map<service::L4Addr, uint32_t> be_ids_;
  std::map<uint32_t, service::L4Addr> be_owner_;
  std::map<datapath::LbFrontendKey, Applied> applied_;
  std::map<uint32_t, datapath::LbBackendEntry> applied_be_;
  std::map<uint32_t, Refs> refs_;     // backend id -> frontends listing it
  std::set<uint32_t> gc_;             // backends that may have lost their last reference
  std::vector<uint32_t> fresh_;       // backend ids handed out during the current update
  std::set<uint16_t> stray_maglev_;  // tables of services that have no entry
};

datapath::LbFrontendKey frontend_key(const service::L4Addr& addr, service::Scope scope);
service::L4Addr to_l4(const datapath::LbBackendEntry& b);
// CPP_LB_F_* of a frontend (without CPP_LB_F_MAGLEV).
uint32_t frontend_flags(const service::Frontend& f);

}  // namespace cpp::agent

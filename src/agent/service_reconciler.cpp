#include "agent/service_reconciler.h"

#include <stdexcept>

#include "common/log.h"

namespace cpp::agent {
namespace {

using datapath::LbBackendEntry;
using datapath::LbFrontendKey;
using datapath::LbServiceEntry;

constexpr uint32_t kMaxServiceId = 65535;

std::string maglev_name(const service::L4Addr& a) {
  return (a.addr.v6 ? "[" + a.addr.str() + "]" : a.addr.str()) + ":" + std::to_string(a.port);
}

}  // namespace

LbFrontendKey frontend_key(const service::L4Addr& addr, service::Scope scope) {
  return {addr.addr, addr.port, static_cast<uint8_t>(addr.protocol), static_cast<uint8_t>(scope)};
}

service::L4Addr to_l4(const LbBackendEntry& b) {
  return {b.addr, b.port, static_cast<service::Protocol>(b.proto)};
}

uint32_t frontend_flags(const service::Frontend& f) {
  uint32_t flags = 0;
  switch (f.type) {
    case service::FrontendType::ClusterIP: flags |= CPP_LB_F_CLUSTERIP; break;
    case service::FrontendType::NodePort: flags |= CPP_LB_F_NODEPORT; break;
    case service::FrontendType::ExternalIP: flags |= CPP_LB_F_EXTERNAL_IP; break;
    case service::FrontendType::LoadBalancer: flags |= CPP_LB_F_LOADBALANCER; break;
  }
  if (f.affinity) flags |= CPP_LB_F_AFFINITY;
  if (f.local) flags |= CPP_LB_F_LOCAL;
  return flags;
}

LbReconciler::LbReconciler(datapath::LbMaps& maps, Options opts) : maps_(maps), opts_(opts) {}

std::vector<std::string> LbReconciler::restore() {
  std::vector<std::string> warnings;
  auto snap = maps_.read();
  for (const auto& [id, b] : snap.backends) {
    auto l4 = to_l4(b);
    applied_be_[id] = b;
    gc_.insert(id);  // kept only if some frontend lists it again
    if (be_ids_.count(l4)) {
      warnings.push_back("backend " + l4.str() + " has two ids; " + std::to_string(id) + " will be removed");
      continue;
    }
    be_ids_[l4] = id;
    be_owner_[id] = l4;
  }
  for (const auto& [fe, e] : snap.services) {
    Applied& a = applied_[fe];
    a.has_entry = true;
    a.entry = e;
    a.maglev = snap.maglev.count(e.svc_id) > 0;  // its content is unknown: maglev_of stays empty, so it is rewritten
    if (e.svc_id == 0 || svc_owner_.count(e.svc_id)) {
      warnings.push_back("frontend " + fe.str() + " has service id " + std::to_string(e.svc_id) +
                         " that is taken; it gets a new one");
      continue;
    }
    svc_ids_[fe] = e.svc_id;
    svc_owner_[e.svc_id] = fe;
  }
  for (const auto& [fe, slots] : snap.slots) {
    Applied& a = applied_[fe];
    a.slots = slots;
    for (const auto& [_, id] : slots) a.listing.emplace_back(id, true);
    add_refs(a.listing);
  }
  for (const auto& [id, _] : snap.maglev)
    if (!svc_owner_.count(id)) stray_maglev_.insert(id);
  return warnings;
}

void LbReconciler::reserve(const LbFrontendKey& fe, uint16_t id) {
  if (id == 0) throw std::invalid_argument("service id 0 is not valid (1..65535)");
  auto owner = svc_owner_.find(id);
  if (owner != svc_owner_.end() && owner->second != fe)
    throw std::invalid_argument("service id " + std::to_string(id) + " is used by frontend " + owner->second.str());
  auto cur = svc_ids_.find(fe);
  if (cur != svc_ids_.end() && cur->second != id) {
    // The frontend moves to the requested id: its entries are rewritten.
    svc_owner_.erase(cur->second);
    if (auto a = applied_.find(fe); a != applied_.end()) a->second.dirty = true;
  }
  svc_ids_[fe] = id;
  svc_owner_[id] = fe;
}

void LbReconciler::release(const LbFrontendKey& fe) {
  auto it = svc_ids_.find(fe);
  if (it == svc_ids_.end()) return;
  svc_owner_.erase(it->second);
  svc_ids_.erase(it);
}

std::optional<LbFrontendKey> LbReconciler::id_owner(uint16_t id) const {
  auto it = svc_owner_.find(id);
  if (it == svc_owner_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint16_t> LbReconciler::service_id(const LbFrontendKey& fe) const {
  auto it = svc_ids_.find(fe);
  if (it == svc_ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> LbReconciler::backend_id(const service::L4Addr& be) const {
  auto it = be_ids_.find(be);
  if (it == be_ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint16_t> LbReconciler::svc_id_for(const LbFrontendKey& fe) {
  if (auto id = service_id(fe)) return id;
  if (svc_owner_.size() >= kMaxServiceId) return std::nullopt;
  // Ids grow from the highest in use and wrap: a freed id is not handed
  // out again at once (datapath state may still name it for a while).
  uint32_t start = svc_owner_.empty() ? 1 : svc_owner_.rbegin()->first + 1u;
  for (uint32_t i = 0; i < kMaxServiceId; ++i) {
    uint32_t id = (start - 1 + i) % kMaxServiceId + 1;
    if (svc_owner_.count(static_cast<uint16_t>(id))) continue;
    svc_ids_[fe] = static_cast<uint16_t>(id);
    svc_owner_[static_cast<uint16_t>(id)] = fe;
    return static_cast<uint16_t>(id);
  }
  return std::nullopt;
}

std::optional<uint32_t> LbReconciler::be_id_for(const service::L4Addr& be) {
  if (auto id = backend_id(be)) return id;
  uint32_t max = opts_.max_backends;
  if (be_owner_.size() >= max) return std::nullopt;  // full: fail fast, not a scan per backend
  uint32_t start = be_owner_.empty() ? 1 : be_owner_.rbegin()->first + 1u;
  for (uint32_t i = 0; i < max; ++i) {
    uint32_t id = (start - 1 + i) % max + 1;
    if (be_owner_.count(id) || applied_be_.count(id)) continue;
    be_ids_[be] = id;
    be_owner_[id] = be;
    fresh_.push_back(id);
    return id;
  }
  return std::nullopt;
}

void LbReconciler::program(const LbFrontendKey& fe, const service::Frontend& f, uint16_t id,
                           const std::vector<uint32_t>& active) {
  Applied& a = applied_[fe];
  Applied old = a;
  a.dirty = true;  // until every write below went through
  a.slots.clear();
  for (size_t i = 0; i < active.size(); ++i) {
    auto slot = static_cast<uint16_t>(i + 1);
    auto it = old.slots.find(slot);
    if (old.dirty || it == old.slots.end() || it->second != active[i]) maps_.put_slot(fe, slot, active[i]);
    a.slots[slot] = active[i];
  }
  bool maglev = opts_.maglev && !active.empty();
  if (maglev && (old.dirty || !old.maglev || old.maglev_of != active || old.entry.svc_id != id)) {
    std::vector<std::string> names;
    for (size_t i = 0; i < active.size(); ++i) names.push_back(maglev_name(f.backends[i].addr));
    auto idx = service::maglev_table(names, CPP_LB_MAGLEV_M);
    std::vector<uint32_t> table(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) table[i] = active[idx[i]];
    maps_.put_maglev(id, table);
  }
  LbServiceEntry e{id, static_cast<uint16_t>(active.size()), frontend_flags(f) | (maglev ? CPP_LB_F_MAGLEV : 0u),
                   f.affinity ? f.affinity_timeout_s : 0u};
  if (old.dirty || !old.has_entry || old.entry != e) maps_.put_service(fe, e);
  a.has_entry = true;
  a.entry = e;
  for (const auto& [slot, _] : old.slots)
    if (slot > active.size()) maps_.delete_slot(fe, slot);
  if (old.maglev && (!maglev || old.entry.svc_id != id)) {
    auto owner = svc_owner_.find(old.entry.svc_id);
    if (owner == svc_owner_.end() || owner->second == fe) maps_.delete_maglev(old.entry.svc_id);
  }
  a.maglev = maglev;
  a.maglev_of = maglev ? active : std::vector<uint32_t>{};
  a.dirty = false;
}

void LbReconciler::add_refs(const std::vector<std::pair<uint32_t, bool>>& listing) {
  for (const auto& [id, active] : listing) ++(active ? refs_[id].active : refs_[id].terminating);
}

void LbReconciler::drop_refs(const std::vector<std::pair<uint32_t, bool>>& listing) {
  for (const auto& [id, active] : listing) {
    auto it = refs_.find(id);
    if (it == refs_.end()) continue;
    --(active ? it->second.active : it->second.terminating);
    if (it->second.active <= 0 && it->second.terminating <= 0) {
      refs_.erase(it);
      gc_.insert(id);
    } else {
      refresh_backend(id);
    }
  }
}

void LbReconciler::refresh_backend(uint32_t id) {
  auto a = applied_be_.find(id);
  auto r = refs_.find(id);
  if (a == applied_be_.end() || r == refs_.end()) return;
  LbBackendEntry want = a->second;
  want.flags = r->second.active > 0 ? 0 : CPP_LB_BE_F_TERMINATING;
  if (want == a->second) return;
  maps_.put_backend(id, want);
  a->second = want;
}

void LbReconciler::release_id(const LbFrontendKey& fe) {
  auto it = svc_ids_.find(fe);
  if (it == svc_ids_.end()) return;
  svc_owner_.erase(it->second);
  svc_ids_.erase(it);
}

void LbReconciler::upsert(const LbFrontendKey& key, const service::Frontend& f) {
  auto cur = applied_.find(key);
  auto id = svc_id_for(key);
  if (!id) throw std::runtime_error("no free service id (1..65535)");
  if (cur != applied_.end() && !cur->second.dirty && cur->second.fe && *cur->second.fe == f &&
      cur->second.entry.svc_id == *id)
    return;

  // Backends this frontend lists, written (or their state updated) before
  // any slot names them. Old references still count until the slots moved,
  // so a backend going from active to terminating here changes state after.
  size_t n_active = f.active_count();
  std::vector<std::pair<uint32_t, bool>> listing;
  std::vector<uint32_t> active;
  for (size_t i = 0; i < f.backends.size(); ++i) {
    const auto& b = f.backends[i];
    auto bid = be_id_for(b.addr);
    if (!bid) throw std::runtime_error("no free backend id for " + b.addr.str() + " (bpf-lb-map-max)");
    bool is_active = i < n_active;
    listing.emplace_back(*bid, is_active);
    if (is_active) active.push_back(*bid);
  }
  for (const auto& [bid, is_active] : listing) {
    auto r = refs_.find(bid);
    bool any_active = is_active || (r != refs_.end() && r->second.active > 0);
    const auto& addr = be_owner_.at(bid);
    LbBackendEntry want{addr.addr, addr.port, static_cast<uint8_t>(addr.protocol),
                        static_cast<uint8_t>(any_active ? 0 : CPP_LB_BE_F_TERMINATING)};
    auto it = applied_be_.find(bid);
    if (it != applied_be_.end() && it->second == want) continue;
    if (it == applied_be_.end()) gc_.insert(bid);  // until a reference holds it
    maps_.put_backend(bid, want);
    applied_be_[bid] = want;
  }
  add_refs(listing);
  Applied& a = applied_[key];
  auto old_listing = a.listing;
  a.listing.insert(a.listing.end(), listing.begin(), listing.end());  // both held until the slots moved
  program(key, f, *id, active);
  a.listing = listing;
  a.fe = f;
  drop_refs(old_listing);
}

void LbReconciler::remove(const LbFrontendKey& fe) {
  auto it = applied_.find(fe);
  if (it == applied_.end()) {
    release_id(fe);
    return;
  }
  Applied& a = it->second;
  if (a.has_entry) maps_.delete_slot(fe, 0);
  a.has_entry = false;
  for (auto s = a.slots.begin(); s != a.slots.end();) {
    maps_.delete_slot(fe, s->first);
    s = a.slots.erase(s);
  }
  // The id may belong to another frontend by now (API services move ids).
  auto owner = svc_owner_.find(a.entry.svc_id);
  if (a.maglev && (owner == svc_owner_.end() || owner->second == fe)) maps_.delete_maglev(a.entry.svc_id);
  a.maglev = false;
  auto listing = std::move(a.listing);
  applied_.erase(it);
  release_id(fe);
  drop_refs(listing);
}

void LbReconciler::collect_garbage(std::vector<std::string>& errors) {
  for (auto it = gc_.begin(); it != gc_.end();) {
    uint32_t id = *it;
    if (refs_.count(id)) {
      it = gc_.erase(it);
      continue;
    }
    try {
      if (applied_be_.count(id)) maps_.delete_backend(id);
    } catch (const std::exception& e) {
      errors.push_back("remove backend " + std::to_string(id) + ": " + e.what());
      ++it;
      continue;
    }
    applied_be_.erase(id);
    if (auto o = be_owner_.find(id); o != be_owner_.end()) {
      if (auto i = be_ids_.find(o->second); i != be_ids_.end() && i->second == id) be_ids_.erase(i);
      be_owner_.erase(o);
    }
    it = gc_.erase(it);
  }
  for (auto s = stray_maglev_.begin(); s != stray_maglev_.end();) {
    try {
      if (!svc_owner_.count(*s)) maps_.delete_maglev(*s);
      s = stray_maglev_.erase(s);
    } catch (const std::exception& e) {
      errors.push_back("remove Maglev table " + std::to_string(*s) + ": " + e.what());
      ++s;
    }
  }
}

std::vector<std::string> LbReconciler::update(const std::vector<service::Frontend>& upserts,
                                              const std::vector<LbFrontendKey>& removals) {
  std::vector<std::string> errors;
  std::set<LbFrontendKey> seen;
  for (const auto& f : upserts) {
    auto key = frontend_key(f.addr, f.scope);
    if (!seen.insert(key).second) continue;
    try {
      upsert(key, f);
    } catch (const std::exception& e) {
      errors.push_back("frontend " + key.str() + ": " + e.what());
      if (auto a = applied_.find(key); a != applied_.end()) a->second.dirty = true;
    }
  }
  for (const auto& key : removals) {
    if (seen.count(key)) continue;
    try {
      remove(key);
    } catch (const std::exception& e) {
      errors.push_back("remove frontend " + key.str() + ": " + e.what());
      if (auto a = applied_.find(key); a != applied_.end()) a->second.dirty = true;
    }
  }
  // Reserved ids of frontends that were never programmed stay reserved;
  // backend ids handed out for writes that failed are released here.
  collect_garbage(errors);
  for (auto id : fresh_) {
    auto o = be_owner_.find(id);
    if (o == be_owner_.end() || refs_.count(id) || applied_be_.count(id)) continue;
    be_ids_.erase(o->second);
    be_owner_.erase(o);
  }
  fresh_.clear();
  return errors;
}

std::vector<std::string> LbReconciler::apply(const std::vector<service::Frontend>& want) {
  std::set<LbFrontendKey> wanted;
  for (const auto& f : want) wanted.insert(frontend_key(f.addr, f.scope));
  std::vector<LbFrontendKey> removals;
  for (const auto& [key, _] : applied_)
    if (!wanted.count(key)) removals.push_back(key);
  for (const auto& [key, _] : svc_ids_)
    if (!wanted.count(key) && !applied_.count(key)) removals.push_back(key);
  return update(want, removals);
}

std::vector<LbFrontendKey> LbReconciler::applied_keys() const {
  std::vector<LbFrontendKey> out;
  for (const auto& [key, _] : applied_) out.push_back(key);
  return out;
}

}  // namespace cpp::agent

#include "agent/ipcache_owners.h"

#include <cstring>
#include <stdexcept>

namespace cpp::agent {
namespace {

bool is_local(IpcacheSource s) { return s == IpcacheSource::Endpoint || s == IpcacheSource::Host; }

}  // namespace

cpp_ipcache_value IpcacheEntry::value() const {
  cpp_ipcache_value v{};
  v.sec_identity = identity;
  if (tunnel) {
    if (tunnel->v6) throw std::invalid_argument("tunnel endpoint " + tunnel->str() + " is not an IPv4 address");
    std::memcpy(&v.tunnel_endpoint, tunnel->bytes.data(), 4);  // network order
  }
  return v;
}

std::optional<IpcacheEntry> IpcacheOwners::current(const IpPrefix& key) const {
  auto it = claims_.find(key);
  if (it == claims_.end() || it->second.empty()) return std::nullopt;
  const auto& [top_src, top] = *it->second.rbegin();
  IpcacheEntry e{top.identity, std::nullopt};
  if (is_local(top_src)) return e;
  for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) {
    if (c->second.tunnel) {
      e.tunnel = c->second.tunnel;
      break;
    }
  }
  return e;
}

std::optional<uint32_t> IpcacheOwners::winner(const IpPrefix& key) const {
  auto e = current(key);
  if (!e) return std::nullopt;
  return e->identity;
}

std::optional<IpcacheEntry> IpcacheOwners::set(const IpPrefix& key, IpcacheSource src, const IpcacheClaim& claim) {
  auto before = current(key);
  claims_[key][src] = claim;
  auto after = current(key);
  if (before == after) return std::nullopt;
  return after;
}

IpcacheOwners::Removal IpcacheOwners::remove(const IpPrefix& key, IpcacheSource src) {
  auto it = claims_.find(key);
  if (it == claims_.end() || !it->second.count(src)) return {};
  auto before = current(key);
  it->second.erase(src);
  if (it->second.empty()) claims_.erase(it);
  auto after = current(key);
  if (before == after) return {};
  return {true, after};
}

void IpcacheWriter::write(const IpPrefix& key, const std::optional<IpcacheEntry>& e) {
  if (e)
    map_.upsert(key, e->value());
  else
    map_.remove(key);
}

void IpcacheWriter::claim(const IpPrefix& key, IpcacheSource src, const IpcacheClaim& claim) {
  if (claim.tunnel && claim.tunnel->v6)
    throw std::invalid_argument(key.str() + ": tunnel endpoint " + claim.tunnel->str() + " is not an IPv4 address");
  std::lock_guard lock(mu_);
  if (auto e = owners_.set(key, src, claim)) write(key, e);
}

void IpcacheWriter::release(const IpPrefix& key, IpcacheSource src) {
  std::lock_guard lock(mu_);
  auto r = owners_.remove(key, src);
  if (r.changed) write(key, r.entry);
}

std::optional<IpcacheEntry> IpcacheWriter::current(const IpPrefix& key) const {
  std::lock_guard lock(mu_);
  return owners_.current(key);
}

}  // namespace cpp::agent

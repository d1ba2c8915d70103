#include "datapath/lb_map.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace cpp::datapath {
namespace {

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
}

void put_addr(cpp_addr& dst, uint8_t& family, const IpAddr& a) {
  std::memset(&dst, 0, sizeof(dst));
  std::memcpy(dst.ip6, a.bytes.data(), a.v6 ? 16 : 4);
  family = a.v6 ? CPP_FAMILY_IPV6 : CPP_FAMILY_IPV4;
}

IpAddr get_addr(const cpp_addr& src, uint8_t family) {
  if (family != CPP_FAMILY_IPV4 && family != CPP_FAMILY_IPV6)
    throw std::runtime_error("LB map entry with unknown address family " + std::to_string(family));
  IpAddr a;
  a.v6 = family == CPP_FAMILY_IPV6;
  std::memcpy(a.bytes.data(), src.ip6, a.v6 ? 16 : 4);
  return a;
}

std::string proto_str(uint8_t p) {
  switch (p) {
    case IPPROTO_TCP: return "TCP";
    case IPPROTO_UDP: return "UDP";
    case IPPROTO_SCTP: return "SCTP";
    default: return std::to_string(p);
  }
}

std::string l4_str(const IpAddr& a, uint16_t port, uint8_t proto) {
  return (a.v6 ? "[" + a.str() + "]" : a.str()) + ":" + std::to_string(port) + "/" + proto_str(proto);
}

}  // namespace

std::string LbFrontendKey::str() const {
  return l4_str(addr, port, proto) + (scope == CPP_LB_SCOPE_EXT ? " (e)" : " (i)");
}

cpp_lb_key lb_key(const LbFrontendKey& fe, uint16_t slot) {
  cpp_lb_key k;
  std::memset(&k, 0, sizeof(k));  // padding is hashed
  put_addr(k.addr, k.family, fe.addr);
  k.dport = htons(fe.port);
  k.slot = slot;
  k.proto = fe.proto;
  k.scope = fe.scope;
  return k;
}

LbFrontendKey lb_key_frontend(const cpp_lb_key& k) {
  return {get_addr(k.addr, k.family), ntohs(k.dport), k.proto, k.scope};
}

cpp_lb_backend lb_backend(const LbBackendEntry& b) {
  cpp_lb_backend v;
  std::memset(&v, 0, sizeof(v));
  put_addr(v.addr, v.family, b.addr);
  v.port = htons(b.port);
  v.proto = b.proto;
  v.flags = b.flags;
  return v;
}

LbBackendEntry lb_backend_entry(const cpp_lb_backend& v) {
  return {get_addr(v.addr, v.family), ntohs(v.port), v.proto, v.flags};
}

BpfLbMaps::BpfLbMaps(const std::string& pin_dir)
    : svc_(pin_dir + "/" CPP_MAP_LB_SVC, sizeof(cpp_lb_key), sizeof(cpp_lb_svc_value)),
      be_(pin_dir + "/" CPP_MAP_LB_BACKENDS, sizeof(__u32), sizeof(cpp_lb_backend)),
      maglev_path_(pin_dir + "/" CPP_MAP_LB_MAGLEV) {
  maglev_fd_ = bpf_obj_get(maglev_path_.c_str());
  if (maglev_fd_ < 0) fail("open pinned map " + maglev_path_, errno);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (int err = bpf_obj_get_info_by_fd(maglev_fd_, &info, &len)) {
    ::close(maglev_fd_);
    fail("query map " + maglev_path_, err);
  }
  // The service id is a __u16 in abi.h; a __u32 key holds it just as well.
  if (info.type != BPF_MAP_TYPE_HASH_OF_MAPS || (info.key_size != 2 && info.key_size != 4)) {
    ::close(maglev_fd_);
    throw std::runtime_error("pinned map " + maglev_path_ + " is not a hash of maps keyed by service id (ABI mismatch)");
  }
  maglev_key_size_ = info.key_size;
}

BpfLbMaps::~BpfLbMaps() {
  if (maglev_fd_ >= 0) ::close(maglev_fd_);
}

void BpfLbMaps::put_backend(uint32_t id, const LbBackendEntry& b) {
  auto v = lb_backend(b);
  be_.update(&id, &v);
}

void BpfLbMaps::delete_backend(uint32_t id) { be_.remove(&id); }

void BpfLbMaps::put_service(const LbFrontendKey& fe, const LbServiceEntry& e) {
  auto k = lb_key(fe, 0);
  cpp_lb_svc_value v{};
  v.count = e.count;
  v.svc_id = e.svc_id;
  v.flags = e.flags;
  v.affinity_timeout = e.affinity_timeout;
  svc_.update(&k, &v);
}

void BpfLbMaps::put_slot(const LbFrontendKey& fe, uint16_t slot, uint32_t backend_id) {
  auto k = lb_key(fe, slot);
  cpp_lb_svc_value v{};
  v.backend_id = backend_id;
  svc_.update(&k, &v);
}

void BpfLbMaps::delete_slot(const LbFrontendKey& fe, uint16_t slot) {
  auto k = lb_key(fe, slot);
  svc_.remove(&k);
}

std::vector<uint8_t> BpfLbMaps::maglev_key(uint16_t svc_id) const {
  std::vector<uint8_t> k(maglev_key_size_, 0);
  if (maglev_key_size_ == 2) {
    std::memcpy(k.data(), &svc_id, 2);
  } else {
    uint32_t v = svc_id;
    std::memcpy(k.data(), &v, 4);
  }
  return k;
}

void BpfLbMaps::put_maglev(uint16_t svc_id, const std::vector<uint32_t>& table) {
  if (table.size() != CPP_LB_MAGLEV_M)
    throw std::invalid_argument("Maglev table of service " + std::to_string(svc_id) + " has " +
                                std::to_string(table.size()) + " entries, expected " +
                                std::to_string(CPP_LB_MAGLEV_M));
  // A fresh inner map per update: swapping the outer entry is atomic for
  // readers, rewriting 64 KiB in place would not be.
  int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cpp_lb_mgl_in", sizeof(__u32),
                             sizeof(__u32) * CPP_LB_MAGLEV_M, 1, nullptr);
  if (inner < 0) fail("create Maglev table of service " + std::to_string(svc_id), errno);
  __u32 zero = 0;
  int err = bpf_map_update_elem(inner, &zero, table.data(), BPF_ANY);
  if (!err) {
    auto k = maglev_key(svc_id);
    __u32 fd = static_cast<__u32>(inner);
    err = bpf_map_update_elem(maglev_fd_, k.data(), &fd, BPF_ANY);
  }
  ::close(inner);  // the outer map holds the reference
  if (err) fail("install Maglev table of service " + std::to_string(svc_id) + " in " + maglev_path_, err);
}

void BpfLbMaps::delete_maglev(uint16_t svc_id) {
  auto k = maglev_key(svc_id);
  int err = bpf_map_delete_elem(maglev_fd_, k.data());
  if (err && err != -ENOENT) fail("delete Maglev table of service " + std::to_string(svc_id), err);
}

std::vector<uint32_t> BpfLbMaps::maglev_table(uint16_t svc_id) const {
  auto k = maglev_key(svc_id);
  __u32 inner_id = 0;
  if (bpf_map_lookup_elem(maglev_fd_, k.data(), &inner_id)) return {};
  int inner = bpf_map_get_fd_by_id(inner_id);
  if (inner < 0) return {};
  std::vector<uint32_t> table(CPP_LB_MAGLEV_M);
  __u32 zero = 0;
  int err = bpf_map_lookup_elem(inner, &zero, table.data());
  ::close(inner);
  if (err) return {};
  return table;
}

LbSnapshot BpfLbMaps::read() const {
  LbSnapshot s;
  svc_.for_each([&](const void* kp, const void* vp) {
    const auto& k = *static_cast<const cpp_lb_key*>(kp);
    const auto& v = *static_cast<const cpp_lb_svc_value*>(vp);
    auto fe = lb_key_frontend(k);
    if (k.slot == 0)
      s.services[fe] = {v.svc_id, v.count, v.flags, v.affinity_timeout};
    else
      s.slots[fe][k.slot] = v.backend_id;
  });
  be_.for_each([&](const void* kp, const void* vp) {
    s.backends[*static_cast<const __u32*>(kp)] = lb_backend_entry(*static_cast<const cpp_lb_backend*>(vp));
  });
  std::vector<uint8_t> key(maglev_key_size_), next(maglev_key_size_);
  const void* prev = nullptr;
  while (bpf_map_get_next_key(maglev_fd_, prev, next.data()) == 0) {
    key.swap(next);
    prev = key.data();
    uint32_t id = 0;
    std::memcpy(&id, key.data(), maglev_key_size_);  // little-endian host
    s.maglev[static_cast<uint16_t>(id)] = true;
  }
  return s;
}

bool lb_maps_exist(const std::string& pin_dir) {
  struct stat st{};
  return ::stat((pin_dir + "/" CPP_MAP_LB_SVC).c_str(), &st) == 0;
}

std::vector<std::string> lb_flag_names(uint32_t f) {
  std::vector<std::string> out;
  const std::pair<uint32_t, const char*> names[] = {
      {CPP_LB_F_CLUSTERIP, "ClusterIP"},    {CPP_LB_F_NODEPORT, "NodePort"},
      {CPP_LB_F_EXTERNAL_IP, "ExternalIPs"}, {CPP_LB_F_LOADBALANCER, "LoadBalancer"},
      {CPP_LB_F_AFFINITY, "sessionAffinity"}, {CPP_LB_F_MAGLEV, "Maglev"},
      {CPP_LB_F_LOCAL, "Local"}};
  for (const auto& [bit, name] : names)
    if (f & bit) out.push_back(name);
  return out;
}

nlohmann::json lb_snapshot_to_json(const LbSnapshot& s) {
  auto out = nlohmann::json::array();
  for (const auto& [fe, e] : s.services) {
    out.push_back({{"service", l4_str(fe.addr, fe.port, fe.proto)},
                   {"scope", fe.scope == CPP_LB_SCOPE_EXT ? "e" : "i"},
                   {"slot", 0},
                   {"backend", fe.addr.v6 ? "[::]:0" : "0.0.0.0:0"},
                   {"backend_id", 0},
                   {"svc_id", e.svc_id},
                   {"count", e.count},
                   {"flags", lb_flag_names(e.flags)},
                   {"maglev", s.maglev.count(e.svc_id) > 0},
                   {"affinity_timeout", e.affinity_timeout}});
    auto it = s.slots.find(fe);
    if (it == s.slots.end()) continue;
    for (const auto& [slot, id] : it->second) {
      auto b = s.backends.find(id);
      out.push_back({{"service", l4_str(fe.addr, fe.port, fe.proto)},
                     {"scope", fe.scope == CPP_LB_SCOPE_EXT ? "e" : "i"},
                     {"slot", slot},
                     {"backend", b == s.backends.end() ? "(missing)" : l4_str(b->second.addr, b->second.port, b->second.proto)},
                     {"backend_id", id},
                     {"svc_id", e.svc_id}});
    }
  }
  return out;
}

std::string lb_snapshot_to_text(const LbSnapshot& s) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& e : lb_snapshot_to_json(s)) {
    std::string svc = e["service"].get<std::string>() + " (" + e["scope"].get<std::string>() + ")";
    std::ostringstream be;
    be << e["backend"].get<std::string>() << " (" << e["svc_id"] << ") (" << e["slot"] << ")";
    if (e["slot"] == 0) {
      std::string f;
      for (const auto& n : e["flags"]) f += (f.empty() ? "" : ", ") + n.get<std::string>();
      be << " [" << f << "] count=" << e["count"];
    }
    rows.emplace_back(svc, be.str());
  }
  size_t w = std::string("SERVICE ADDRESS").size();
  for (const auto& r : rows) w = std::max(w, r.first.size());
  std::ostringstream out;
  out << "SERVICE ADDRESS" << std::string(w - 15 + 2, ' ') << "BACKEND ADDRESS (REVNAT_ID) (SLOT)\n";
  for (const auto& [a, b] : rows) out << a << std::string(w - a.size() + 2, ' ') << b << "\n";
  return out.str();
}

}  // namespace cpp::datapath

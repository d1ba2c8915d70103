#pragma once
// For the service tests: opening objects on a pin directory, raw writers
// for the service maps (written the way the agent must write them: slots
// before the service entry) and lib/lb.h's Maglev hash, written again from
// its description.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/ip.h"
#include "ciliumpp/abi.h"

namespace cpp::bpftest {

// libbpf's warnings (a verifier log when a load fails) on stderr.
inline int libbpf_to_stderr(enum libbpf_print_level level, const char* fmt, va_list args) {
  return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

inline bpf_object_open_opts pin_opts(const std::string& pin_dir) {
  libbpf_set_print(libbpf_to_stderr);
  bpf_object_open_opts o{};
  o.sz = sizeof(o);
  o.pin_root_path = pin_dir.c_str();
  return o;
}

// ---- service maps ----------------------------------------------------------

class PinnedFd {
 public:
  explicit PinnedFd(const std::string& path) : fd_(bpf_obj_get(path.c_str())) {
    if (fd_ < 0) throw std::runtime_error("bpf_obj_get " + path + ": " + std::strerror(errno));
  }
  ~PinnedFd() { ::close(fd_); }
  PinnedFd(const PinnedFd&) = delete;
  PinnedFd& operator=(const PinnedFd&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

inline uint8_t family_of(const IpAddr& a) { return a.v6 ? CPP_FAMILY_IPV6 : CPP_FAMILY_IPV4; }

inline cpp_addr to_cpp_addr(const IpAddr& a) {
  cpp_addr c{};
  std::memcpy(c.ip6, a.bytes.data(), a.v6 ? 16 : 4);
  return c;
}

inline uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct Frontend {
  IpAddr addr;
  uint16_t port;  // host order
  uint8_t proto;
  uint8_t scope = CPP_LB_SCOPE_INT;
};

class LbMaps {
 public:
  explicit LbMaps(const std::string& pin_dir)
      : svc_(pin_dir + "/cpp_lb_svc"), be_(pin_dir + "/cpp_lb_be"),
        maglev_(pin_dir + "/cpp_lb_maglev"), ct4_(pin_dir + "/cpp_lb_ct4"),
        ct6_(pin_dir + "/cpp_lb_ct6") {}

  void backend(uint32_t id, const IpAddr& a, uint16_t port, uint8_t proto, uint8_t flags = 0) {
    cpp_lb_backend b{};
    b.addr = to_cpp_addr(a);
    b.port = htons(port);
    b.proto = proto;
    b.flags = flags;
    b.family = family_of(a);
    update(be_.fd(), &id, &b);
  }
  void remove_backend(uint32_t id) { bpf_map_delete_elem(be_.fd(), &id); }

  static cpp_lb_key key(const Frontend& f, uint16_t slot) {
    cpp_lb_key k{};
    k.addr = to_cpp_addr(f.addr);
    k.dport = htons(f.port);
    k.slot = slot;
    k.proto = f.proto;
    k.scope = f.scope;
    k.family = family_of(f.addr);
    return k;
  }

  // Slots first, then the service entry, then stale slots removed: the
  // order the ABI asks of the agent.
  void service(const Frontend& f, uint16_t svc_id, const std::vector<uint32_t>& backends,
               uint32_t flags = CPP_LB_F_CLUSTERIP, uint32_t affinity_timeout = 0) {
    for (size_t i = 0; i < backends.size(); ++i) {
      auto k = key(f, static_cast<uint16_t>(i + 1));
      cpp_lb_svc_value v{};
      v.backend_id = backends[i];
      update(svc_.fd(), &k, &v);
    }
    auto k0 = key(f, 0);
    cpp_lb_svc_value v0{};
    v0.count = static_cast<uint16_t>(backends.size());
    v0.svc_id = svc_id;
    v0.flags = flags;
    v0.affinity_timeout = affinity_timeout;
    update(svc_.fd(), &k0, &v0);
    for (uint16_t s = static_cast<uint16_t>(backends.size() + 1); s < 64; ++s) {
      auto k = key(f, s);
      bpf_map_delete_elem(svc_.fd(), &k);
    }
  }

  // A Maglev table (CPP_LB_MAGLEV_M backend ids) for service svc_id.
  void maglev(uint16_t svc_id, const std::vector<uint32_t>& table) {
    if (table.size() != CPP_LB_MAGLEV_M) throw std::invalid_argument("maglev table size");
    int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cpp_lb_mg_inner", 4,
                               static_cast<uint32_t>(table.size() * 4), 1, nullptr);
    if (inner < 0) throw std::runtime_error("maglev inner map: " + std::string(std::strerror(errno)));
    uint32_t zero = 0;
    update(inner, &zero, table.data());
    uint32_t fd = static_cast<uint32_t>(inner);
    update(maglev_.fd(), &svc_id, &fd);
    ::close(inner);  // the outer map holds it
  }

  // A REV entry as bpf_netdev writes it for an external request.
  void rev4(const IpAddr& backend, uint16_t bport, const IpAddr& client, uint16_t cport,
            uint8_t proto, const IpAddr& fe, uint16_t fport, uint32_t flags, uint32_t ifindex) {
    cpp_ct_key4 k{};
    std::memcpy(&k.saddr, backend.bytes.data(), 4);
    std::memcpy(&k.daddr, client.bytes.data(), 4);
    k.sport = htons(bport);
    k.dport = htons(cport);
    k.nexthdr = proto;
    k.dir = CPP_LB_CT_REV;
    cpp_lb_ct_value v{};
    v.expires_ns = monotonic_ns() + 3600ull * 1000000000ull;
    v.addr = to_cpp_addr(fe);
    v.port = htons(fport);
    v.flags = flags;
    v.ifindex = ifindex;
    update(ct4_.fd(), &k, &v);
  }

  int ct4_fd() const { return ct4_.fd(); }
  int ct6_fd() const { return ct6_.fd(); }

 private:
  static void update(int fd, const void* k, const void* v) {
    if (bpf_map_update_elem(fd, k, v, BPF_ANY) != 0)
      throw std::runtime_error("map update: " + std::string(std::strerror(errno)));
  }
  PinnedFd svc_, be_, maglev_, ct4_, ct6_;
};

// The hash lib/lb.h gives Maglev, written again from its description
// (MurmurHash3 mixing over the tuple as it lies in memory).
inline uint32_t lb_rotl(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }
inline uint32_t lb_mix(uint32_t h, uint32_t k) {
  k *= 0xcc9e2d51u;
  k = lb_rotl(k, 15);
  k *= 0x1b873593u;
  h ^= k;
  h = lb_rotl(h, 13);
  return h * 5 + 0xe6546b64u;
}
inline uint32_t lb_final(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}
inline uint32_t lb_fold(const IpAddr& a) {
  uint32_t w[4] = {};
  std::memcpy(w, a.bytes.data(), a.v6 ? 16 : 4);
  return w[0] ^ w[1] ^ w[2] ^ w[3];
}
inline uint32_t lb_tuple_hash(const IpAddr& s, const IpAddr& d, uint16_t sport, uint16_t dport,
                              uint8_t proto) {
  uint32_t h = 0x5eed1b5u;
  h = lb_mix(h, lb_fold(s));
  h = lb_mix(h, lb_fold(d));
  h = lb_mix(h, (static_cast<uint32_t>(htons(sport)) << 16) | htons(dport));
  h = lb_mix(h, proto);
  return lb_final(h);
}

}  // namespace cpp::bpftest

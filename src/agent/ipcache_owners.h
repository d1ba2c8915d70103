#pragma once
#include <cstdint>
#include <map>
#include <optional>

#include "common/ip.h"

namespace cpp::agent {

// Who put an address or prefix into the ipcache; a higher source wins when
// several claim the same key (an exact CIDR rule for a pod's address must not
// relabel the pod, and must not take the pod's entry with it when the rule
// goes away).
enum class IpcacheSource { Cidr = 0, Host = 1, Endpoint = 2 };

// The desired ipcache: per key, every claim; the winning claim is what the
// map holds. Pure bookkeeping: callers write what set()/remove() return.
class IpcacheOwners {
 public:
  // The identity the key must now map to (the winner), or nullopt if the
  // key's winner did not change.
  std::optional<uint32_t> set(const IpPrefix& key, IpcacheSource src, uint32_t identity);
  struct Removal {
    bool changed = false;
    std::optional<uint32_t> identity;  // new winner; nullopt = delete the key
  };
  Removal remove(const IpPrefix& key, IpcacheSource src);
  std::optional<uint32_t> winner(const IpPrefix& key) const;

 private:
  std::map<IpPrefix, std::map<IpcacheSource, uint32_t>> claims_;
};

}  // namespace cpp::agent

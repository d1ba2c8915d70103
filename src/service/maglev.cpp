// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
// Software Network Load Balancer", NSDI 2016, section 3.4).
#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "service/model.h"

namespace cpp::service {

uint64_t stable_hash(const std::string& data, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);  // FNV-1a offset basis, salted
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  // FNV's low bits mix poorly; a 64-bit finalizer (MurmurHash3 fmix64) spreads every input bit.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

namespace {

bool is_prime(uint32_t m) {
  if (m < 2) return false;
  for (uint64_t d = 2; d * d <= m; ++d)
    if (m % d == 0) return false;
  return true;
}

constexpr uint64_t kOffsetSeed = 0x6f6666736574;  // "offset"
constexpr uint64_t kSkipSeed = 0x736b6970;        // "skip"

}  // namespace

std::vector<uint32_t> maglev_table(const std::vector<std::string>& backends, uint32_t m) {
  if (!is_prime(m)) throw std::invalid_argument("maglev table size " + std::to_string(m) + " is not a prime");
  if (backends.size() > m)
    throw std::invalid_argument("maglev: " + std::to_string(backends.size()) + " backends exceed table size " +
                                std::to_string(m));
  if (backends.empty()) return {};
  // Fill in name order so the table does not depend on the caller's order.
  std::vector<uint32_t> by_name(backends.size());
  std::iota(by_name.begin(), by_name.end(), 0);
  std::sort(by_name.begin(), by_name.end(), [&](uint32_t a, uint32_t b) { return backends[a] < backends[b]; });
  for (size_t i = 1; i < by_name.size(); ++i)
    if (backends[by_name[i]] == backends[by_name[i - 1]])
      throw std::invalid_argument("maglev: duplicate backend \"" + backends[by_name[i]] + "\"");

  size_t n = by_name.size();
  std::vector<uint64_t> offset(n), skip(n), next(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const std::string& name = backends[by_name[i]];
    offset[i] = stable_hash(name, kOffsetSeed) % m;
    skip[i] = stable_hash(name, kSkipSeed) % (m - 1) + 1;
  }
  constexpr uint32_t kEmpty = UINT32_MAX;
  std::vector<uint32_t> table(m, kEmpty);
  uint32_t filled = 0;
  // Backends take turns claiming their next preferred free slot: each ends
  // up with m/n or m/n+1 entries.
  while (true) {
    for (size_t i = 0; i < n; ++i) {
      uint64_t c = (offset[i] + next[i] * skip[i]) % m;
      while (table[c] != kEmpty) {
        ++next[i];
        c = (offset[i] + next[i] * skip[i]) % m;
      }
      table[c] = by_name[i];
      ++next[i];
      if (++filled == m) return table;
    }
  }
}

uint32_t maglev_pick(const std::vector<uint32_t>& table, uint64_t flow_hash) {
  if (table.empty()) throw std::invalid_argument("maglev: empty table");
  return table[flow_hash % table.size()];
}

}  // namespace cpp::service

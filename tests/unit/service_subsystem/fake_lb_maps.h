#pragma once
// An in-memory LbMaps that records every write in order and checks the
// invariants a datapath reader relies on after each one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "datapath/lb_map.h"

namespace cpp::agent::testing {

class FakeLbMaps : public datapath::LbMaps {
 public:
  void put_backend(uint32_t id, const datapath::LbBackendEntry& b) override {
    log.push_back("be+" + std::to_string(id));
    s.backends[id] = b;
  }
  void delete_backend(uint32_t id) override {
    log.push_back("be-" + std::to_string(id));
    // No slot may still name it.
    for (const auto& [fe, slots] : s.slots)
      for (const auto& [slot, be] : slots)
        if (be == id) ADD_FAILURE() << "backend " << id << " deleted while slot " << slot << " of " << fe.str() << " names it";
    s.backends.erase(id);
  }
  void put_service(const datapath::LbFrontendKey& fe, const datapath::LbServiceEntry& e) override {
    log.push_back("svc+" + fe.str());
    // Every slot 1..count exists and names an existing backend.
    for (uint16_t i = 1; i <= e.count; ++i) {
      auto it = s.slots[fe].find(i);
      if (it == s.slots[fe].end())
        ADD_FAILURE() << fe.str() << ": count " << e.count << " written before slot " << i;
      else if (!s.backends.count(it->second))
        ADD_FAILURE() << fe.str() << ": slot " << i << " names missing backend " << it->second;
    }
    if ((e.flags & CPP_LB_F_MAGLEV) && !maglev.count(e.svc_id))
      ADD_FAILURE() << fe.str() << ": Maglev flag before its table";
    s.services[fe] = e;
  }
  void put_slot(const datapath::LbFrontendKey& fe, uint16_t slot, uint32_t id) override {
    log.push_back("slot+" + fe.str() + "#" + std::to_string(slot));
    if (!s.backends.count(id)) ADD_FAILURE() << "slot names missing backend " << id;
    s.slots[fe][slot] = id;
  }
  void delete_slot(const datapath::LbFrontendKey& fe, uint16_t slot) override {
    log.push_back("slot-" + fe.str() + "#" + std::to_string(slot));
    if (slot == 0) {
      s.services.erase(fe);
      return;
    }
    auto it = s.services.find(fe);
    if (it != s.services.end() && slot <= it->second.count)
      ADD_FAILURE() << fe.str() << ": slot " << slot << " deleted while count is " << it->second.count;
    s.slots[fe].erase(slot);
    if (s.slots[fe].empty()) s.slots.erase(fe);
  }
  void put_maglev(uint16_t id, const std::vector<uint32_t>& table) override {
    log.push_back("maglev+" + std::to_string(id));
    EXPECT_EQ(table.size(), size_t{CPP_LB_MAGLEV_M});
    maglev[id] = table;
    s.maglev[id] = true;
  }
  void delete_maglev(uint16_t id) override {
    log.push_back("maglev-" + std::to_string(id));
    maglev.erase(id);
    s.maglev.erase(id);
  }
  datapath::LbSnapshot read() const override { return s; }

  datapath::LbSnapshot s;
  std::map<uint16_t, std::vector<uint32_t>> maglev;
  std::vector<std::string> log;
};

}  // namespace cpp::agent::testing

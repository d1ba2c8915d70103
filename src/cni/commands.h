#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "cni/netconf.h"

namespace cpp::cni {

// Each returns the JSON to print on stdout (null for DEL/CHECK/STATUS, which
// print nothing on success) or throws CniError.
nlohmann::json cmd_add(const NetConf& conf, const Invocation& inv);
void cmd_del(const NetConf& conf, const Invocation& inv);
void cmd_check(const NetConf& conf, const Invocation& inv);
nlohmann::json cmd_version();
void cmd_gc(const NetConf& conf);
void cmd_status(const NetConf& conf);

}  // namespace cpp::cni

#include "datapath/libbpf_log.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

namespace cpp::datapath {
namespace {

// Kernel extack messages libbpf prints as warnings for outcomes we expect
// and handle: the clsact qdisc already exists (EEXIST on every attach after
// the first), or there is no filter to detach/query (ENOENT).
bool expected_noise(const std::string& msg) {
  return msg.find("Exclusivity flag on, cannot modify") != std::string::npos ||
         msg.find("Cannot find specified filter chain") != std::string::npos;
}

int print(enum libbpf_print_level level, const char* fmt, va_list args) {
  auto lvl = level == LIBBPF_WARN   ? spdlog::level::warn
             : level == LIBBPF_INFO ? spdlog::level::debug
                                    : spdlog::level::trace;
  if (!spdlog::should_log(std::min(lvl, spdlog::level::debug))) return 0;
  char buf[4096];
  int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  std::string msg(buf, n < 0 ? 0 : std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  if (lvl == spdlog::level::warn && expected_noise(msg)) lvl = spdlog::level::debug;
  // libbpf's messages already start with "libbpf: ".
  spdlog::log(lvl, "{}", msg);
  return n;
}

}  // namespace

void route_libbpf_logs() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(print); });
}

}  // namespace cpp::datapath

#pragma once
// Process metrics read from /proc/self at scrape time, named as upstream's
// Go process collector names them under a namespace: "<ns>_process_cpu_seconds_total",
// "_resident_memory_bytes", "_virtual_memory_bytes", "_start_time_seconds",
// "_open_fds", "_max_fds" (agent: ns "cilium", operator: "cilium_operator").
#include <string>

#include "metrics/registry.h"

namespace cpp::metrics {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // UNIX time
  double open_fds = 0;
  double max_fds = 0;
};

// Parses /proc/<pid>/stat text (fields after the parenthesised command,
// which may itself hold spaces and parentheses). Throws std::runtime_error.
ProcessStats parse_proc_stat(const std::string& stat, long ticks_per_second, long page_size, double boot_time);
// The calling process, from /proc/self.
ProcessStats read_self();

void add_process_collector(Registry& registry, const std::string& ns);

}  // namespace cpp::metrics

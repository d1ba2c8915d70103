#include "metrics/process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace cpp::metrics {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double boot_time() {
  std::istringstream in(slurp("/proc/stat"));
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  throw std::runtime_error("/proc/stat has no btime line");
}

}  // namespace

ProcessStats parse_proc_stat(const std::string& stat, long ticks_per_second, long page_size, double boot) {
  // The command name is parenthesised and may contain anything: the
  // fields start after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("/proc stat: no command field");
  std::istringstream in(stat.substr(close + 1));
  std::vector<std::string> f;
  for (std::string t; in >> t;) f.push_back(t);
  // f[0] is field 3 (state) of proc(5).
  constexpr size_t kUtime = 11, kStime = 12, kStart = 19, kVsize = 20, kRss = 21;
  if (f.size() <= kRss) throw std::runtime_error("/proc stat: " + std::to_string(f.size() + 2) + " fields, need 24");
  auto num = [&](size_t i) {
    try {
      return std::stod(f[i]);
    } catch (const std::exception&) {
      throw std::runtime_error("/proc stat: field " + std::to_string(i + 3) + " '" + f[i] + "' is not a number");
    }
  };
  ProcessStats s;
  auto tps = static_cast<double>(ticks_per_second);
  s.cpu_seconds = (num(kUtime) + num(kStime)) / tps;
  s.start_time_seconds = boot + num(kStart) / tps;
  s.virtual_bytes = num(kVsize);
  s.resident_bytes = num(kRss) * static_cast<double>(page_size);
  return s;
}

ProcessStats read_self() {
  auto s = parse_proc_stat(slurp("/proc/self/stat"), ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE), boot_time());
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec))
    s.open_fds += 1;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) s.max_fds = static_cast<double>(rl.rlim_cur);
  return s;
}

void add_process_collector(Registry& registry, const std::string& ns) {
  registry.add_collector([ns] {
    auto s = read_self();
    auto one = [&](const char* name, const char* help, Type t, double v) {
      return FamilySnapshot{ns + "_process_" + name, help, t, {Sample{{}, v, ""}}};
    };
    return std::vector<FamilySnapshot>{
        one("cpu_seconds_total", "Total user and system CPU time spent in seconds.", Type::Counter, s.cpu_seconds),
        one("resident_memory_bytes", "Resident memory size in bytes.", Type::Gauge, s.resident_bytes),
        one("virtual_memory_bytes", "Virtual memory size in bytes.", Type::Gauge, s.virtual_bytes),
        one("start_time_seconds", "Start time of the process since unix epoch in seconds.", Type::Gauge,
            s.start_time_seconds),
        one("open_fds", "Number of open file descriptors.", Type::Gauge, s.open_fds),
        one("max_fds", "Maximum number of open file descriptors.", Type::Gauge, s.max_fds),
    };
  });
}

}  // namespace cpp::metrics

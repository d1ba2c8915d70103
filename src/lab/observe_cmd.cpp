// cilium-lab observe: one view of the whole lab's flows. Runs `hubble
// observe` against every node's observer socket (the same query on each),
// merges the answers by time, and prints them as JSON lines or, for other
// output formats, hands the merged stream to `hubble observe --input-file -`
// so the lab prints exactly what hubble prints.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/lab.h"
#include "lab/proc.h"
#include "lab/state.h"

namespace cpp::lab {
namespace {

// "2026-11-26T22:01:02.5Z" -> (seconds since the date's midnight-ish key, nanos):
// protobuf's JSON timestamps vary in fractional digits, so compare by value.
std::tuple<std::string, long> time_key(const std::string& t) {
  auto dot = t.find('.');
  auto z = t.find('Z');
  if (dot == std::string::npos || z == std::string::npos || z < dot) return {t.substr(0, z), 0};
  std::string frac = t.substr(dot + 1, z - dot - 1);
  frac.resize(9, '0');
  return {t.substr(0, dot), std::atol(frac.c_str())};
}

}  // namespace

int cmd_observe(const std::string& name, const std::string& output, const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "-f" || a == "--follow")
      throw std::invalid_argument("observe merges finished queries and cannot follow; use `hubble observe --follow "
                                  "--server unix://<node's hubble_socket>` per node");
  LabState lab = load_lab(name);
  std::string hubble = lab.bin_dir + "/hubble";
  std::vector<std::pair<std::tuple<std::string, long>, std::string>> lines;
  int failures = 0;
  for (const auto& n : lab.nodes) {
    std::vector<std::string> argv{hubble, "observe", "--server", "unix://" + n.state_dir + "/hubble.sock"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-o", "json"});
    RunResult r = run(argv);
    if (r.exit_code != 0) {
      std::cerr << "cilium-lab observe: " << n.name << ": " << (r.err.empty() ? r.out : r.err);
      ++failures;
      continue;
    }
    size_t pos = 0;
    while (pos < r.out.size()) {
      size_t nl = r.out.find('\n', pos);
      if (nl == std::string::npos) nl = r.out.size();
      std::string line = r.out.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      std::string t = j.is_object() && j.contains("time") && j["time"].is_string() ? j["time"].get<std::string>() : "";
      lines.push_back({time_key(t), line});
    }
  }
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string merged;
  for (const auto& [_, l] : lines) merged += l + "\n";
  if (output == "json" || output == "jsonpb") {
    std::cout << merged;
  } else {
    RunOptions ro;
    ro.stdin_data = merged;
    RunResult r = run({hubble, "observe", "--input-file", "-", "-o", output}, ro);
    std::cout << r.out;
    if (r.exit_code != 0) {
      std::cerr << "cilium-lab observe: " << r.err;
      return 1;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace cpp::lab

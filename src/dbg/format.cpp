#include "dbg/format.h"

#include <algorithm>
#include <sstream>

#include "health/report.h"

namespace cpp::dbg {
namespace {
std::string field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}
// Upstream's "KVStore:" line: the etcd connection, or why there is none.
std::string kvstore_line(const nlohmann::json& kv) {
  if (!kv.is_object()) return "unknown";
  if (kv.value("type", std::string()) == "kubernetes") return "Disabled   (resources in the Kubernetes API)";
  if (kv.value("type", std::string()) != "etcd") return "Disabled   (store directory " + field(kv, "dir") + ")";
  std::string endpoints;
  for (const auto& e : kv.value("endpoints", nlohmann::json::array()))
    endpoints += (endpoints.empty() ? "" : ", ") + e.get<std::string>();
  return field(kv, "state") + "   etcd: " + field(kv, "connected") + "/" +
         std::to_string(kv.value("endpoints", nlohmann::json::array()).size()) + " connected: " + endpoints;
}

std::string masquerading_line(const nlohmann::json& targets) {
  if (!targets.is_array() || targets.empty()) return "Disabled";
  std::string out = "BPF";
  for (const auto& t : targets) {
    out += "   [" + field(t, "device");
    for (const char* fam : {"ipv4", "ipv6"})
      if (t.contains(fam)) out += " " + field(t, fam);
    out += "]";
  }
  return out;
}

std::string cluster_health_line(const nlohmann::json& health) {
  try {
    auto r = health::report_from_json(health);
    if (r.probe_time_ms == 0) return "no probe has finished yet";
    return std::to_string(r.reachable_count()) + "/" + std::to_string(r.nodes.size()) + " reachable";
  } catch (const std::exception& e) {
    return std::string("unreadable health report: ") + e.what();
  }
}
}  // namespace

std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) {
      s += cells[i];
      if (i + 1 < cells.size()) s += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    out << s << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out.str();
}

// Upstream's shape: "Ok   Current/Max Flows: 4095/4095 (100.00%), Flows/s: 12.50   Metrics: Ok".
std::string hubble_line(const nlohmann::json& h) {
  if (!h.value("enabled", false)) return "Disabled";
  std::ostringstream out;
  auto cur = h.value("current-flows", uint64_t{0}), max = h.value("max-flows", uint64_t{0});
  char pct[32];
  std::snprintf(pct, sizeof(pct), "%.2f", max ? 100.0 * static_cast<double>(cur) / static_cast<double>(max) : 0.0);
  char rate[32];
  std::snprintf(rate, sizeof(rate), "%.2f", h.value("flows-per-second", 0.0));
  out << h.value("state", std::string("Unknown")) << "   Current/Max Flows: " << cur << "/" << max << " (" << pct
      << "%), Flows/s: " << rate;
  if (h.contains("metrics")) out << "   Metrics: " << h["metrics"].value("state", std::string("Disabled"));
  return out.str();
}

std::string status_details(const nlohmann::json& s) {
  std::ostringstream out;
  out << "Policy revision:         " << field(s, "policy-revision") << "\n";
  if (s.contains("kube-proxy-replacement")) {
    const auto& k = s["kube-proxy-replacement"];
    out << "KubeProxyReplacement Details:\n";
    out << "  Status:                " << (k.value("enabled", false) ? "True" : "False") << "\n";
    if (k.contains("socket-lb"))
      out << "  Socket LB:             " << (k["socket-lb"].value("enabled", false) ? "Enabled" : "Disabled") << "\n";
    if (k.contains("algorithm")) out << "  Backend Selection:     " << field(k, "algorithm") << "\n";
    if (k.contains("no-backend-response"))
      out << "  No backend response:   " << field(k, "no-backend-response") << "\n";
    if (k.contains("acceleration"))
      for (const auto& x : k["acceleration"])
        out << "  XDP Acceleration:      " << field(x, "device") << " (" << field(x, "mode") << ")\n";
  }
  if (s.contains("hubble") && s["hubble"].value("enabled", false)) {
    const auto& h = s["hubble"];
    out << "Hubble Details:\n";
    out << "  Seen flows:            " << field(h, "seen-flows") << "\n";
    out << "  Lost events:           " << field(h, "lost-events") << " (datapath ring buffer full)\n";
    out << "  Events not parsed:     " << field(h, "parse-errors") << "\n";
    out << "  Monitor aggregation:   " << field(h, "monitor-aggregation") << "\n";
    out << "  Listen address:        " << field(h, "listen-address") << "\n";
    out << "  Socket:                " << field(h, "socket-path") << "\n";
    if (h.contains("metrics")) out << "  Metrics address:       " << field(h["metrics"], "address") << "\n";
  }
  return out.str();
}

std::string format_status(const nlohmann::json& s, const std::optional<nlohmann::json>& health, bool verbose) {
  std::ostringstream out;
  out << "Cluster:                 " << field(s, "cluster-name") << "\n";
  out << "Node:                    " << field(s, "node-name") << " " << field(s, "node-ip") << "\n";
  if (s.contains("kubernetes") && s["kubernetes"].is_object()) {
    const auto& k = s["kubernetes"];
    out << "Kubernetes:              " << field(k, "state") << "   " << field(k, "server") << "   ("
        << field(k, "store") << ")";
    if (k.contains("msg")) out << "   " << field(k, "msg");
    out << "\n";
  }
  if (s.contains("kvstore")) out << "KVStore:                 " << kvstore_line(s["kvstore"]) << "\n";
  out << "Cilium:                  " << field(s, "state") << "\n";
  out << "Routing:                 " << field(s, "routing-mode") << ", MTU " << field(s, "mtu") << "\n";
  out << "IPAM:                    IPv4 " << field(s, "pod-cidr-ipv4") << " router " << field(s, "router-ipv4")
      << "; IPv6 " << field(s, "pod-cidr-ipv6") << " router " << field(s, "router-ipv6") << "\n";
  size_t allocated = s.contains("ipam") ? s["ipam"]["allocations"].size() : 0;
  out << "Allocated addresses:     " << allocated << "\n";
  out << "Endpoints:               " << field(s, "endpoints") << "\n";
  if (s.contains("masquerading")) out << "Masquerading:            " << masquerading_line(s["masquerading"]) << "\n";
  if (health) out << "Cluster health:          " << cluster_health_line(*health) << "\n";
  if (s.contains("hubble")) out << "Hubble:                  " << hubble_line(s["hubble"]) << "\n";
  out << "BPF pins:                " << field(s, "pin-dir") << "\n";
  if (verbose) out << status_details(s);
  return out.str();
}

std::string format_endpoint_list(const nlohmann::json& eps) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : eps) {
    std::string labels;
    for (auto& [k, v] : e["labels"].items()) labels += (labels.empty() ? "" : " ") + (k + "=" + v.get<std::string>());
    const auto& a = e["addressing"];
    rows.push_back({field(e, "id"), field(e, "identity"), labels.empty() ? "-" : labels,
                    a.contains("ipv6") ? a["ipv6"].get<std::string>() : "",
                    a.contains("ipv4") ? a["ipv4"].get<std::string>() : "", field(e, "state"),
                    field(e, "k8s-namespace") + "/" + field(e, "k8s-pod-name")});
  }
  return render_table({"ENDPOINT", "IDENTITY", "LABELS", "IPv6", "IPv4", "STATUS", "POD"}, rows);
}

std::string format_bpf_endpoint_list(const nlohmann::json& entries) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries) {
    std::ostringstream info;
    if (e.value("host", false)) {
      info << "(localhost)";
    } else {
      info << "id=" << field(e, "id") << " sec_id=" << field(e, "sec_id") << " flags=" << field(e, "flags")
           << " ifindex=" << field(e, "ifindex") << " mac=" << field(e, "mac") << " nodemac=" << field(e, "node_mac");
    }
    rows.push_back({field(e, "address"), info.str()});
  }
  return render_table({"IP ADDRESS", "LOCAL ENDPOINT INFO"}, rows);
}

std::string format_map_list(const nlohmann::json& maps) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : maps) rows.push_back({field(m, "name"), field(m, "entries"), field(m, "path")});
  return render_table({"Name", "Num entries", "Path"}, rows);
}

std::string format_identity_list(const nlohmann::json& identities) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : identities) {
    std::string ls;
    for (const auto& l : i["labels"]) ls += (ls.empty() ? "" : " ") + l.get<std::string>();
    rows.push_back({field(i, "id"), ls});
  }
  return render_table({"ID", "LABELS"}, rows);
}

std::string format_bpf_policy(const nlohmann::json& entries) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries) {
    std::string ls;
    for (const auto& l : e.value("labels", nlohmann::json::array())) ls += (ls.empty() ? "" : " ") + l.get<std::string>();
    rows.push_back({field(e, "policy"), field(e, "direction"), ls.empty() ? field(e, "identity") : ls,
                    field(e, "port_proto"), field(e, "proxy_port"), field(e, "bytes"), field(e, "packets"),
                    field(e, "prefix")});
  }
  return render_table({"POLICY", "DIRECTION", "LABELS (source:key[=value])", "PORT/PROTO", "PROXY PORT", "BYTES",
                       "PACKETS", "PREFIX"},
                      rows);
}

std::string format_service_list(const nlohmann::json& services) {
  auto l4 = [](const nlohmann::json& a) {
    std::string ip = a.value("ip", "");
    if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
    return ip + ":" + field(a, "port") + "/" + a.value("protocol", "TCP");
  };
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : services) {
    const auto& spec = s["spec"];
    std::string fe = l4(spec["frontend-address"]);
    if (spec["frontend-address"].value("scope", "") == "internal") fe += " (i)";
    std::string type = spec["flags"].value("type", "");
    const auto& bes = spec["backend-addresses"];
    if (bes.empty()) rows.push_back({field(spec, "id"), fe, type, ""});
    for (size_t i = 0; i < bes.size(); ++i) {
      std::string be = std::to_string(i + 1) + " => " + l4(bes[i]) + " (" + bes[i].value("state", "active") + ")";
      if (i == 0)
        rows.push_back({field(spec, "id"), fe, type, be});
      else
        rows.push_back({"", "", "", be});
    }
  }
  return render_table({"ID", "Frontend", "Service Type", "Backend"}, rows);
}

}  // namespace cpp::dbg

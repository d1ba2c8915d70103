#include "lab/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "common/files.h"

namespace cpp::lab {

using nlohmann::json;

std::string NodeState::netns_path() const { return "/run/netns/" + netns; }
std::string PodState::netns_path() const { return "/run/netns/" + netns; }

std::string DaemonState::netns_path() const { return "/run/netns/" + netns; }

std::string LabState::dir() const { return lab_dir(name); }

std::vector<std::string> LabState::etcd_endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : etcd) out.push_back("http://" + m.ipv4 + ":2379");
  return out;
}

namespace {

json daemons_to_json(const std::vector<DaemonState>& ds) {
  json a = json::array();
  for (const auto& d : ds)
    a.push_back({{"name", d.name}, {"netns", d.netns}, {"ipv4", d.ipv4}, {"dir", d.dir}, {"log", d.log},
                 {"pid", d.proc.pid}, {"start_time", d.proc.start_time}});
  return a;
}

std::vector<DaemonState> daemons_from_json(const json& a) {
  std::vector<DaemonState> out;
  for (const auto& d : a) {
    DaemonState x;
    x.name = d.at("name").get<std::string>();
    x.netns = d.value("netns", std::string());
    x.ipv4 = d.value("ipv4", std::string());
    x.dir = d.value("dir", std::string());
    x.log = d.value("log", std::string());
    x.proc.pid = d.value("pid", 0);
    x.proc.start_time = d.value("start_time", uint64_t{0});
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

NodeState* LabState::find_node(const std::string& n) {
  for (auto& x : nodes)
    if (x.name == n) return &x;
  return nullptr;
}

PodState* LabState::find_pod(const std::string& n) {
  for (auto& x : pods)
    if (x.name == n) return &x;
  return nullptr;
}

json LabState::to_json() const {
  json j{{"name", name}, {"bin_dir", bin_dir}, {"store_dir", store_dir}, {"agents", agents}};
  j["underlay"] = {{"netns", underlay_netns()}, {"bridge", "br0"}};
  j["kvstore"] = kvstore;
  j["etcd"] = daemons_to_json(etcd);
  j["operators"] = daemons_to_json(operators);
  j["kubeapi"] = daemons_to_json(kubeapi);
  j["nodes"] = json::array();
  for (const auto& n : nodes) {
    j["nodes"].push_back({{"name", n.name},
                          {"index", n.index},
                          {"netns", n.netns},
                          {"ipv4", n.ipv4},
                          {"ipv6", n.ipv6},
                          {"underlay_ifname", n.underlay_ifname},
                          {"dir", n.dir},
                          {"config_dir", n.config_dir},
                          {"state_dir", n.state_dir},
                          {"socket", n.socket},
                          {"log", n.log},
                          {"conflist", n.conflist},
                          {"pod_cidr_ipv4", n.pod_cidr_ipv4},
                          {"pod_cidr_ipv6", n.pod_cidr_ipv6},
                          {"router_ipv4", n.router_ipv4},
                          {"router_ipv6", n.router_ipv6},
                          {"agent_pid", n.agent.pid},
                          {"agent_start_time", n.agent.start_time}});
  }
  j["pods"] = json::array();
  for (const auto& p : pods) {
    j["pods"].push_back({{"name", p.name},
                         {"namespace", p.ns},
                         {"node", p.node},
                         {"netns", p.netns},
                         {"container_id", p.container_id},
                         {"ifname", p.ifname},
                         {"ipv4", p.ipv4},
                         {"ipv6", p.ipv6},
                         {"endpoint_id", p.endpoint_id},
                         {"labels", p.labels},
                         {"ports", p.ports},
                         {"cni_result", p.cni_result}});
  }
  return j;
}

LabState LabState::from_json(const json& j) {
  LabState s;
  s.name = j.at("name").get<std::string>();
  s.bin_dir = j.value("bin_dir", std::string());
  s.store_dir = j.value("store_dir", std::string());
  s.agents = j.value("agents", true);
  s.kvstore = j.value("kvstore", std::string("directory"));
  s.etcd = daemons_from_json(j.value("etcd", json::array()));
  s.operators = daemons_from_json(j.value("operators", json::array()));
  s.kubeapi = daemons_from_json(j.value("kubeapi", json::array()));
  for (const auto& n : j.value("nodes", json::array())) {
    NodeState x;
    x.name = n.at("name").get<std::string>();
    x.index = n.value("index", 0);
    x.netns = n.value("netns", std::string());
    x.ipv4 = n.value("ipv4", std::string());
    x.ipv6 = n.value("ipv6", std::string());
    x.underlay_ifname = n.value("underlay_ifname", std::string());
    x.dir = n.value("dir", std::string());
    x.config_dir = n.value("config_dir", std::string());
    x.state_dir = n.value("state_dir", std::string());
    x.socket = n.value("socket", std::string());
    x.log = n.value("log", std::string());
    x.conflist = n.value("conflist", std::string());
    x.pod_cidr_ipv4 = n.value("pod_cidr_ipv4", std::string());
    x.pod_cidr_ipv6 = n.value("pod_cidr_ipv6", std::string());
    x.router_ipv4 = n.value("router_ipv4", std::string());
    x.router_ipv6 = n.value("router_ipv6", std::string());
    x.agent.pid = n.value("agent_pid", 0);
    x.agent.start_time = n.value("agent_start_time", uint64_t{0});
    s.nodes.push_back(std::move(x));
  }
  for (const auto& p : j.value("pods", json::array())) {
    PodState x;
    x.name = p.at("name").get<std::string>();
    x.ns = p.value("namespace", std::string("default"));
    x.node = p.value("node", std::string());
    x.netns = p.value("netns", std::string());
    x.container_id = p.value("container_id", std::string());
    x.ifname = p.value("ifname", std::string("eth0"));
    x.ipv4 = p.value("ipv4", std::string());
    x.ipv6 = p.value("ipv6", std::string());
    x.endpoint_id = p.value("endpoint_id", 0);
    x.labels = p.value("labels", std::map<std::string, std::string>{});
    x.ports = p.value("ports", json::array());
    x.cni_result = p.value("cni_result", json());
    s.pods.push_back(std::move(x));
  }
  return s;
}

void validate_lab_name(const std::string& name) {
  if (name.empty() || name.size() > 24)
    throw std::invalid_argument("lab name must be 1 to 24 characters, got \"" + name + "\"");
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      throw std::invalid_argument("lab name \"" + name + "\": use lower-case letters and digits only");
}

void validate_object_name(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 40 && name.front() != '-' && name.back() != '-';
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) ok = false;
  if (!ok)
    throw std::invalid_argument(what + " name \"" + name +
                                "\": use 1 to 40 lower-case letters, digits and '-', starting and ending "
                                "with a letter or digit");
}

std::string lab_dir(const std::string& name) { return std::string(kLabRoot) + "/" + name; }
std::string lab_state_path(const std::string& name) { return lab_dir(name) + "/lab.json"; }

bool lab_exists(const std::string& name) {
  struct stat st {};
  return ::stat(lab_state_path(name).c_str(), &st) == 0;
}

std::optional<LabState> try_load_lab(const std::string& name) {
  auto text = cpp::read_file(lab_state_path(name));
  if (!text) return std::nullopt;
  try {
    return LabState::from_json(json::parse(*text));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

LabState load_lab(const std::string& name) {
  validate_lab_name(name);
  auto text = cpp::read_file(lab_state_path(name));
  if (!text) throw std::runtime_error("lab \"" + name + "\" does not exist (start it with: cilium-lab up --name " + name + ")");
  try {
    return LabState::from_json(json::parse(*text));
  } catch (const std::exception& e) {
    throw std::runtime_error(lab_state_path(name) + " is unreadable: " + e.what() +
                             " (tear the lab down with: cilium-lab -n " + name + " down)");
  }
}

void save_lab(const LabState& lab) {
  cpp::make_dirs(lab.dir());
  cpp::write_file_atomic(lab_state_path(lab.name), lab.to_json().dump(2) + "\n");
}

LabLock::LabLock(const std::string& name) {
  cpp::make_dirs(kLabRoot);
  path_ = std::string(kLabRoot) + "/." + name + ".lock";
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("open " + path_ + ": " + std::strerror(errno));
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    throw std::runtime_error("flock " + path_ + ": " + std::strerror(errno));
  }
}

LabLock::~LabLock() {
  if (fd_ >= 0) ::close(fd_);
}

void LabLock::release_and_remove() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

std::string node_cgroup(const LabState& lab, const NodeState& node) {
  return std::string(kCgroupRoot) + "/" + lab.name + "/" + node.name;
}

bool join_cgroup(const std::string& cgroup) {
  FILE* f = std::fopen((cgroup + "/cgroup.procs").c_str(), "w");
  if (!f) return false;
  bool ok = std::fprintf(f, "%d\n", static_cast<int>(::getpid())) > 0;
  ok = (std::fclose(f) == 0) && ok;
  return ok;
}

}  // namespace cpp::lab

#pragma once
// Upstream Hubble's flow filters (flow.FlowFilter) compiled for matching
// against Flow. A request's whitelist and blacklist are each a list of
// filters: a flow passes when it matches any whitelist filter (or there is
// none) and no blacklist filter. Inside one filter every set field must
// match; inside a repeated field any element may.
//
// Supported fields: source/destination ip (address or CIDR), pod
// ("ns/prefix", "ns/" = the whole namespace, "prefix" = any namespace; the
// pod name must start with the prefix), label (Kubernetes selector text
// over the endpoint's labels, hubble/label_query.h: "k8s:" prefix optional),
// service ("ns/prefix" or "prefix", as pod; only reverse trace-sock flows
// name a source service), identity; verdict, drop_reason_desc, event_type (sub_type only
// with match_sub_type), traffic_direction, protocol ("tcp", "udp", "icmp" =
// v4 or v6, "icmpv4", "icmpv6", "sctp"; "http", "dns", "kafka" are valid and
// match nothing), source/destination port (TCP/UDP/SCTP flows only), reply
// (a flow whose reply state is unknown matches neither), tcp_flags (every
// flag of the filter set in a TCP flow), node_name ("[cluster/]node" glob,
// '*' not crossing a '.'; flows are in cluster "default"), ip_version.
// uuid, fqdn, workload, http_*, dns_query and trace_id filters are an error
// (never silently ignored), as are unknown enum values.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "flow/flow.pb.h"
#include "hubble/flow.h"

namespace cpp::hubble {

// A filter that cannot be compiled; what() names the field and the value,
// e.g. "whitelist[0].source_ip[1]: \"10.0.0.300\" is not an IP address or CIDR".
class FilterError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class CompiledFilter;  // one flow.FlowFilter

class FlowFilterSet {
 public:
  FlowFilterSet();  // matches everything
  ~FlowFilterSet();
  FlowFilterSet(FlowFilterSet&&) noexcept;
  FlowFilterSet& operator=(FlowFilterSet&&) noexcept;

  // Throws FilterError.
  static FlowFilterSet compile(const google::protobuf::RepeatedPtrField<flow::FlowFilter>& whitelist,
                               const google::protobuf::RepeatedPtrField<flow::FlowFilter>& blacklist);

  bool matches(const Flow& f) const;

 private:
  std::vector<std::unique_ptr<CompiledFilter>> white_, black_;
};

}  // namespace cpp::hubble

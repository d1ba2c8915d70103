#pragma once
// Flows for the hubble_server tests: a TCP flow between two pods.
#include <netinet/in.h>

#include <memory>
#include <string>

#include "hubble/flow.h"

namespace cpp::hubble::testing {

inline Flow tcp_flow(int64_t time_ns, const std::string& src_ip = "10.0.0.1", const std::string& dst_ip = "10.0.0.2",
                     uint16_t dport = 8080) {
  Flow f;
  f.time_ns = time_ns;
  f.node_name = "node-a";
  f.verdict = Verdict::Forwarded;
  f.event_type = kMonitorTypeTrace;
  f.event_sub_type = 101;
  f.trace_observation_point = 101;
  f.traffic_direction = TrafficDirection::Ingress;
  f.is_reply = false;
  f.ip_version = 4;
  f.src_ip = *IpAddr::parse(src_ip);
  f.dst_ip = *IpAddr::parse(dst_ip);
  f.protocol = IPPROTO_TCP;
  f.src_port = 41234;
  f.dst_port = dport;
  f.tcp_flags = 0x02;
  auto src = std::make_shared<EndpointInfo>();
  src->id = 11;
  src->identity = 256;
  src->namespace_ = "default";
  src->pod_name = "client";
  src->labels = {"k8s:app=client", "k8s:io.kubernetes.pod.namespace=default"};
  auto dst = std::make_shared<EndpointInfo>();
  dst->id = 22;
  dst->identity = 258;
  dst->namespace_ = "default";
  dst->pod_name = "server";
  dst->labels = {"k8s:app=server", "k8s:io.kubernetes.pod.namespace=default"};
  f.source = src;
  f.destination = dst;
  return f;
}

}  // namespace cpp::hubble::testing

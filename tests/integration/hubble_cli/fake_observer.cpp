#include "fake_observer.h"

#include <chrono>

namespace cpp::hubble_cli::test {

grpc::Status FakeObserver::GetFlows(grpc::ServerContext* ctx, const observer::GetFlowsRequest* req,
                                    grpc::ServerWriter<observer::GetFlowsResponse>* writer) {
  {
    std::lock_guard lk(mu_);
    requests_.push_back(*req);
  }
  cv_.notify_all();
  // The real server rejects bad filters with INVALID_ARGUMENT; this one
  // does so for a marker value, to show how the CLIs report it.
  for (const auto& f : req->whitelist())
    for (const auto& p : f.source_pod())
      if (p == "reject/") return {grpc::StatusCode::INVALID_ARGUMENT, "source_pod: namespace 'reject' is refused"};
  for (const auto& f : flows_) {
    observer::GetFlowsResponse r;
    *r.mutable_flow() = f;
    r.set_node_name(f.node_name());
    *r.mutable_time() = f.time();
    if (!writer->Write(r)) return grpc::Status::OK;
  }
  observer::GetFlowsResponse lost;
  lost.mutable_lost_events()->set_source(flow::HUBBLE_RING_BUFFER);
  lost.mutable_lost_events()->set_num_events_lost(7);
  lost.set_node_name("node-a");
  writer->Write(lost);
  if (!req->follow()) return grpc::Status::OK;
  // Follow: nothing new happens here; wait for the client to cancel.
  std::unique_lock lk(mu_);
  while (!ctx->IsCancelled()) cv_.wait_for(lk, std::chrono::milliseconds(20));
  ++followers_gone_;
  cv_.notify_all();
  return grpc::Status::CANCELLED;
}

grpc::Status FakeObserver::ServerStatus(grpc::ServerContext*, const observer::ServerStatusRequest*,
                                        observer::ServerStatusResponse* resp) {
  resp->set_num_flows(12);
  resp->set_max_flows(4095);
  resp->set_seen_flows(120);
  resp->set_uptime_ns(60'000'000'000ULL);
  resp->mutable_num_connected_nodes()->set_value(1);
  resp->set_version("1.16.0-ciliumpp");
  return grpc::Status::OK;
}

grpc::Status FakeObserver::GetNodes(grpc::ServerContext*, const observer::GetNodesRequest*,
                                    observer::GetNodesResponse* resp) {
  auto* n = resp->add_nodes();
  n->set_name("node-a");
  n->set_state(relay::NODE_CONNECTED);
  n->set_uptime_ns(61'000'000'000ULL);
  n->set_num_flows(12);
  n->set_max_flows(4095);
  n->set_seen_flows(122);
  return grpc::Status::OK;
}

observer::GetFlowsRequest FakeObserver::wait_request(size_t n) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::seconds(30), [&] { return requests_.size() >= n; });
  return requests_.size() >= n ? requests_[n - 1] : observer::GetFlowsRequest{};
}

bool FakeObserver::wait_follower_gone() {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, std::chrono::seconds(30), [&] { return followers_gone_ > 0; });
}

FakeServer::FakeServer(FakeObserver& service, const std::string& address, bool with_health) {
  grpc::ServerBuilder b;
  b.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
  b.RegisterService(&service);
  if (with_health) b.RegisterService(&health_);
  server_ = b.BuildAndStart();
  if (!server_) throw std::runtime_error("fake observer cannot listen on " + address);
}

FakeServer::~FakeServer() {
  health_.shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

}  // namespace cpp::hubble_cli::test

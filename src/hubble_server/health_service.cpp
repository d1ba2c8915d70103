#include "hubble_server/health_service.h"

#include <chrono>

namespace cpp::hubble {

namespace hv1 = grpc::health::v1;

namespace {

bool known(const std::string& service) { return service.empty() || service == kObserverHealthName; }

}  // namespace

grpc::Status HealthService::Check(grpc::ServerContext*, const hv1::HealthCheckRequest* req,
                                  hv1::HealthCheckResponse* resp) {
  if (!known(req->service()))
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service '" + req->service() + "'");
  std::lock_guard lk(mu_);
  resp->set_status(serving_ ? hv1::HealthCheckResponse::SERVING : hv1::HealthCheckResponse::NOT_SERVING);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* ctx, const hv1::HealthCheckRequest* req,
                                  grpc::ServerWriter<hv1::HealthCheckResponse>* writer) {
  std::unique_lock lk(mu_);
  uint64_t sent = version_ + 1;  // differs: the first status always goes out
  for (;;) {
    if (sent != version_) {
      hv1::HealthCheckResponse resp;
      resp.set_status(!known(req->service()) ? hv1::HealthCheckResponse::SERVICE_UNKNOWN
                      : serving_             ? hv1::HealthCheckResponse::SERVING
                                             : hv1::HealthCheckResponse::NOT_SERVING);
      sent = version_;
      lk.unlock();
      bool ok = writer->Write(resp);
      lk.lock();
      if (!ok) return grpc::Status::CANCELLED;
      continue;  // a change made during the write (shutdown too) goes out first
    }
    if (shut_down_) return grpc::Status::OK;
    if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
    // Cancellation has no wakeup of its own in the synchronous API: poll it.
    cv_.wait_for(lk, std::chrono::milliseconds(100));
  }
}

void HealthService::set_serving(bool serving) {
  {
    std::lock_guard lk(mu_);
    if (serving_ == serving) return;
    serving_ = serving;
    ++version_;
  }
  cv_.notify_all();
}

void HealthService::shutdown() {
  {
    std::lock_guard lk(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    serving_ = false;
    ++version_;
  }
  cv_.notify_all();
}

}  // namespace cpp::hubble

// Lease keep-alive: one short LeaseKeepAlive exchange every ttl/3 on any
// reachable member. The lease is lost when etcd says so (TTL 0) or when no
// member answered before it would have expired.
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "kvstore/etcd_channel.h"

namespace cpp::kvstore::detail {
namespace {

struct KeeperState {
  std::shared_ptr<Endpoints> eps;
  int64_t id = 0;
  int64_t ttl = 0;
  std::function<void()> on_lost;

  std::atomic<bool> alive{true};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<grpc::ClientContext> ctx;

  void stop() {
    std::lock_guard<std::mutex> g(mu);
    stopping = true;
    if (ctx) ctx->TryCancel();
    cv.notify_all();
  }

  void pause_until(Clock::time_point t) {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait_until(lk, t, [&] { return stopping.load(); });
  }

  // Remaining TTL in seconds as etcd reports it (0: the lease is gone), or
  // nullopt when the member did not answer before deadline.
  std::optional<int64_t> refresh(size_t i, Clock::time_point deadline) {
    auto c = std::make_shared<grpc::ClientContext>();
    c->set_deadline(grpc_deadline(deadline));
    {
      std::lock_guard<std::mutex> g(mu);
      if (stopping) return std::nullopt;
      ctx = c;
    }
    auto stream = eps->at(i).lease->LeaseKeepAlive(c.get());
    etcdserverpb::LeaseKeepAliveRequest req;
    req.set_id(id);
    etcdserverpb::LeaseKeepAliveResponse resp;
    std::optional<int64_t> out;
    if (stream->Write(req) && stream->Read(&resp)) out = std::max<int64_t>(resp.ttl(), 0);
    c->TryCancel();
    stream->Finish();
    std::lock_guard<std::mutex> g(mu);
    ctx.reset();
    return out;
  }

  void lost(const char* why) {
    alive = false;
    if (stopping) return;
    spdlog::warn("etcd lease {:x} lost: {}", id, why);
    if (!on_lost) return;
    try {
      on_lost();
    } catch (const std::exception& e) {
      spdlog::error("etcd lease {:x}: on_lost callback failed: {}", id, e.what());
    }
  }

  static void run(std::shared_ptr<KeeperState> st) {
    const auto& o = st->eps->options();
    const auto period = std::max<Clock::duration>(std::chrono::seconds(st->ttl) / 3, std::chrono::milliseconds(200));
    const auto attempt = std::clamp<Clock::duration>(period, std::chrono::milliseconds(500), o.request_timeout);
    auto expires = Clock::now() + std::chrono::seconds(st->ttl);
    auto next = Clock::now() + period;
    auto backoff = o.backoff_initial;
    const size_t n = st->eps->size();
    while (true) {
      st->pause_until(next);
      if (st->stopping) return;
      bool answered = false;
      for (size_t k = 0; k < n && !st->stopping; ++k) {
        size_t i = (st->eps->preferred() + k) % n;
        if (!st->eps->wait_connected(i, Clock::now() + o.dial_timeout, &st->stopping)) continue;
        auto sent = Clock::now();
        auto ttl = st->refresh(i, sent + attempt);
        if (!ttl) continue;
        if (*ttl == 0) return st->lost("etcd no longer knows it (expired or revoked)");
        expires = sent + std::chrono::seconds(*ttl);
        st->eps->prefer(i);
        answered = true;
        break;
      }
      if (st->stopping) return;
      auto now = Clock::now();
      if (answered) {
        next = now + period;
        backoff = o.backoff_initial;
        continue;
      }
      if (now >= expires) return st->lost("no etcd member answered before it expired");
      next = std::min<Clock::time_point>(now + backoff, expires);
      backoff = std::min(backoff * 2, o.backoff_max);
    }
  }
};

class Keeper : public LeaseKeeper {
 public:
  explicit Keeper(std::shared_ptr<KeeperState> st)
      : st_(std::move(st)), thread_(&KeeperState::run, st_), tid_(thread_.get_id()) {}
  ~Keeper() override {
    halt();
    if (std::this_thread::get_id() == tid_) thread_.detach();  // destroyed from on_lost
  }

  int64_t id() const override { return st_->id; }
  bool alive() const override { return st_->alive; }

  void revoke() override {
    halt();
    st_->alive = false;
    etcdserverpb::LeaseRevokeRequest req;
    req.set_id(st_->id);
    etcdserverpb::LeaseRevokeResponse resp;
    try {
      with_retries(*st_->eps, Mode::Read, "lease revoke", [&](Endpoint& ep, grpc::ClientContext& ctx) {
        grpc::Status s = ep.lease->LeaseRevoke(&ctx, req, &resp);
        return s.error_code() == grpc::StatusCode::NOT_FOUND ? grpc::Status::OK : s;
      });
    } catch (const std::exception& e) {
      spdlog::warn("etcd lease {:x}: revoke failed, it expires on its own: {}", st_->id, e.what());
    }
  }

 private:
  void halt() {
    st_->stop();
    if (std::this_thread::get_id() == tid_) return;
    std::lock_guard<std::mutex> g(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

  std::shared_ptr<KeeperState> st_;
  std::mutex join_mu_;
  std::thread thread_;
  const std::thread::id tid_;
};

}  // namespace

std::unique_ptr<LeaseKeeper> start_keeper(std::shared_ptr<Endpoints> eps, int64_t lease, int64_t ttl_seconds,
                                          std::function<void()> on_lost) {
  auto st = std::make_shared<KeeperState>();
  st->eps = std::move(eps);
  st->id = lease;
  st->ttl = ttl_seconds;
  st->on_lost = std::move(on_lost);
  return std::make_unique<Keeper>(std::move(st));
}

}  // namespace cpp::kvstore::detail

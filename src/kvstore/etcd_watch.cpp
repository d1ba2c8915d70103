// Watch streams that survive member deaths: each disconnect re-opens the
// watch on another member from the revision after the last one delivered.
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "kvstore/etcd_channel.h"

namespace cpp::kvstore::detail {
namespace {

struct WatchState {
  std::shared_ptr<Endpoints> eps;
  std::string prefix;
  int64_t next_rev = 0;  // 0 until the first stream told us the current revision
  std::function<void(const std::vector<WatchEvent>&)> on_events;
  std::function<void()> on_compacted;

  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<grpc::ClientContext> ctx;  // of the open stream, so stop() can cancel it

  enum class StreamEnd { Disconnected, Healthy, Compacted, Stopped };

  void stop() {
    std::lock_guard<std::mutex> g(mu);
    stopping = true;
    if (ctx) ctx->TryCancel();
    cv.notify_all();
  }

  void pause(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait_for(lk, d, [&] { return stopping.load(); });
  }

  void deliver(const std::vector<WatchEvent>& evs) {
    try {
      on_events(evs);
    } catch (const std::exception& e) {
      spdlog::error("etcd watch {}: event callback failed: {}", prefix, e.what());
    }
  }

  // One stream on endpoint i until it breaks. Healthy: it was created (so
  // the next failure starts a fresh backoff).
  StreamEnd run_stream(size_t i) {
    auto c = std::make_shared<grpc::ClientContext>();
    // A member that loses its leader cancels the stream instead of going quiet.
    c->AddMetadata("hasleader", "true");
    {
      std::lock_guard<std::mutex> g(mu);
      if (stopping) return StreamEnd::Stopped;
      ctx = c;
    }
    auto& ep = eps->at(i);
    auto stream = ep.watch->Watch(c.get());
    etcdserverpb::WatchRequest req;
    auto* create = req.mutable_create_request();
    create->set_key(prefix.empty() ? std::string(1, '\0') : prefix);
    create->set_range_end(prefix_end(prefix));
    create->set_start_revision(next_rev);
    StreamEnd end = StreamEnd::Disconnected;
    if (stream->Write(req)) {
      etcdserverpb::WatchResponse resp;
      while (!stopping && stream->Read(&resp)) {
        if (resp.compact_revision() > 0) {
          spdlog::warn("etcd watch {}: revision {} was compacted (oldest kept: {})", prefix, next_rev,
                       resp.compact_revision());
          end = StreamEnd::Compacted;
          break;
        }
        if (resp.canceled()) {
          spdlog::warn("etcd watch {} on {}: canceled by the server: {}", prefix, ep.target, resp.cancel_reason());
          break;
        }
        if (resp.created()) {
          if (next_rev == 0) next_rev = resp.header().revision() + 1;
          eps->prefer(i);
          end = StreamEnd::Healthy;
        }
        std::vector<WatchEvent> evs;
        evs.reserve(resp.events_size());
        for (const auto& e : resp.events()) {
          if (e.kv().mod_revision() < next_rev) continue;  // already delivered before a reconnect
          WatchEvent w;
          w.type = e.type() == mvccpb::Event_EventType_DELETE ? WatchEvent::Type::Delete : WatchEvent::Type::Put;
          w.kv = to_key_value(e.kv());
          evs.push_back(std::move(w));
        }
        if (evs.empty()) continue;
        next_rev = evs.back().kv.mod_revision + 1;
        if (stopping) break;
        deliver(evs);
      }
    }
    c->TryCancel();
    grpc::Status st = stream->Finish();
    {
      std::lock_guard<std::mutex> g(mu);
      ctx.reset();
    }
    if (stopping) return StreamEnd::Stopped;
    if (end != StreamEnd::Compacted)
      spdlog::info("etcd watch {}: stream on {} ended ({}), resuming from revision {}", prefix, ep.target,
                   describe(st), next_rev);
    return end;
  }

  static void run(std::shared_ptr<WatchState> st) {
    const auto& o = st->eps->options();
    const size_t n = st->eps->size();
    auto backoff = o.backoff_initial;
    size_t start = st->eps->preferred();
    while (!st->stopping) {
      for (size_t k = 0; k < n && !st->stopping; ++k) {
        size_t i = (start + k) % n;
        if (!st->eps->wait_connected(i, Clock::now() + o.dial_timeout, &st->stopping)) continue;
        switch (st->run_stream(i)) {
          case StreamEnd::Stopped:
            return;
          case StreamEnd::Compacted:
            if (!st->stopping && st->on_compacted) {
              try {
                st->on_compacted();
              } catch (const std::exception& e) {
                spdlog::error("etcd watch {}: compaction callback failed: {}", st->prefix, e.what());
              }
            }
            return;
          case StreamEnd::Healthy:
            backoff = o.backoff_initial;
            break;
          case StreamEnd::Disconnected:
            break;
        }
        start = i + 1;  // the member we lost is the last one to try again
        break;
      }
      if (st->stopping) return;
      st->pause(backoff);
      backoff = std::min(backoff * 2, o.backoff_max);
    }
  }
};

class StreamWatch : public Watch {
 public:
  explicit StreamWatch(std::shared_ptr<WatchState> st)
      : st_(std::move(st)), thread_(&WatchState::run, st_), tid_(thread_.get_id()) {}
  ~StreamWatch() override {
    stop();
    if (std::this_thread::get_id() == tid_) thread_.detach();  // destroyed from its own callback
  }
  void stop() override {
    st_->stop();
    if (std::this_thread::get_id() == tid_) return;  // from a callback: the thread ends after it returns
    std::lock_guard<std::mutex> g(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::shared_ptr<WatchState> st_;
  std::mutex join_mu_;
  std::thread thread_;
  const std::thread::id tid_;
};

}  // namespace

std::unique_ptr<Watch> start_watch(std::shared_ptr<Endpoints> eps, const std::string& prefix, int64_t start_revision,
                                   std::function<void(const std::vector<WatchEvent>&)> on_events,
                                   std::function<void()> on_compacted) {
  if (!on_events) throw std::invalid_argument("etcd watch " + prefix + ": no event callback");
  auto st = std::make_shared<WatchState>();
  st->eps = std::move(eps);
  st->prefix = prefix;
  st->next_rev = start_revision;
  st->on_events = std::move(on_events);
  st->on_compacted = std::move(on_compacted);
  return std::make_unique<StreamWatch>(std::move(st));
}

}  // namespace cpp::kvstore::detail

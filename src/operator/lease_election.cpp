#include "operator/lease_election.h"

#include <algorithm>

#include "common/log.h"

namespace cpp::op {

using nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {
int64_t steady_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch()).count(); }
}  // namespace

LeaseTiming LeaseTiming::from_ttl(int64_t ttl_seconds) {
  LeaseTiming t;
  t.duration = std::chrono::seconds(ttl_seconds);
  t.renew_deadline = std::chrono::milliseconds(ttl_seconds * 1000 * 2 / 3);
  t.retry = std::max(std::chrono::milliseconds(ttl_seconds * 1000 * 2 / 15), std::chrono::milliseconds(100));
  return t;
}

LeaseElection::LeaseElection(store::ResourceStore& store, std::string holder, LeaseTiming timing, std::string ns,
                             std::string name)
    : store_(store), holder_(std::move(holder)), ns_(std::move(ns)), name_(std::move(name)), timing_(timing) {}

LeaseElection::~LeaseElection() { stop_renewer(); }

bool LeaseElection::try_hold(bool* first_holder) {
  const int64_t started = steady_ns();
  if (!store_.get("Lease", ns_, name_)) {
    // Metadata only: where the Lease appeared in between (another
    // candidate's), KubeStore finds everything written already there and
    // leaves the holder alone; the take below is the contested write.
    store_.put(empty_lease(ns_, name_));
  }
  bool held = false, first = false;
  auto r = store_.update("Lease", ns_, name_, [&](json& lease) {
    held = false;
    auto now = WallClock::now();
    if (decide(lease, now, holder_) == LeaseAction::Wait) return false;
    first = !read_lease(lease).acquire_time;
    hold_lease(lease, holder_, now, timing_.duration);
    held = true;
    return true;
  });
  if (r && held) last_renew_ns_ = started;
  if (first_holder) *first_holder = first;
  return r && held;
}

bool LeaseElection::still_held_after_settling(const std::atomic<bool>& stop) {
  auto until = Steady::now() + timing_.retry;
  while (!stop && Steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto lease = store_.get("Lease", ns_, name_);
  return lease && read_lease(*lease).holder == holder_;
}

bool LeaseElection::campaign(const std::atomic<bool>& stop) {
  stop_renewer();
  std::string last_leader;
  while (!stop) {
    try {
      bool first = false;
      if (try_hold(&first) && (!first || still_held_after_settling(stop))) {
        leading_ = true;
        std::lock_guard<std::mutex> l(mu_);
        stop_renew_ = false;
        renewer_ = std::thread([this] { renew_loop(); });
        return true;
      }
      auto leader = current_leader();
      if (!leader.empty() && leader != last_leader) spdlog::info("standing by: {} leads", leader);
      last_leader = leader;
    } catch (const std::exception& e) {
      spdlog::warn("leader election (lease {}/{}): {}; retrying", ns_, name_, e.what());
    }
    auto until = Steady::now() + timing_.retry;
    while (!stop && Steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool LeaseElection::sleep_renewer(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  return !cv_.wait_for(l, d, [this] { return stop_renew_; });
}

void LeaseElection::renew_loop() {
  auto wait = timing_.renew_interval();
  while (sleep_renewer(wait)) {
    try {
      if (try_hold()) {
        wait = timing_.renew_interval();
        continue;
      }
      spdlog::warn("leader election: lease {}/{} is held by {}; no longer leading", ns_, name_, current_leader());
      leading_ = false;
      return;
    } catch (const std::exception& e) {
      spdlog::warn("leader election: renewing lease {}/{}: {}", ns_, name_, e.what());
    }
    if (!leading()) {
      spdlog::warn("leader election: could not renew lease {}/{} for {} ms; no longer leading", ns_, name_,
                   timing_.renew_deadline.count());
      leading_ = false;
      return;
    }
    wait = timing_.retry;
  }
}

bool LeaseElection::leading() const {
  if (!leading_) return false;
  return Steady::now().time_since_epoch() - std::chrono::nanoseconds(last_renew_ns_.load()) < timing_.renew_deadline;
}

void LeaseElection::stop_renewer() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_renew_ = true;
  }
  cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

void LeaseElection::resign() {
  stop_renewer();
  if (!leading_.exchange(false)) return;
  try {
    store_.update("Lease", ns_, name_, [&](json& lease) { return release_lease(lease, holder_); });
  } catch (const std::exception& e) {
    spdlog::warn("leader election: resigning lease {}/{}: {} (it expires on its own)", ns_, name_, e.what());
  }
}

std::string LeaseElection::current_leader() {
  try {
    auto lease = store_.get("Lease", ns_, name_);
    if (!lease) return "";
    auto s = read_lease(*lease);
    return lease_expired(s, WallClock::now()) ? "" : s.holder;
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace cpp::op

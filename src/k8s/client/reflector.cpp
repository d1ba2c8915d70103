#include "k8s/client/reflector.h"

#include <algorithm>

#include "common/log.h"
#include "k8s/client/watch_stream.h"

namespace cpp::k8s {
namespace {

// The watch said the version it started from is gone: relist.
struct Gone {};

}  // namespace

Reflector::Reflector(KubeClient& client, std::string kind, std::string ns, Callback cb, Options opts)
    : client_(client), kind_(std::move(kind)), ns_(std::move(ns)), cb_(std::move(cb)), opts_(opts) {}

Reflector::~Reflector() { stop(); }

bool Reflector::list_now(bool deliver) {
  try {
    list_all(deliver);
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("k8s: list {}: {}; retrying in the background", kind_, e.what());
    deliver_next_list_ = deliver;
    return false;
  }
}

void Reflector::start() { thread_ = std::thread([this] { run(); }); }

void Reflector::stop() {
  {
    std::lock_guard l(mu_);
    if (stopping_.exchange(true)) {
      if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
      return;
    }
  }
  cv_.notify_all();
  if (auto id = stream_.load()) client_.cancel(id);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Reflector::list_all(bool deliver) {
  ApiResource r = client_.resource(kind_);
  std::vector<nlohmann::json> items;
  std::string cont, version;
  for (;;) {
    nlohmann::json page;
    try {
      page = client_.call("GET", collection_path(r, ns_) +
                                     query({{"limit", std::to_string(opts_.page_size)}, {"continue", cont}}));
    } catch (const ApiError& e) {
      // The continue token outlived the server's history: start over.
      if (e.code() == 410 && !cont.empty()) {
        items.clear();
        cont.clear();
        continue;
      }
      throw;
    }
    if (!page.contains("items") || !page["items"].is_array())
      throw ApiUnavailable("kubernetes API: list " + kind_ + ": the answer has no items");
    for (auto& o : page["items"]) {
      // Lists leave kind and apiVersion out of their items; watch events and
      // the store's consumers carry them.
      o["kind"] = r.kind;
      o["apiVersion"] = r.api_version();
      items.push_back(std::move(o));
    }
    const auto& md = page.value("metadata", nlohmann::json::object());
    version = md.value("resourceVersion", "");
    cont = md.value("continue", "");
    if (cont.empty()) break;
  }
  auto events = cache_.replace(items);
  version_ = version;
  listed_ = true;
  if (deliver)
    for (const auto& e : events) cb_(e);
}

void Reflector::watch_once() {
  ApiResource r = client_.resource(kind_);
  std::string path = collection_path(r, ns_) + query({{"watch", "true"},
                                                      {"resourceVersion", version_},
                                                      {"allowWatchBookmarks", "true"},
                                                      {"timeoutSeconds", std::to_string(opts_.watch_timeout_s)}});
  WatchDecoder decoder;
  bool gone = false;
  try {
    client_.stream(
        path,
        [&](const char* data, size_t len) {
          if (stopping_) return false;
          for (auto& ev : decoder.feed(data, len)) {
            if (ev.type == "ERROR") {
              if (error_code(ev) == 410) {
                gone = true;
                return false;
              }
              throw ApiError(error_code(ev), ev.object.value("reason", ""),
                             "kubernetes API: watch " + kind_ + ": " + ev.object.value("message", ""));
            }
            std::string v = ev.object.value("metadata", nlohmann::json::object()).value("resourceVersion", "");
            if (ev.type != "BOOKMARK") {
              ev.object["kind"] = r.kind;
              if (!ev.object.contains("apiVersion")) ev.object["apiVersion"] = r.api_version();
              if (auto ce = cache_.apply(ev.type, ev.object)) cb_(*ce);
            }
            if (!v.empty()) version_ = v;
          }
          return true;
        },
        &stream_, &stopping_);
  } catch (const ApiError& e) {
    if (e.code() == 410) throw Gone{};
    throw;
  }
  stream_ = 0;
  if (gone) throw Gone{};
}

bool Reflector::sleep_backoff(std::chrono::milliseconds& backoff) {
  std::unique_lock l(mu_);
  bool stop = cv_.wait_for(l, backoff, [this] { return stopping_.load(); });
  backoff = std::min(backoff * 2, opts_.backoff_max);
  return !stop;
}

void Reflector::run() {
  auto backoff = opts_.backoff_min;
  while (!stopping_) {
    if (!listed_) {
      try {
        list_all(deliver_next_list_);
        deliver_next_list_ = true;
        backoff = opts_.backoff_min;
      } catch (const std::exception& e) {
        spdlog::warn("k8s: list {}: {}", kind_, e.what());
        if (!sleep_backoff(backoff)) return;
        continue;
      }
    }
    try {
      watch_once();
      backoff = opts_.backoff_min;
    } catch (const Gone&) {
      spdlog::info("k8s: watch {}: resourceVersion {} is gone; relisting", kind_, version_);
      listed_ = false;
    } catch (const std::exception& e) {
      if (stopping_) return;
      spdlog::warn("k8s: watch {}: {}; resuming from resourceVersion {}", kind_, e.what(), version_);
      if (!sleep_backoff(backoff)) return;
    }
  }
}

}  // namespace cpp::k8s

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "store/resource_meta.h"
#include "store/store.h"

namespace fs = std::filesystem;

namespace cpp::store {

const char* to_string(EventType t) {
  switch (t) {
    case EventType::Added: return "Added";
    case EventType::Modified: return "Modified";
    case EventType::Deleted: return "Deleted";
  }
  return "?";
}

const char* to_string(PutOutcome o) {
  switch (o) {
    case PutOutcome::Created: return "created";
    case PutOutcome::Updated: return "configured";
    case PutOutcome::Unchanged: return "unchanged";
  }
  return "?";
}

namespace {

constexpr const char* kClusterDir = "_cluster";

// Exclusive lock over the whole store directory, shared by every process
// using it. The lock file also holds the last resourceVersion handed out.
class StoreLock {
 public:
  explicit StoreLock(const std::string& dir) {
    std::string path = dir + "/.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd_);
      throw std::runtime_error("flock " + path + ": " + std::strerror(e));
    }
  }
  ~StoreLock() { ::close(fd_); }  // closing releases the flock
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

  // Next resourceVersion, never equal to `avoid` (the stored object's).
  uint64_t next_version(uint64_t avoid) {
    char buf[32] = {};
    ssize_t n = ::pread(fd_, buf, sizeof(buf) - 1, 0);
    uint64_t last = n > 0 ? std::strtoull(buf, nullptr, 10) : 0;
    uint64_t next = last + 1;
    if (next <= avoid) next = avoid + 1;
    std::string s = std::to_string(next) + "\n";
    if (::pwrite(fd_, s.data(), s.size(), 0) != static_cast<ssize_t>(s.size()) || ::ftruncate(fd_, s.size()) != 0)
      throw std::runtime_error(std::string("write resourceVersion counter: ") + std::strerror(errno));
    return next;
  }

 private:
  int fd_ = -1;
};

uint64_t version_of(const json& obj) {
  try {
    const auto& md = obj.at("metadata");
    auto it = md.find("resourceVersion");
    if (it == md.end()) return 0;
    if (it->is_string()) return std::strtoull(it->get<std::string>().c_str(), nullptr, 10);
    if (it->is_number_unsigned()) return it->get<uint64_t>();
  } catch (const std::exception&) {
  }
  return 0;
}

std::string version_string(const json& obj) {
  if (!obj.contains("metadata")) return "";
  const auto& md = obj["metadata"];
  if (!md.is_object()) return "";
  auto it = md.find("resourceVersion");
  if (it == md.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

enum class ReadStatus { Ok, Missing, Corrupt };

// Reads and parses one object file; logs (once per file version) when it is corrupt.
ReadStatus read_object(const std::string& path, json& out) {
  auto text = cpp::read_file(path);
  if (!text) return ReadStatus::Missing;
  try {
    out = json::parse(*text);
    if (!out.is_object() || !out.contains("kind") || !out["kind"].is_string() || !out.contains("metadata") ||
        !out["metadata"].is_object() || !out["metadata"].contains("name") || !out["metadata"]["name"].is_string())
      throw std::runtime_error("not a resource object (kind/metadata.name missing)");
    return ReadStatus::Ok;
  } catch (const std::exception& e) {
    spdlog::warn("store: skipping corrupt file {}: {}", path, e.what());
    return ReadStatus::Corrupt;
  }
}

std::string ns_dir_name(const KindInfo& info, const std::string& ns) {
  if (!info.namespaced) return kClusterDir;
  return ns.empty() ? std::string(kDefaultNamespace) : ns;
}

// ---- watch ----------------------------------------------------------------

struct FileStamp {
  ino_t ino = 0;
  int64_t mtime_ns = 0;
  off_t size = 0;
  bool operator==(const FileStamp&) const = default;
};

struct CachedObject {
  FileStamp stamp;
  bool corrupt = false;
  json obj;
};

// Scans <dir>/<kind>/<ns>/*.json, re-reading only files whose inode, mtime or
// size changed. Corrupt files are logged once per version and left out.
class KindScanner {
 public:
  KindScanner(std::string kind_dir, const KindInfo& info, std::string ns)
      : kind_dir_(std::move(kind_dir)), info_(info), ns_(std::move(ns)) {}

  std::map<ResourceKey, json> scan() {
    std::map<ResourceKey, json> out;
    std::map<std::string, CachedObject> next_cache;
    std::error_code ec;
    std::vector<std::string> ns_dirs;
    if (!ns_.empty() && info_.namespaced) {
      ns_dirs.push_back(kind_dir_ + "/" + ns_);
    } else {
      for (fs::directory_iterator it(kind_dir_, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec)) ns_dirs.push_back(it->path().string());
    }
    for (const auto& d : ns_dirs) {
      std::string ns_name = fs::path(d).filename().string();
      for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
        std::string path = it->path().string();
        std::string fname = it->path().filename().string();
        if (fname.size() <= 5 || fname.compare(fname.size() - 5, 5, ".json") != 0) continue;
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) continue;  // removed meanwhile
        FileStamp stamp{st.st_ino, static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                        st.st_size};
        CachedObject entry;
        auto old = cache_.find(path);
        if (old != cache_.end() && old->second.stamp == stamp) {
          entry = old->second;
        } else {
          entry.stamp = stamp;
          json obj;
          ReadStatus rs = read_object(path, obj);
          if (rs == ReadStatus::Missing) continue;
          entry.corrupt = rs == ReadStatus::Corrupt;
          if (!entry.corrupt) {
            std::string name = fname.substr(0, fname.size() - 5);
            if (obj.value("kind", std::string()) != info_.kind || obj["metadata"].value("name", std::string()) != name) {
              spdlog::warn("store: skipping {}: its kind/metadata.name do not match the path", path);
              entry.corrupt = true;
            } else {
              entry.obj = std::move(obj);
            }
          }
        }
        if (!entry.corrupt) {
          ResourceKey key{info_.kind, info_.namespaced ? ns_name : std::string(),
                          entry.obj["metadata"]["name"].get<std::string>()};
          out.emplace(std::move(key), entry.obj);
        }
        next_cache.emplace(path, std::move(entry));
      }
      ec.clear();
    }
    cache_ = std::move(next_cache);
    return out;
  }

 private:
  std::string kind_dir_;
  const KindInfo& info_;
  std::string ns_;
  std::map<std::string, CachedObject> cache_;
};

// Shared between the handle and the polling thread, so that a handle
// destroyed from inside its own callback leaves the thread valid state.
struct WatchState {
  std::unique_ptr<KindScanner> scanner;
  WatchCallback cb;
  std::chrono::milliseconds interval{200};
  std::map<ResourceKey, json> known;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;

  bool is_stopping() {
    std::lock_guard<std::mutex> g(mu);
    return stopping;
  }

  void deliver(EventType t, const json& obj) {
    if (is_stopping()) return;
    try {
      cb(t, obj);
    } catch (const std::exception& e) {
      spdlog::error("store: watch callback failed on {} event: {}", to_string(t), e.what());
    }
  }

  void poll_once() {
    std::map<ResourceKey, json> now;
    try {
      now = scanner->scan();
    } catch (const std::exception& e) {
      spdlog::warn("store: watch scan failed: {}", e.what());
      return;
    }
    for (const auto& [key, obj] : now) {
      auto old = known.find(key);
      if (old == known.end())
        deliver(EventType::Added, obj);
      else if (version_string(old->second) != version_string(obj) || old->second != obj)
        deliver(EventType::Modified, obj);
    }
    for (const auto& [key, obj] : known)
      if (!now.count(key)) deliver(EventType::Deleted, obj);
    known = std::move(now);
  }

  static void run(std::shared_ptr<WatchState> st) {
    std::unique_lock<std::mutex> lk(st->mu);
    while (!st->stopping) {
      st->cv.wait_for(lk, st->interval, [&] { return st->stopping; });
      if (st->stopping) break;
      lk.unlock();
      st->poll_once();
      lk.lock();
    }
  }
};

class PollingWatch : public WatchHandle {
 public:
  PollingWatch(std::unique_ptr<KindScanner> scanner, WatchCallback cb, std::chrono::milliseconds interval,
               bool replay)
      : st_(std::make_shared<WatchState>()) {
    st_->scanner = std::move(scanner);
    st_->cb = std::move(cb);
    st_->interval = interval;
    st_->known = st_->scanner->scan();
    if (replay)
      for (const auto& [k, obj] : st_->known) st_->deliver(EventType::Added, obj);
    thread_ = std::thread(&WatchState::run, st_);
  }

  ~PollingWatch() override {
    stop();
    if (thread_.joinable()) thread_.detach();  // only when destroyed from its own callback
  }

  void stop() override {
    {
      std::lock_guard<std::mutex> g(st_->mu);
      st_->stopping = true;
    }
    st_->cv.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

 private:
  std::shared_ptr<WatchState> st_;
  std::thread thread_;
};

// Writes obj at path in place of existing (under lock).
PutResult write_locked(StoreLock& lock, const std::string& path, json obj, const std::optional<json>& existing) {
  if (existing && without_server_fields(*existing) == without_server_fields(obj))
    return {*existing, PutOutcome::Unchanged};
  obj = with_server_fields(std::move(obj), existing);
  obj["metadata"]["resourceVersion"] = std::to_string(lock.next_version(existing ? version_of(*existing) : 0));
  cpp::write_file_atomic(path, obj.dump(2) + "\n");
  return {obj, existing ? PutOutcome::Updated : PutOutcome::Created};
}

}  // namespace

DirectoryStore::DirectoryStore(std::string dir, std::chrono::milliseconds poll_interval)
    : dir_(std::move(dir)), poll_interval_(poll_interval) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  cpp::make_dirs(dir_);
}

std::string DirectoryStore::path_for(const std::string& kind, const std::string& ns, const std::string& name) const {
  const KindInfo& info = kind_or_throw(kind);
  return dir_ + "/" + kind + "/" + ns_dir_name(info, ns) + "/" + name + ".json";
}

PutResult DirectoryStore::put(json obj) {
  obj = normalize_resource(std::move(obj));
  ResourceKey key = key_of(obj);
  std::string path = path_for(key.kind, key.ns, key.name);
  cpp::make_dirs(fs::path(path).parent_path().string());

  StoreLock lock(dir_);
  std::optional<json> existing;
  if (json stored; read_object(path, stored) == ReadStatus::Ok) existing = std::move(stored);
  return write_locked(lock, path, std::move(obj), existing);
}

std::optional<PutResult> DirectoryStore::update(const std::string& kind, const std::string& ns,
                                                const std::string& name, const Mutator& mutate) {
  const KindInfo& info = kind_or_throw(kind);
  if (!safe_component(name) || (info.namespaced && !ns.empty() && !safe_component(ns))) return std::nullopt;
  std::string path = path_for(kind, ns, name);
  // The lock makes the read, the mutation and the write one step for every
  // writer of the directory, so there is nothing to retry.
  StoreLock lock(dir_);
  json existing;
  if (read_object(path, existing) != ReadStatus::Ok) return std::nullopt;
  json obj = existing;
  if (!mutate(obj)) return PutResult{existing, PutOutcome::Unchanged};
  obj = normalize_resource(std::move(obj));
  if (key_of(obj).str() != key_of(existing).str())
    throw std::invalid_argument("update " + key_of(existing).str() + ": the mutation changed the object's identity");
  return write_locked(lock, path, std::move(obj), existing);
}

bool DirectoryStore::create(json obj) {
  obj = normalize_resource(std::move(obj));
  ResourceKey key = key_of(obj);
  std::string path = path_for(key.kind, key.ns, key.name);
  cpp::make_dirs(fs::path(path).parent_path().string());
  StoreLock lock(dir_);
  // A corrupt file still claims its name: only a missing one is free.
  if (json stored; read_object(path, stored) != ReadStatus::Missing) return false;
  write_locked(lock, path, std::move(obj), std::nullopt);
  return true;
}

std::optional<json> DirectoryStore::get(const std::string& kind, const std::string& ns, const std::string& name) {
  const KindInfo& info = kind_or_throw(kind);
  if (!safe_component(name) || (info.namespaced && !ns.empty() && !safe_component(ns))) return std::nullopt;
  json obj;
  std::string path = path_for(kind, ns, name);
  if (read_object(path, obj) != ReadStatus::Ok) return std::nullopt;
  if (obj["kind"] != kind || obj["metadata"]["name"] != name) {
    spdlog::warn("store: skipping {}: its kind/metadata.name do not match the path", path);
    return std::nullopt;
  }
  return obj;
}

std::vector<json> DirectoryStore::list(const std::string& kind, const std::string& ns) {
  const KindInfo& info = kind_or_throw(kind);
  if (info.namespaced && !ns.empty() && !safe_component(ns)) return {};
  KindScanner scanner(dir_ + "/" + kind, info, ns);
  std::vector<json> out;
  for (auto& [key, obj] : scanner.scan()) out.push_back(std::move(obj));
  return out;
}

bool DirectoryStore::remove(const std::string& kind, const std::string& ns, const std::string& name) {
  const KindInfo& info = kind_or_throw(kind);
  if (!safe_component(name) || (info.namespaced && !ns.empty() && !safe_component(ns))) return false;
  std::string path = path_for(kind, ns, name);
  StoreLock lock(dir_);
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw std::runtime_error("unlink " + path + ": " + std::strerror(errno));
}

bool DirectoryStore::remove_version(const std::string& kind, const std::string& ns, const std::string& name,
                                   const std::string& resource_version) {
  const KindInfo& info = kind_or_throw(kind);
  if (!safe_component(name) || (info.namespaced && !ns.empty() && !safe_component(ns))) return false;
  std::string path = path_for(kind, ns, name);
  StoreLock lock(dir_);
  json stored;
  if (read_object(path, stored) != ReadStatus::Ok) return false;
  if (stored["metadata"].value("resourceVersion", "") != resource_version) return false;
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw std::runtime_error("unlink " + path + ": " + std::strerror(errno));
}

std::unique_ptr<WatchHandle> DirectoryStore::watch(const std::string& kind, WatchCallback cb, WatchOptions opts) {
  const KindInfo& info = kind_or_throw(kind);
  auto scanner = std::make_unique<KindScanner>(dir_ + "/" + kind, info, opts.ns);
  return std::make_unique<PollingWatch>(std::move(scanner), std::move(cb), poll_interval_, opts.replay_existing);
}

}  // namespace cpp::store

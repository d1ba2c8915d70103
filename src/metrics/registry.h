#pragma once
// Prometheus metrics for the agent and the operator: families of counters,
// gauges and histograms with label names, plus collectors that produce
// samples at scrape time (values that live elsewhere: BPF maps, the
// endpoint manager, /proc). render() writes text exposition format 0.0.4.
//
// Hot paths keep the reference that family.with(...) returns (stable for the
// registry's lifetime); an increment is then one atomic operation.
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cpp::metrics {

enum class Type { Counter, Gauge, Histogram, Untyped };
const char* type_name(Type t);

class Counter {
 public:
  void inc(double v = 1) {
    if (v < 0) return;  // a counter never goes down
    value_.fetch_add(v, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // bounds: strictly increasing upper bounds, +Inf implied.
  explicit Histogram(std::vector<double> bounds);
  Histogram();  // default_buckets()
  void observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bound, then overflow
  std::atomic<double> sum_{0};
};

// Upstream client_golang's default buckets (seconds).
std::vector<double> default_buckets();
// start, start*factor, ... (count bounds).
std::vector<double> exponential_buckets(double start, double factor, size_t count);

using LabelValues = std::vector<std::string>;

// One sample of a collected family. suffix: "" or, for histograms,
// "_bucket" / "_sum" / "_count" (with "le" among the labels for buckets).
struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  std::string suffix;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  Type type = Type::Untyped;
  std::vector<Sample> samples;
};

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual FamilySnapshot snapshot() const = 0;

 protected:
  // Throws std::invalid_argument naming the metric when the count differs.
  void check_values(const LabelValues& values) const;
  std::vector<std::pair<std::string, std::string>> pairs(const LabelValues& values) const;
  std::string name_, help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// A family of one metric type: one child per distinct label value tuple,
// created on first use and kept for the registry's lifetime.
template <typename M>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  M& with(const LabelValues& values) {
    {
      std::shared_lock lock(mu_);
      if (auto it = children_.find(values); it != children_.end()) return *it->second;
    }
    check_values(values);
    std::unique_lock lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make();
    return *slot;
  }
  M& with(std::initializer_list<std::string_view> values) {
    return with(LabelValues(values.begin(), values.end()));
  }
  // The child of a family without labels.
  M& get() { return with(LabelValues{}); }
  FamilySnapshot snapshot() const override;
  // Children present now (tests, collectors).
  std::map<LabelValues, const M*> children() const {
    std::shared_lock lock(mu_);
    std::map<LabelValues, const M*> out;
    for (const auto& [k, v] : children_) out[k] = v.get();
    return out;
  }

 protected:
  virtual std::unique_ptr<M> make() const { return std::make_unique<M>(); }
  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<M>> children_;
};

class HistogramFamily : public Family<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);

 protected:
  std::unique_ptr<Histogram> make() const override { return std::make_unique<Histogram>(bounds_); }

 private:
  std::vector<double> bounds_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;

// Runs at every scrape; returns whole families. Must be thread-safe and
// quick (cache what is expensive). An exception skips this collector's
// families for that scrape only.
using Collector = std::function<std::vector<FamilySnapshot>()>;

class Registry {
 public:
  // Names follow Prometheus' rules ([a-zA-Z_:][a-zA-Z0-9_:]*, labels
  // [a-zA-Z_][a-zA-Z0-9_]* without a "__" prefix, no "le" on histograms);
  // a bad or duplicate name throws std::invalid_argument naming it.
  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names, std::vector<double> bounds = default_buckets());
  void add_collector(Collector c);

  // Every family, registered and collected, sorted by name; collected
  // families with the same name are merged.
  std::vector<FamilySnapshot> gather() const;
  // Text exposition format 0.0.4.
  std::string render() const;

 private:
  void reserve_name(const std::string& name);
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::vector<Collector> collectors_;
};

// Content-Type of render()'s output.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace cpp::metrics

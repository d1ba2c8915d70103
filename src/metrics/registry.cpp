#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/log.h"
#include "metrics/exposition.h"

namespace cpp::metrics {

const char* type_name(Type t) {
  switch (t) {
    case Type::Counter: return "counter";
    case Type::Gauge: return "gauge";
    case Type::Histogram: return "histogram";
    case Type::Untyped: break;
  }
  return "untyped";
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

Histogram::Histogram() : Histogram(default_buckets()) {}

void Histogram::observe(double v) {
  // First bound >= v: Prometheus buckets are "less than or equal".
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  // _count is derived from the buckets so that +Inf and _count always agree,
  // even while observations race with the scrape.
  Snapshot s;
  s.bounds = bounds_;
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    acc += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(acc);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> default_buckets() { return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; }

std::vector<double> exponential_buckets(double start, double factor, size_t count) {
  if (start <= 0 || factor <= 1 || count == 0)
    throw std::invalid_argument("exponential buckets need start > 0, factor > 1 and count > 0");
  std::vector<double> out;
  for (size_t i = 0; i < count; ++i, start *= factor) out.push_back(start);
  return out;
}

FamilyBase::FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  if (!valid_metric_name(name_)) throw std::invalid_argument("metric name '" + name_ + "' is not valid");
  for (size_t i = 0; i < label_names_.size(); ++i) {
    const auto& l = label_names_[i];
    if (!valid_label_name(l)) throw std::invalid_argument("metric " + name_ + ": label name '" + l + "' is not valid");
    if (type_ == Type::Histogram && l == "le")
      throw std::invalid_argument("metric " + name_ + ": label 'le' is reserved for histogram buckets");
    if (std::find(label_names_.begin(), label_names_.begin() + static_cast<long>(i), l) !=
        label_names_.begin() + static_cast<long>(i))
      throw std::invalid_argument("metric " + name_ + ": label '" + l + "' appears twice");
  }
}

void FamilyBase::check_values(const LabelValues& values) const {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metric " + name_ + ": " + std::to_string(values.size()) + " label values for " +
                                std::to_string(label_names_.size()) + " labels");
}

std::vector<std::pair<std::string, std::string>> FamilyBase::pairs(const LabelValues& values) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < values.size(); ++i) out.emplace_back(label_names_[i], values[i]);
  return out;
}

template <>
FamilySnapshot Family<Counter>::snapshot() const {
  FamilySnapshot f{name_, help_, type_, {}};
  std::shared_lock lock(mu_);
  for (const auto& [values, c] : children_) f.samples.push_back({pairs(values), c->value(), ""});
  return f;
}

template <>
FamilySnapshot Family<Gauge>::snapshot() const {
  FamilySnapshot f{name_, help_, type_, {}};
  std::shared_lock lock(mu_);
  for (const auto& [values, g] : children_) f.samples.push_back({pairs(values), g->value(), ""});
  return f;
}

template <>
FamilySnapshot Family<Histogram>::snapshot() const {
  FamilySnapshot f{name_, help_, type_, {}};
  std::shared_lock lock(mu_);
  for (const auto& [values, h] : children_) {
    auto s = h->snapshot();
    auto base = pairs(values);
    for (size_t i = 0; i < s.cumulative.size(); ++i) {
      auto l = base;
      l.emplace_back("le", i < s.bounds.size() ? format_value(s.bounds[i]) : "+Inf");
      f.samples.push_back({std::move(l), static_cast<double>(s.cumulative[i]), "_bucket"});
    }
    f.samples.push_back({base, s.sum, "_sum"});
    f.samples.push_back({base, static_cast<double>(s.cumulative.back()), "_count"});
  }
  return f;
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds)
    : Family<Histogram>(std::move(name), std::move(help), Type::Histogram, std::move(label_names)),
      bounds_(std::move(bounds)) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (std::isnan(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1]))
      throw std::invalid_argument("metric " + name_ + ": bucket bounds must be strictly increasing");
  }
  // +Inf is always the last bucket; an explicit one would appear twice.
  if (!bounds_.empty() && std::isinf(bounds_.back()) && bounds_.back() > 0) bounds_.pop_back();
}

void Registry::reserve_name(const std::string& name) {
  for (const auto& f : families_)
    if (f->name() == name) throw std::invalid_argument("metric " + name + " is registered twice");
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  auto f = std::make_unique<CounterFamily>(name, help, Type::Counter, std::move(label_names));
  std::lock_guard lock(mu_);
  reserve_name(name);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  auto f = std::make_unique<GaugeFamily>(name, help, Type::Gauge, std::move(label_names));
  std::lock_guard lock(mu_);
  reserve_name(name);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names, std::vector<double> bounds) {
  auto f = std::make_unique<HistogramFamily>(name, help, std::move(label_names), std::move(bounds));
  std::lock_guard lock(mu_);
  reserve_name(name);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

void Registry::add_collector(Collector c) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(c));
}

std::vector<FamilySnapshot> Registry::gather() const {
  std::vector<const FamilyBase*> families;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& f : families_) families.push_back(f.get());
    collectors = collectors_;
  }
  std::map<std::string, FamilySnapshot> by_name;
  auto add = [&](FamilySnapshot&& f) {
    if (!valid_metric_name(f.name)) {
      spdlog::warn("metrics: collector produced an invalid metric name '{}'; skipped", f.name);
      return;
    }
    auto [it, fresh] = by_name.try_emplace(f.name, std::move(f));
    if (fresh) return;
    if (it->second.type != f.type) {
      spdlog::warn("metrics: {} produced as both {} and {}; kept the first", f.name, type_name(it->second.type),
                   type_name(f.type));
      return;
    }
    for (auto& s : f.samples) it->second.samples.push_back(std::move(s));
  };
  for (const auto* f : families) add(f->snapshot());
  for (const auto& c : collectors) {
    try {
      for (auto& f : c()) add(std::move(f));
    } catch (const std::exception& e) {
      spdlog::warn("metrics: collector failed: {}", e.what());
    }
  }
  std::vector<FamilySnapshot> out;
  for (auto& [_, f] : by_name) out.push_back(std::move(f));
  return out;
}

std::string Registry::render() const {
  std::string out;
  for (const auto& f : gather()) write_family(out, f);
  return out;
}

}  // namespace cpp::metrics

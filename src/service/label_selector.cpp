#include "service/label_selector.h"

#include <algorithm>

#include "service/json_read.h"

namespace cpp::service {

using namespace json_read;

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (auto& r : reqs) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelRequirement::Op::In:
        if (!in) return false;
        break;
      case LabelRequirement::Op::NotIn:
        if (in) return false;
        break;
      case LabelRequirement::Op::Exists:
        if (!has) return false;
        break;
      case LabelRequirement::Op::DoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

LabelSelector parse_label_selector(const nlohmann::json& j, const std::string& path) {
  LabelSelector sel;
  if (j.is_null()) return sel;
  expect_object(j, path);
  for (auto& [k, v] : string_map(j, "matchLabels", path)) {
    if (k.empty()) fail(path + ".matchLabels", "empty key");
    sel.reqs.push_back({k, LabelRequirement::Op::In, {v}});
  }
  if (auto* exprs = member(j, "matchExpressions", path)) {
    std::string ep = path + ".matchExpressions";
    expect_array(*exprs, ep);
    for (size_t i = 0; i < exprs->size(); ++i) {
      std::string p = ep + "[" + std::to_string(i) + "]";
      auto& e = (*exprs)[i];
      expect_object(e, p);
      LabelRequirement r;
      auto key = opt_string(e, "key", p);
      if (!key || key->empty()) fail(p + ".key", "missing");
      r.key = *key;
      auto op = opt_string(e, "operator", p);
      if (!op) fail(p + ".operator", "missing");
      if (*op == "In") r.op = LabelRequirement::Op::In;
      else if (*op == "NotIn") r.op = LabelRequirement::Op::NotIn;
      else if (*op == "Exists") r.op = LabelRequirement::Op::Exists;
      else if (*op == "DoesNotExist") r.op = LabelRequirement::Op::DoesNotExist;
      else fail(p + ".operator", "must be In, NotIn, Exists or DoesNotExist, got \"" + *op + "\"");
      if (auto* vals = member(e, "values", p)) {
        expect_array(*vals, p + ".values");
        for (size_t k = 0; k < vals->size(); ++k)
          r.values.push_back(get_string((*vals)[k], p + ".values[" + std::to_string(k) + "]"));
      }
      bool set_op = r.op == LabelRequirement::Op::In || r.op == LabelRequirement::Op::NotIn;
      if (set_op && r.values.empty()) fail(p + ".values", *op + " needs at least one value");
      if (!set_op && !r.values.empty()) fail(p + ".values", *op + " takes no values");
      sel.reqs.push_back(std::move(r));
    }
  }
  return sel;
}

}  // namespace cpp::service

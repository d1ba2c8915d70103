#include "hubble/label_query.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace cpp::hubble {
namespace {

bool key_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '/' || c == ':'; }
bool value_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  std::vector<LabelQuery::Requirement> run() {
    std::vector<LabelQuery::Requirement> reqs;
    skip_ws();
    if (at_end()) return reqs;
    for (;;) {
      reqs.push_back(requirement());
      skip_ws();
      if (at_end()) return reqs;
      if (s_[pos_] != ',') fail(std::string("unexpected '") + s_[pos_] + "'");
      ++pos_;
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(what + " at position " + std::to_string(pos_) + " of label selector \"" +
                                std::string(s_) + "\"");
  }
  bool at_end() const { return pos_ >= s_.size(); }
  void skip_ws() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(std::string_view tok) {
    if (s_.substr(pos_, tok.size()) != tok) return false;
    pos_ += tok.size();
    return true;
  }

  std::string_view word(bool (*ok)(char)) {
    size_t start = pos_;
    while (!at_end() && ok(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  LabelQuery::Requirement requirement() {
    LabelQuery::Requirement r;
    skip_ws();
    bool negated = eat("!");
    skip_ws();
    std::string_view key = word(key_char);
    if (key.empty()) fail("expected a label key");
    set_key(r, key);
    if (negated) {
      r.op = LabelQuery::Op::DoesNotExist;
      return r;
    }
    skip_ws();
    if (at_end() || s_[pos_] == ',') {
      r.op = LabelQuery::Op::Exists;
    } else if (eat("!=")) {
      r.op = LabelQuery::Op::NotIn;
      r.values.push_back(single_value());
    } else if (eat("==") || eat("=")) {
      r.op = LabelQuery::Op::In;
      r.values.push_back(single_value());
    } else if (eat(">")) {
      r.op = LabelQuery::Op::Gt;
      r.number = integer();
    } else if (eat("<")) {
      r.op = LabelQuery::Op::Lt;
      r.number = integer();
    } else {
      std::string_view op = word([](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
      if (op == "in")
        r.op = LabelQuery::Op::In;
      else if (op == "notin")
        r.op = LabelQuery::Op::NotIn;
      else
        fail("expected an operator (=, ==, !=, in, notin, >, <)");
      r.values = value_set();
    }
    return r;
  }

  void set_key(LabelQuery::Requirement& r, std::string_view key) {
    auto colon = key.find(':');
    if (colon != std::string_view::npos) {
      r.source = std::string(key.substr(0, colon));
      key = key.substr(colon + 1);
      if (r.source == "any") r.source.clear();
      if (r.source.empty() && colon == 0) fail("empty label source");
      if (key.empty() || key.find(':') != std::string_view::npos) fail("invalid label key");
    }
    r.key = std::string(key);
  }

  std::string single_value() {
    skip_ws();
    return std::string(word(value_char));
  }

  int64_t integer() {
    skip_ws();
    std::string_view digits = word([](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-'; });
    int64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) fail("expected an integer");
    return n;
  }

  std::vector<std::string> value_set() {
    skip_ws();
    if (!eat("(")) fail("expected '('");
    std::vector<std::string> vals;
    for (;;) {
      vals.push_back(single_value());
      skip_ws();
      if (eat(")")) break;
      if (!eat(",")) fail("expected ',' or ')'");
    }
    if (vals.size() == 1 && vals[0].empty()) fail("empty value set");
    return vals;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

struct LabelParts {
  std::string_view source, key, value;
};

// "k8s:app=web" → {k8s, app, web}; a ':' after the '=' belongs to the value.
LabelParts split_label(std::string_view l) {
  LabelParts p;
  auto eq = l.find('=');
  auto colon = l.find(':');
  if (colon != std::string_view::npos && (eq == std::string_view::npos || colon < eq)) {
    p.source = l.substr(0, colon);
    l = l.substr(colon + 1);
    if (eq != std::string_view::npos) eq -= colon + 1;
  }
  p.key = l.substr(0, eq);
  if (eq != std::string_view::npos) p.value = l.substr(eq + 1);
  return p;
}

bool holds(const LabelQuery::Requirement& r, std::string_view value) {
  switch (r.op) {
    case LabelQuery::Op::In:
    case LabelQuery::Op::NotIn:
      return std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    case LabelQuery::Op::Gt:
    case LabelQuery::Op::Lt: {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) return false;
      return r.op == LabelQuery::Op::Gt ? n > r.number : n < r.number;
    }
    default:
      return true;
  }
}

bool matches_one(const LabelQuery::Requirement& r, const std::vector<std::string>& labels) {
  bool found = false, held = false;
  for (const auto& l : labels) {
    LabelParts p = split_label(l);
    if (p.key != r.key || (!r.source.empty() && p.source != r.source)) continue;
    found = true;
    if (holds(r, p.value)) held = true;
  }
  switch (r.op) {
    case LabelQuery::Op::Exists: return found;
    case LabelQuery::Op::DoesNotExist: return !found;
    case LabelQuery::Op::NotIn: return !held;
    default: return held;
  }
}

}  // namespace

LabelQuery LabelQuery::parse(std::string_view selector) {
  LabelQuery q;
  q.reqs_ = Parser(selector).run();
  return q;
}

bool LabelQuery::matches(const std::vector<std::string>& labels) const {
  return std::all_of(reqs_.begin(), reqs_.end(), [&](const Requirement& r) { return matches_one(r, labels); });
}

}  // namespace cpp::hubble

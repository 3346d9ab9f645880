#include "optimize/objective.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>

namespace alphalab::optimize {

namespace {

std::string FormatNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

Status Bad(std::string_view text, std::string why) {
  return Status::InvalidArgument("constraint '" + std::string(text) + "': " + why);
}

bool IsNameStart(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

}  // namespace

std::string_view DirectionName(Direction d) { return d == Direction::kMax ? "max" : "min"; }

std::optional<Direction> ParseDirection(std::string_view name) {
  if (name == "max") return Direction::kMax;
  if (name == "min") return Direction::kMin;
  return std::nullopt;
}

std::string_view CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kLe: return "<=";
    case CompareOp::kLt: return "<";
    case CompareOp::kGe: return ">=";
    case CompareOp::kGt: return ">";
    case CompareOp::kEq: return "==";
    case CompareOp::kNe: return "!=";
  }
  return "?";
}

bool Constraint::Holds(double value) const {
  switch (op) {
    case CompareOp::kLe: return value <= rhs;
    case CompareOp::kLt: return value < rhs;
    case CompareOp::kGe: return value >= rhs;
    case CompareOp::kGt: return value > rhs;
    case CompareOp::kEq: return value == rhs;
    case CompareOp::kNe: return value != rhs;
  }
  return false;
}

Result<Constraint> ParseConstraint(std::string_view text) {
  Constraint c;
  c.text = std::string(text);
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  skip_ws();
  if (i == text.size()) return Bad(text, "is empty");
  if (text[i] == '"') {
    ++i;
    bool closed = false;
    while (i < text.size()) {
      const char ch = text[i++];
      if (ch == '\\') {
        if (i == text.size()) break;
        const char esc = text[i++];
        if (esc != '"' && esc != '\\') return Bad(text, "only \\\" and \\\\ may be escaped in a quoted name");
        c.metric += esc;
      } else if (ch == '"') {
        closed = true;
        break;
      } else {
        c.metric += ch;
      }
    }
    if (!closed) return Bad(text, "the quoted metric name is not closed");
    if (c.metric.empty()) return Bad(text, "the metric name is empty");
  } else {
    if (!IsNameStart(text[i])) {
      return Bad(text, "must start with a metric name (letters, digits, '_', '.', '-'; quote names with spaces)");
    }
    while (i < text.size() && IsNameChar(text[i])) c.metric += text[i++];
  }
  skip_ws();
  if (i == text.size()) return Bad(text, "has no comparison operator (<=, <, >=, >, ==, !=)");
  auto starts = [&](std::string_view op) { return text.substr(i, op.size()) == op; };
  if (starts("<=")) {
    c.op = CompareOp::kLe;
    i += 2;
  } else if (starts(">=")) {
    c.op = CompareOp::kGe;
    i += 2;
  } else if (starts("==")) {
    c.op = CompareOp::kEq;
    i += 2;
  } else if (starts("!=")) {
    c.op = CompareOp::kNe;
    i += 2;
  } else if (starts("<")) {
    c.op = CompareOp::kLt;
    i += 1;
  } else if (starts(">")) {
    c.op = CompareOp::kGt;
    i += 1;
  } else {
    return Bad(text, "has no comparison operator (<=, <, >=, >, ==, !=) after '" + c.metric + "'");
  }
  skip_ws();
  size_t end = text.size();
  while (end > i && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  std::string_view number = text.substr(i, end - i);
  bool percent = false;
  if (!number.empty() && number.back() == '%') {
    percent = true;
    number.remove_suffix(1);
  }
  if (number.empty()) return Bad(text, "has no number after the operator");
  double v = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (ec != std::errc() || ptr != number.data() + number.size() || !std::isfinite(v)) {
    return Bad(text, "the right-hand side '" + std::string(number) + "' is not a finite number");
  }
  c.rhs = percent ? v / 100.0 : v;
  return c;
}

Evaluation Evaluate(const Objective& objective, const std::vector<Constraint>& constraints,
                    const MetricMap& metrics) {
  Evaluation e;
  auto score = metrics.find(objective.metric);
  if (score == metrics.end()) {
    e.reason = "objective metric '" + objective.metric + "' is not in the task's results";
    return e;
  }
  for (const auto& c : constraints) {
    auto it = metrics.find(c.metric);
    if (it == metrics.end()) {
      e.reason = "constraint '" + c.text + "': metric '" + c.metric + "' is not in the task's results";
      return e;
    }
    if (!c.Holds(it->second)) {
      e.violated = true;
      e.reason = "constraint '" + c.text + "' violated (" + c.metric + " = " + FormatNumber(it->second) + ")";
      return e;
    }
  }
  e.score = score->second;
  return e;
}

}  // namespace alphalab::optimize

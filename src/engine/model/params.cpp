#include "engine/model/params.hpp"

#include <cmath>
#include <cstdio>
#include <vector>

namespace alphalab::engine {

namespace {

constexpr ModelParamSpec kSpecs[] = {
    {"num_round", true, 200, 1, 100000, false, false, "boosting rounds (trees) to add"},
    {"early_stopping_rounds", true, 0, 0, 100000, false, false,
     "stop when valid logloss has not improved for this many rounds and keep the best round (0 = off)"},
    {"max_depth", true, 4, 1, 32, false, true, "maximum tree depth"},
    {"eta", false, 0.1, 0, 1, true, true, "learning rate (shrinkage of each tree)"},
    {"subsample", false, 1, 0, 1, true, true, "share of training rows sampled per tree"},
    {"colsample_bytree", false, 1, 0, 1, true, true, "share of features sampled per tree"},
    {"min_child_weight", false, 1, 0, 1e9, false, true, "minimum sum of hessian in a leaf"},
    {"lambda", false, 1, 0, 1e9, false, true, "L2 regularization on leaf weights"},
    {"alpha", false, 0, 0, 1e9, false, true, "L1 regularization on leaf weights"},
    {"scale_pos_weight", false, 1, 0, 1e9, true, true, "weight of positive rows (class imbalance)"},
    {"seed", true, 0, 0, 2147483647, false, true, "random seed (row/column sampling)"},
    {"nthread", true, 0, 0, 1024, false, true, "threads (0 = all cores)"},
};

const ModelParamSpec* FindSpec(std::string_view name) {
  for (const auto& s : kSpecs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string RangeText(const ModelParamSpec& s) {
  return std::string(s.min_exclusive ? "(" : "[") + FormatNumber(s.min) + ", " + FormatNumber(s.max) + "]";
}

}  // namespace

std::span<const ModelParamSpec> XgbParamSpecs() { return kSpecs; }

XgbParams::XgbParams() {
  for (const auto& s : kSpecs) values_[std::string(s.name)] = s.default_value;
}

double XgbParams::Get(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::nan("") : it->second;
}

Status XgbParams::Set(std::string_view name, double value) {
  const ModelParamSpec* spec = FindSpec(name);
  if (spec == nullptr) {
    std::string known;
    for (const auto& s : kSpecs) known += (known.empty() ? "" : ", ") + std::string(s.name);
    return Status::InvalidArgument("unknown model parameter '" + std::string(name) + "' (known: " + known + ")");
  }
  const bool below = spec->min_exclusive ? !(value > spec->min) : !(value >= spec->min);
  if (!std::isfinite(value) || below || value > spec->max) {
    return Status::InvalidArgument("model parameter '" + std::string(name) + "' = " + FormatNumber(value) +
                                   " is outside " + RangeText(*spec) + " (" + std::string(spec->description) + ")");
  }
  if (spec->integer && value != std::floor(value)) {
    return Status::InvalidArgument("model parameter '" + std::string(name) + "' must be an integer, got " +
                                   FormatNumber(value));
  }
  values_[std::string(name)] = value;
  return Status::Ok();
}

Result<XgbParams> XgbParams::FromConfig(const ConfigMap& params) {
  XgbParams out;
  if (!params.node() || params.node().IsNull()) return out;
  if (!params.node().IsMap()) return Status::InvalidArgument("config key '" + params.where() + "' must be a mapping");
  std::vector<std::string_view> known;
  for (const auto& s : kSpecs) known.push_back(s.name);
  RETURN_IF_ERROR(params.CheckKnownKeys(known));
  for (const auto& s : kSpecs) {
    if (!params.Has(s.name)) continue;
    double v = 0;
    if (s.integer) {
      ASSIGN_OR_RETURN(const int64_t i, params.Int(s.name));
      v = static_cast<double>(i);
    } else {
      ASSIGN_OR_RETURN(v, params.Double(s.name));
    }
    const Status st = out.Set(s.name, v);
    if (!st.ok()) return Status::InvalidArgument("config key '" + params.KeyPath(s.name) + "': " + st.message());
  }
  return out;
}

std::map<std::string, std::string> XgbParams::BoosterParams() const {
  std::map<std::string, std::string> out{
      {"objective", "binary:logistic"}, {"tree_method", "hist"}, {"eval_metric", "logloss"}, {"verbosity", "1"}};
  for (const auto& s : kSpecs) {
    if (!s.booster_param) continue;
    out[std::string(s.name)] = FormatNumber(Get(s.name));
  }
  return out;
}

Json XgbParams::ToJson() const {
  Json j = Json::object();
  for (const auto& s : kSpecs) {
    const double v = Get(s.name);
    if (s.integer) {
      j[std::string(s.name)] = static_cast<int64_t>(v);
    } else {
      j[std::string(s.name)] = v;
    }
  }
  return j;
}

}  // namespace alphalab::engine

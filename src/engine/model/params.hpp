// XGBoost training parameters: declared once, with default, range and description
// (the pattern of xgboost src/tree/param.h). `model.params` in a training config may set
// any of them; an unknown name or a value outside its range is an InvalidArgument naming
// the key. Objective (binary:logistic), tree_method (hist) and eval_metric (logloss) are fixed.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"
#include "engine/data/config.hpp"

namespace alphalab::engine {

struct ModelParamSpec {
  std::string_view name;
  bool integer;              // value must be a whole number
  double default_value;
  double min;
  double max;
  bool min_exclusive;        // (min, max] instead of [min, max]
  bool booster_param;        // passed to XGBoosterSetParam (else used by the training loop)
  std::string_view description;
};

std::span<const ModelParamSpec> XgbParamSpecs();

class XgbParams {
 public:
  // Every parameter at its default.
  XgbParams();
  // Reads `model.params` (a mapping; absent keys take defaults).
  static Result<XgbParams> FromConfig(const ConfigMap& params);

  double Get(std::string_view name) const;
  Status Set(std::string_view name, double value);  // range-checked

  int num_round() const { return static_cast<int>(Get("num_round")); }
  int early_stopping_rounds() const { return static_cast<int>(Get("early_stopping_rounds")); }
  int nthread() const { return static_cast<int>(Get("nthread")); }
  // name -> value as XGBoosterSetParam strings, including the fixed ones.
  std::map<std::string, std::string> BoosterParams() const;
  Json ToJson() const;

 private:
  std::map<std::string, double, std::less<>> values_;
};

}  // namespace alphalab::engine

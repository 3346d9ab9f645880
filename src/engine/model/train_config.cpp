#include "engine/model/train_config.hpp"

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "engine/data/config.hpp"

namespace alphalab::engine {

std::string_view TrainScopeName(TrainScope s) { return s == TrainScope::kPooled ? "pooled" : "per_ticker"; }

namespace {

Result<int32_t> RequiredDate(const ConfigMap& map, std::string_view key) {
  ASSIGN_OR_RETURN(const auto date, map.OptionalDate(key));
  if (!date) return Status::InvalidArgument("missing config key '" + map.KeyPath(key) + "' (YYYY-MM-DD)");
  return *date;
}

}  // namespace

Result<TrainConfig> ParseTrainConfig(const YAML::Node& root) {
  if (!root || !root.IsMap()) return Status::InvalidArgument("training config must be a YAML mapping");
  const ConfigMap top(root, "");
  RETURN_IF_ERROR(top.CheckKnownKeys({"dataset", "tickers", "label", "split", "model", "mode", "project", "scope",
                                      "finetune", "decision_threshold", "feature_set"}));
  TrainConfig c;
  ASSIGN_OR_RETURN(c.dataset, top.String("dataset"));
  if (c.dataset.empty()) return Status::InvalidArgument("config key 'dataset' is empty");

  if (!top.Has("tickers")) return Status::InvalidArgument("missing config key 'tickers' (a list, or 'all')");
  ASSIGN_OR_RETURN(c.tickers, top.StringList("tickers"));
  if (c.tickers.empty()) return Status::InvalidArgument("config key 'tickers' is empty (use 'all' for every instrument)");
  if (c.tickers.size() == 1 && (c.tickers[0] == "all" || c.tickers[0] == "ALL")) c.tickers.clear();
  for (size_t i = 0; i < c.tickers.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (c.tickers[i] == c.tickers[j]) return Status::InvalidArgument("config key 'tickers' lists " + c.tickers[i] + " twice");
    }
  }

  ASSIGN_OR_RETURN(const ConfigMap label, top.Map("label", /*required=*/true));
  RETURN_IF_ERROR(label.CheckKnownKeys({"horizon_days", "threshold"}));
  ASSIGN_OR_RETURN(const int64_t horizon, label.Int("horizon_days"));
  if (horizon < 1 || horizon > 2520) {
    return Status::InvalidArgument("config key 'label.horizon_days' must be in [1, 2520], got " + std::to_string(horizon));
  }
  c.horizon_days = static_cast<int>(horizon);
  ASSIGN_OR_RETURN(c.threshold, label.Double("threshold"));
  if (!(c.threshold > -1.0 && c.threshold < 100.0)) {
    return Status::InvalidArgument("config key 'label.threshold' must be a return in (-1, 100)");
  }

  ASSIGN_OR_RETURN(const ConfigMap split, top.Map("split", /*required=*/true));
  RETURN_IF_ERROR(split.CheckKnownKeys({"train_end", "valid_end", "gap_days"}));
  ASSIGN_OR_RETURN(c.split.train_end, RequiredDate(split, "train_end"));
  ASSIGN_OR_RETURN(c.split.valid_end, RequiredDate(split, "valid_end"));
  if (c.split.train_end >= c.split.valid_end) {
    return Status::InvalidArgument("split.train_end (" + FormatDate(c.split.train_end) +
                                   ") must be before split.valid_end (" + FormatDate(c.split.valid_end) + ")");
  }
  ASSIGN_OR_RETURN(const int64_t gap, split.Int("gap_days", 0));
  if (gap < 0 || gap > 2520) return Status::InvalidArgument("config key 'split.gap_days' must be in [0, 2520]");
  c.split.gap_days = static_cast<int>(gap);
  c.split.horizon_days = c.horizon_days;

  ASSIGN_OR_RETURN(const ConfigMap model, top.Map("model", /*required=*/true));
  RETURN_IF_ERROR(model.CheckKnownKeys({"type", "params"}));
  ASSIGN_OR_RETURN(const std::string type, model.String("type", std::string("xgboost")));
  if (type != "xgboost") return Status::InvalidArgument("config key 'model.type' must be 'xgboost', got '" + type + "'");
  ASSIGN_OR_RETURN(const ConfigMap params, model.Map("params"));
  ASSIGN_OR_RETURN(c.params, XgbParams::FromConfig(params));

  ASSIGN_OR_RETURN(c.mode, top.String("mode", std::string("base")));
  if (c.mode != "base" && c.mode != "finetune") {
    return Status::InvalidArgument("config key 'mode' must be 'base' or 'finetune', got '" + c.mode + "'");
  }
  ASSIGN_OR_RETURN(c.project, top.String("project", std::string("default")));
  if (!IsSafeIdentifier(c.project)) {
    return Status::InvalidArgument("config key 'project' must match [A-Za-z0-9_.-]{1,128}, got '" + c.project + "'");
  }
  ASSIGN_OR_RETURN(const std::string scope, top.String("scope", std::string("per_ticker")));
  if (scope == "per_ticker") {
    c.scope = TrainScope::kPerTicker;
  } else if (scope == "pooled") {
    c.scope = TrainScope::kPooled;
  } else {
    return Status::InvalidArgument("config key 'scope' must be 'per_ticker' or 'pooled', got '" + scope + "'");
  }

  if (c.mode == "finetune") {
    if (!top.Has("finetune")) {
      return Status::InvalidArgument("mode: finetune needs 'finetune: {base_run: <run_id>, start: YYYY-MM-DD}'");
    }
    ASSIGN_OR_RETURN(const ConfigMap ft, top.Map("finetune", /*required=*/true));
    RETURN_IF_ERROR(ft.CheckKnownKeys({"base_run", "start"}));
    ASSIGN_OR_RETURN(c.finetune_base_run, ft.String("base_run"));
    if (!IsSafeIdentifier(c.finetune_base_run)) {
      return Status::InvalidArgument("config key 'finetune.base_run' is not a run id: '" + c.finetune_base_run + "'");
    }
    ASSIGN_OR_RETURN(c.finetune_start, RequiredDate(ft, "start"));
    if (*c.finetune_start > c.split.train_end) {
      return Status::InvalidArgument("finetune.start (" + FormatDate(*c.finetune_start) +
                                     ") must be on or before split.train_end (" + FormatDate(c.split.train_end) + ")");
    }
  } else if (top.Has("finetune") && !top.node()["finetune"].IsNull()) {
    return Status::InvalidArgument("config key 'finetune' is only allowed with mode: finetune");
  }

  ASSIGN_OR_RETURN(c.decision_threshold, top.Double("decision_threshold", 0.5));
  if (!(c.decision_threshold > 0.0 && c.decision_threshold < 1.0)) {
    return Status::InvalidArgument("config key 'decision_threshold' must be in (0, 1)");
  }
  ASSIGN_OR_RETURN(const std::string fs_name, top.String("feature_set", std::string("default")));
  if (fs_name != DefaultFeatureSet().name) {
    return Status::InvalidArgument("config key 'feature_set': unknown feature set '" + fs_name + "' (known: default)");
  }
  c.feature_set = DefaultFeatureSet();
  return c;
}

}  // namespace alphalab::engine

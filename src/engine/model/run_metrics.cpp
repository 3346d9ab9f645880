#include "engine/model/run_metrics.hpp"

#include <algorithm>
#include <limits>

#include "core/clock.hpp"
#include "engine/metrics/classification.hpp"

namespace alphalab::engine {

Json ClassificationMetricsJson(const std::vector<int>& labels, const std::vector<int>& predictions) {
  return ComputeClassification(labels, predictions).ToJson();
}

Json TickerMetricsEntry(Json metrics, const TrainConfig& c, const std::string& model_path) {
  metrics["label_horizon_days"] = c.horizon_days;
  metrics["label_threshold"] = c.threshold;
  metrics["model_path"] = model_path;
  return metrics;
}

Json SplitSummaryJson(const std::vector<LabeledSeries>& labeled, const TrainConfig& c) {
  struct Range {
    size_t rows = 0;
    int32_t first = std::numeric_limits<int32_t>::max();
    int32_t last = std::numeric_limits<int32_t>::min();
  };
  Range ranges[4];
  Json per_ticker = Json::object();
  for (const auto& ls : labeled) {
    size_t counts[4] = {0, 0, 0, 0};
    for (size_t t = 0; t < ls.splits.size(); ++t) {
      const Split s = ls.splits[t];
      if (s == Split::kNone) continue;
      const int32_t d = ls.bars->date[t];
      if (s == Split::kTrain && c.finetune_start && d < *c.finetune_start) continue;
      Range& r = ranges[static_cast<int>(s)];
      ++r.rows;
      r.first = std::min(r.first, d);
      r.last = std::max(r.last, d);
      ++counts[static_cast<int>(s)];
    }
    per_ticker[ls.bars->symbol] = Json{{"train_rows", counts[1]}, {"valid_rows", counts[2]}, {"test_rows", counts[3]}};
  }
  auto range_json = [](const Range& r) {
    return Json{{"rows", r.rows},
                {"start", r.rows ? Json(FormatDate(r.first)) : Json(nullptr)},
                {"end", r.rows ? Json(FormatDate(r.last)) : Json(nullptr)}};
  };
  Json j{{"rule",
          "per ticker: train = dates <= train_end minus the last gap_bars bars; valid = train_end < date <= "
          "valid_end minus the last gap_bars bars; test = date > valid_end; gap_bars = max(gap_days, "
          "horizon_days); rows need complete features and a defined label"},
         {"gap_bars", c.split.Gap()},
         {"train_end", FormatDate(c.split.train_end)},
         {"valid_end", FormatDate(c.split.valid_end)},
         {"train", range_json(ranges[1])},
         {"valid", range_json(ranges[2])},
         {"test", range_json(ranges[3])},
         {"per_ticker", per_ticker}};
  if (c.finetune_start) j["finetune_start"] = FormatDate(*c.finetune_start);
  return j;
}

Json RunMetricsJson(const RunManifest& m, const TrainConfig& c, Json split, Json per_ticker) {
  return Json{{"run_id", m.run_id},
              {"project", m.project},
              {"mode", m.mode},
              {"status", m.status},
              {"start_time", m.start_time},
              {"end_time", m.end_time},
              {"label_horizon_days", c.horizon_days},
              {"label_threshold", c.threshold},
              {"dataset", m.dataset},
              {"config_path", m.config_path},
              {"resolved_config_path", m.resolved_config_path},
              {"scope", m.scope},
              {"decision_threshold", c.decision_threshold},
              {"feature_set", m.feature_set.ToJson()},
              {"per_ticker", std::move(per_ticker)},
              {"split", std::move(split)}};
}

}  // namespace alphalab::engine

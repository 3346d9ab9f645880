#include "engine/features/feature_set.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <map>

namespace alphalab::engine {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Column = std::vector<double>;
using FeatureFn = std::function<void(const OhlcvView&, Column&)>;

bool Finite(double x) { return std::isfinite(x); }

// c[t] / c[t-k] - 1
FeatureFn Return(size_t k) {
  return [k](const OhlcvView& b, Column& out) {
    for (size_t t = k; t < b.size(); ++t) {
      const double prev = b.close[t - k];
      if (Finite(prev) && prev > 0 && Finite(b.close[t])) out[t] = b.close[t] / prev - 1.0;
    }
  };
}

// c[t] / mean(c[t-k+1..t]) - 1, with a running sum that is rebuilt after a non-finite value.
FeatureFn SmaRatio(size_t k) {
  return [k](const OhlcvView& b, Column& out) {
    double sum = 0;
    size_t finite_run = 0;  // consecutive finite closes ending at t
    for (size_t t = 0; t < b.size(); ++t) {
      const double c = b.close[t];
      if (!Finite(c)) {
        sum = 0;
        finite_run = 0;
        continue;
      }
      sum += c;
      ++finite_run;
      if (finite_run > k) sum -= b.close[t - k];
      if (finite_run >= k) {
        const double mean = sum / static_cast<double>(k);
        if (mean > 0) out[t] = c / mean - 1.0;
      }
    }
  };
}

// Sample std-dev of the last k log returns (two-pass over the window: exact, windows are short).
FeatureFn Volatility(size_t k) {
  return [k](const OhlcvView& b, Column& out) {
    const size_t n = b.size();
    Column r(n, kNaN);
    for (size_t t = 1; t < n; ++t) {
      const double a = b.close[t - 1], c = b.close[t];
      if (Finite(a) && Finite(c) && a > 0 && c > 0) r[t] = std::log(c / a);
    }
    for (size_t t = k; t < n; ++t) {
      double mean = 0;
      bool ok = true;
      for (size_t i = t + 1 - k; i <= t; ++i) {
        if (!Finite(r[i])) {
          ok = false;
          break;
        }
        mean += r[i];
      }
      if (!ok) continue;
      mean /= static_cast<double>(k);
      double ss = 0;
      for (size_t i = t + 1 - k; i <= t; ++i) ss += (r[i] - mean) * (r[i] - mean);
      out[t] = std::sqrt(ss / static_cast<double>(k - 1));
    }
  };
}

// Wilder's RSI over `period` changes.
FeatureFn Rsi(size_t period) {
  return [period](const OhlcvView& b, Column& out) {
    const size_t n = b.size();
    double avg_gain = 0, avg_loss = 0;
    size_t seen = 0;  // changes accumulated since the last non-finite close
    const double p = static_cast<double>(period);
    for (size_t t = 1; t < n; ++t) {
      const double a = b.close[t - 1], c = b.close[t];
      if (!Finite(a) || !Finite(c)) {
        seen = 0;
        avg_gain = avg_loss = 0;
        continue;
      }
      const double change = c - a;
      const double gain = change > 0 ? change : 0.0;
      const double loss = change < 0 ? -change : 0.0;
      ++seen;
      if (seen <= period) {
        avg_gain += gain / p;
        avg_loss += loss / p;
        if (seen < period) continue;
      } else {
        avg_gain = (avg_gain * (p - 1) + gain) / p;
        avg_loss = (avg_loss * (p - 1) + loss) / p;
      }
      out[t] = avg_loss == 0 ? 100.0 : 100.0 - 100.0 / (1.0 + avg_gain / avg_loss);
    }
  };
}

FeatureFn VolumeZ(size_t k) {
  return [k](const OhlcvView& b, Column& out) {
    for (size_t t = k - 1; t < b.size(); ++t) {
      double mean = 0;
      bool ok = true;
      for (size_t i = t + 1 - k; i <= t; ++i) {
        if (!Finite(b.volume[i])) {
          ok = false;
          break;
        }
        mean += b.volume[i];
      }
      if (!ok) continue;
      mean /= static_cast<double>(k);
      double ss = 0;
      for (size_t i = t + 1 - k; i <= t; ++i) ss += (b.volume[i] - mean) * (b.volume[i] - mean);
      const double sd = std::sqrt(ss / static_cast<double>(k - 1));
      out[t] = sd > 0 ? (b.volume[t] - mean) / sd : 0.0;
    }
  };
}

void HighLowRange(const OhlcvView& b, Column& out) {
  for (size_t t = 0; t < b.size(); ++t) {
    if (b.close[t] > 0) out[t] = (b.high[t] - b.low[t]) / b.close[t];
  }
}

void Gap(const OhlcvView& b, Column& out) {
  for (size_t t = 1; t < b.size(); ++t) {
    if (b.close[t - 1] > 0) out[t] = b.open[t] / b.close[t - 1] - 1.0;
  }
}

void CloseOpen(const OhlcvView& b, Column& out) {
  for (size_t t = 0; t < b.size(); ++t) {
    if (b.open[t] > 0) out[t] = b.close[t] / b.open[t] - 1.0;
  }
}

// c[t] / extreme(x[t-k+1..t]) - 1 with a monotonic deque (exact, O(n)).
FeatureFn DistanceFromExtreme(size_t k, bool high) {
  return [k, high](const OhlcvView& b, Column& out) {
    const std::span<const double> x = high ? b.high : b.low;
    std::deque<size_t> window;  // indices; values monotonic (decreasing for max)
    size_t last_bad = std::numeric_limits<size_t>::max();  // most recent non-finite index
    for (size_t t = 0; t < b.size(); ++t) {
      if (!Finite(x[t])) {
        last_bad = t;
        window.clear();
        continue;
      }
      while (!window.empty() && (high ? x[window.back()] <= x[t] : x[window.back()] >= x[t])) {
        window.pop_back();
      }
      window.push_back(t);
      if (window.front() + k <= t) window.pop_front();
      if (t + 1 < k) continue;
      if (last_bad != std::numeric_limits<size_t>::max() && last_bad + k > t) continue;
      const double extreme = x[window.front()];
      if (extreme > 0 && Finite(b.close[t])) out[t] = b.close[t] / extreme - 1.0;
    }
  };
}

struct FeatureDef {
  FeatureFn fn;
  size_t warmup;  // index of the first bar with a value (on clean data)
};

const std::map<std::string, FeatureDef>& Registry() {
  static const std::map<std::string, FeatureDef> registry = [] {
    std::map<std::string, FeatureDef> m;
    for (size_t k : {1, 5, 10, 20, 60}) m["ret_" + std::to_string(k)] = {Return(k), k};
    for (size_t k : {5, 10, 20, 50, 200}) m["sma_ratio_" + std::to_string(k)] = {SmaRatio(k), k - 1};
    for (size_t k : {10, 20, 60}) m["vol_" + std::to_string(k)] = {Volatility(k), k};
    m["rsi_14"] = {Rsi(14), 14};
    m["volume_z_20"] = {VolumeZ(20), 19};
    m["hl_range"] = {HighLowRange, 0};
    m["gap"] = {Gap, 1};
    m["close_open"] = {CloseOpen, 0};
    m["dist_high_252"] = {DistanceFromExtreme(252, true), 251};
    m["dist_low_252"] = {DistanceFromExtreme(252, false), 251};
    return m;
  }();
  return registry;
}

}  // namespace

Json FeatureSet::ToJson() const {
  return Json{{"name", name}, {"version", version}, {"features", features}};
}

Result<FeatureSet> FeatureSet::FromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("feature_set must be an object");
  FeatureSet set;
  ASSIGN_OR_RETURN(set.name, GetString(j, "name"));
  ASSIGN_OR_RETURN(const int64_t version, GetInt(j, "version"));
  set.version = static_cast<int>(version);
  ASSIGN_OR_RETURN(set.features, GetStringList(j, "features"));
  if (set.features.empty()) return Status::InvalidArgument("feature_set.features is empty");
  return set;
}

const FeatureSet& DefaultFeatureSet() {
  static const FeatureSet set{
      "default",
      1,
      {"ret_1", "ret_5", "ret_10", "ret_20", "ret_60", "sma_ratio_5", "sma_ratio_10", "sma_ratio_20",
       "sma_ratio_50", "sma_ratio_200", "vol_10", "vol_20", "vol_60", "rsi_14", "volume_z_20", "hl_range",
       "gap", "close_open", "dist_high_252", "dist_low_252"}};
  return set;
}

size_t WarmupBars(const FeatureSet& set) {
  size_t warmup = 0;
  for (const auto& name : set.features) {
    auto it = Registry().find(name);
    if (it != Registry().end()) warmup = std::max(warmup, it->second.warmup);
  }
  return warmup;
}

std::vector<std::string> KnownFeatureNames() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : Registry()) names.push_back(name);
  return names;
}

FeatureMatrix::FeatureMatrix(size_t rows, size_t cols)
    : rows_(rows), cols_(cols), values_(rows * cols, std::numeric_limits<float>::quiet_NaN()) {}

bool FeatureMatrix::RowComplete(size_t r) const {
  const float* p = row(r);
  for (size_t c = 0; c < cols_; ++c) {
    if (!std::isfinite(p[c])) return false;
  }
  return true;
}

Result<FeatureMatrix> ComputeFeatures(const FeatureSet& set, const OhlcvView& bars) {
  const size_t n = bars.size();
  if (bars.open.size() != n || bars.high.size() != n || bars.low.size() != n || bars.volume.size() != n) {
    return Status::InvalidArgument("OHLCV columns have different lengths");
  }
  std::vector<const FeatureFn*> fns;
  for (const auto& name : set.features) {
    auto it = Registry().find(name);
    if (it == Registry().end()) {
      return Status::InvalidArgument("feature set " + set.Label() + ": unknown feature '" + name + "'");
    }
    fns.push_back(&it->second.fn);
  }
  FeatureMatrix m(n, fns.size());
  Column column(n);
  for (size_t c = 0; c < fns.size(); ++c) {
    std::fill(column.begin(), column.end(), kNaN);
    (*fns[c])(bars, column);
    for (size_t t = 0; t < n; ++t) {
      // Non-finite results (inf from a zero denominator) become NaN = missing.
      m.at(t, c) = std::isfinite(column[t]) ? static_cast<float>(column[t]) : std::numeric_limits<float>::quiet_NaN();
    }
  }
  return m;
}

}  // namespace alphalab::engine

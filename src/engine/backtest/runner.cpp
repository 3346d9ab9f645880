#include "engine/backtest/runner.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <deque>
#include <tuple>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/confined_open.hpp"
#include "core/parallel_for.hpp"
#include "core/write_new_file.hpp"
#include "engine/backtest/benchmark.hpp"
#include "engine/backtest/fixed_format.hpp"
#include "engine/backtest/lane_kernels.hpp"
#include "engine/backtest/long_flat.hpp"
#include "engine/backtest/scores_file.hpp"
#include "engine/backtest/topn.hpp"
#include "engine/data/config.hpp"
#include "engine/metrics/performance.hpp"

namespace alphalab::engine {

// A grid's cell parameters (runner.hpp), shared by its cells.
struct GridParams::Table {
  std::vector<std::string> keys;                    // per axis
  std::vector<std::vector<nlohmann::json>> values;  // per axis, per value: as the cells show it
  std::vector<size_t> stride;   // per axis: combinations from one of its values to the next (the last varies fastest)
  std::vector<size_t> members;  // the axes whose keys the object lists, in its key order
  // Per axis, per value: "key":value as the object dumps it (empty when one cannot be dumped).
  std::vector<std::vector<std::string>> texts;

  // Combination `cell`'s value on `axis`.
  size_t At(size_t cell, size_t axis) const { return cell / stride[axis] % values[axis].size(); }
};

std::vector<double> MomentumScores(const BarSeries& bars, int window) {
  std::vector<double> out(bars.size(), std::numeric_limits<double>::quiet_NaN());
  const size_t w = static_cast<size_t>(std::max(1, window));
  for (size_t t = w; t < bars.size(); ++t) out[t] = bars.close[t] / bars.close[t - w] - 1.0;
  return out;
}

namespace {

std::vector<std::string> SymbolsToLoad(const BacktestSpec& spec) {
  std::vector<std::string> out = spec.tickers;
  if (spec.type == StrategyType::kTopN && !out.empty()) {
    auto add = [&](const std::string& s) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    };
    if (spec.topn.market_filter) add(spec.topn.market_symbol);
    if (spec.topn.risk_off_mode == RiskOffMode::kDefensive) {
      for (const auto& s : spec.topn.risk_off_symbols) add(s);
    }
  }
  return out;
}

}  // namespace

Result<BacktestContext> BacktestContext::Load(const Workspace& ws, const BacktestSpec& spec) {
  ASSIGN_OR_RETURN(auto ds, ResolveDataset(ws, spec.dataset));
  // Everything up to `end` is loaded: the bars before `start` are warm-up history for the
  // indicators, features, scores and the market filter; trading starts at `start`.
  const auto symbols = SymbolsToLoad(spec);
  ASSIGN_OR_RETURN(auto universe, LoadUniverse(ws, ds, symbols));
  const int32_t from = spec.start.value_or(INT32_MIN), to = spec.end.value_or(INT32_MAX);
  std::vector<BarSeries> kept;
  for (auto& s : universe.series) {
    s.Clip(INT32_MIN, to);
    const bool traded = s.size() > 0 && s.date.back() >= from;
    if (!traded && !symbols.empty()) {
      return Status::InvalidArgument("ticker '" + s.symbol + "' has no bars between " +
                                     (spec.start ? FormatDate(*spec.start) : std::string("the start")) +
                                     " and " + (spec.end ? FormatDate(*spec.end) : std::string("the end")));
    }
    if (traded) kept.push_back(std::move(s));  // all instruments: one that ended before start is left out
  }
  if (kept.empty()) {
    return Status::InvalidArgument("dataset '" + ds.name + "' has no bars between " +
                                   (spec.start ? FormatDate(*spec.start) : std::string("the start")) + " and " +
                                   (spec.end ? FormatDate(*spec.end) : std::string("the end")));
  }
  universe.series = std::move(kept);
  universe.BuildCalendar();
  ASSIGN_OR_RETURN(auto ctx, FromUniverse(std::move(universe), spec));
  if (spec.score_source == ScoreSource::kFile) {
    ASSIGN_OR_RETURN(ctx.dataset_symbols_, ListSymbols(ds));
    ctx.root_ = ws.root();
  }
  ctx.dataset_ = std::move(ds);
  return ctx;
}

Result<BacktestContext> BacktestContext::FromUniverse(Universe universe, const BacktestSpec& spec) {
  if (universe.calendar.empty()) universe.BuildCalendar();
  return FromUniverse(std::make_shared<const Universe>(std::move(universe)), spec);
}

Result<BacktestContext> BacktestContext::FromUniverse(std::shared_ptr<const Universe> universe,
                                                      const BacktestSpec& spec) {
  if (!universe) return Status::InvalidArgument("no universe");
  if (universe->calendar.empty() && !universe->series.empty()) {  // built on a copy: the shared one stays as it is
    Universe copy = *universe;
    copy.BuildCalendar();
    universe = std::make_shared<const Universe>(std::move(copy));
  }
  BacktestContext ctx;
  ctx.universe_ = std::move(universe);
  ctx.dataset_.name = spec.dataset;
  RETURN_IF_ERROR(ctx.SelectTraded(spec));
  ctx.cross_.resize(ctx.universe_->series.size());
  return ctx;
}

Status BacktestContext::SelectTraded(const BacktestSpec& spec) {
  traded_.clear();
  if (spec.type == StrategyType::kTopN) return Status::Ok();
  for (const auto& t : spec.tickers) {
    bool found = false;
    for (size_t i = 0; i < universe_->series.size(); ++i) {
      std::string a = universe_->series[i].symbol, b = t;
      for (auto& c : a) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      for (auto& c : b) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (a == b) {
        traded_.push_back(i);
        found = true;
        break;
      }
    }
    if (!found) return Status::NotFound("unknown ticker '" + t + "'");
  }
  return Status::Ok();
}

std::string BacktestContext::ScoreKey(const BacktestSpec& spec) {
  if (spec.score_source == ScoreSource::kMomentum) {
    return "momentum:" + std::to_string(spec.momentum_window);
  }
  if (spec.score_source == ScoreSource::kFile) return "file:" + spec.scores_path;
  return "model:" + spec.model_path;
}

Status BacktestContext::Prepare(const BacktestSpec& spec, const ScorerFactory& scorers) {
  if (spec.type == StrategyType::kSmaCross) {
    // One fixed-point prefix per instrument serves every (fast, slow) pair of a grid.
    for (size_t i : traded_) {
      if (!cross_[i]) cross_[i] = std::make_shared<SmaCrossSeries>(universe_->series[i].close);
      if (share_windows_) {  // each distinct window once, shared by the combinations
        cross_[i]->CacheWindow(spec.fast);
        cross_[i]->CacheWindow(spec.slow);
      }
    }
    return Status::Ok();
  }
  const std::string key = ScoreKey(spec);
  if (scores_.count(key)) return Status::Ok();
  if (spec.score_source == ScoreSource::kFile) {
    std::filesystem::path file = spec.scores_path;
    if (!root_.empty()) {
      ASSIGN_OR_RETURN(auto ws, Workspace::Open(root_));
      auto resolved = ws.Resolve(spec.scores_path, PathMust::kExist);
      if (!resolved.ok()) {
        return Status::NotFound("scores file '" + spec.scores_path + "' does not exist or is outside the workspace");
      }
      file = *resolved;
    }
    auto text = ReadFile(file);
    if (!text.ok()) return Status::NotFound("scores file '" + spec.scores_path + "' cannot be read");
    ScoresFileOptions options;
    options.dataset_symbols = dataset_symbols_;
    options.end = spec.end;
    ASSIGN_OR_RETURN(auto parsed, ParseScoresCsv(*text, spec.scores_path, *universe_, options));
    scores_[key] = std::move(parsed);
    return Status::Ok();
  }
  std::vector<std::vector<double>> all(universe_->series.size());
  ScoreFn fn;
  if (spec.score_source == ScoreSource::kModel) {
    if (!scorers) return Status::FailedPrecondition("no model scorer available in this build");
    ASSIGN_OR_RETURN(fn, scorers(spec.model_path));
  }
  std::vector<size_t> which;
  if (spec.type == StrategyType::kTopN) {
    for (size_t i = 0; i < universe_->series.size(); ++i) which.push_back(i);
  } else {
    which = traded_;
  }
  std::vector<Status> errors(universe_->series.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t w = next++; w < which.size(); w = next++) {
      const size_t i = which[w];
      if (spec.score_source == ScoreSource::kMomentum) {
        all[i] = MomentumScores(universe_->series[i], spec.momentum_window);
        continue;
      }
      auto r = fn(universe_->series[i]);
      if (!r.ok()) {
        errors[i] = r.status();
      } else if (r->size() != universe_->series[i].size()) {
        errors[i] = Status::Internal("scorer returned " + std::to_string(r->size()) + " scores for " +
                                     std::to_string(universe_->series[i].size()) + " bars of " +
                                     universe_->series[i].symbol);
      } else {
        all[i] = std::move(r).value();
      }
    }
  };
  const size_t threads = std::min<size_t>(which.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  for (const auto& e : errors) RETURN_IF_ERROR(e);
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].empty()) all[i].assign(universe_->series[i].size(), std::numeric_limits<double>::quiet_NaN());
  }
  scores_[key] = std::move(all);
  return Status::Ok();
}

size_t BacktestContext::WarmupBars(const BacktestSpec& spec) const {
  const auto& cal = universe_->calendar;
  if (!spec.start) return 0;
  return static_cast<size_t>(std::lower_bound(cal.begin(), cal.end(), *spec.start) - cal.begin());
}

namespace {

// scores.csv rows of `signal`: every traded instrument's score on each traded bar, ranked
// among the traded instruments of that day (ties alphabetical); selected = score >= cutoff.
std::vector<ScoreRow> SignalScoreRows(const Universe& u, const std::vector<size_t>& traded,
                                      const std::vector<std::vector<double>>& scores, const BacktestResult& result,
                                      double cutoff) {
  std::vector<ScoreRow> rows;
  if (result.dates.empty()) return rows;
  std::vector<size_t> at(traded.size());  // next bar of each traded series
  for (size_t t = 0; t < traded.size(); ++t) {
    const auto& d = u.series[traded[t]].date;
    at[t] = static_cast<size_t>(std::lower_bound(d.begin(), d.end(), result.dates.front()) - d.begin());
  }
  std::vector<std::pair<double, size_t>> day;  // (score, traded slot)
  for (int32_t date : result.dates) {
    day.clear();
    for (size_t t = 0; t < traded.size(); ++t) {
      const auto& s = u.series[traded[t]];
      if (at[t] < s.size() && s.date[at[t]] == date) {
        const double v = scores[traded[t]][at[t]];
        if (!std::isnan(v)) day.emplace_back(v, t);
        ++at[t];
      }
    }
    std::sort(day.begin(), day.end(), [&](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : u.series[traded[a.second]].symbol < u.series[traded[b.second]].symbol;
    });
    for (size_t r = 0; r < day.size(); ++r) {
      rows.push_back(ScoreRow{date, u.series[traded[day[r].second]].symbol, day[r].first, static_cast<int>(r + 1),
                              day[r].first >= cutoff});
    }
  }
  return rows;
}

}  // namespace

std::vector<PositionRow> PositionsFromFills(const Universe& u, const BacktestResult& r) {
  std::vector<PositionRow> rows;
  if (r.dates.empty() || r.cash.size() != r.dates.size()) return rows;
  std::map<std::string, const BarSeries*> series;
  for (const auto& s : u.series) series.emplace(s.symbol, &s);
  std::map<std::string, double> held;  // alphabetical
  size_t f = 0;
  for (size_t t = 0; t < r.dates.size(); ++t) {
    const int32_t day = r.dates[t];
    bool traded = false;
    for (; f < r.fills.size() && r.fills[f].date <= day; ++f) {
      held[r.fills[f].symbol] += r.fills[f].buy ? r.fills[f].shares : -r.fills[f].shares;
      traded = true;
    }
    if (!traded && t + 1 < r.dates.size()) continue;
    const double equity = r.equity[t];
    for (auto it = held.begin(); it != held.end();) {
      if (it->second <= 0) {
        it = held.erase(it);
        continue;
      }
      double price = 0;
      if (auto s = series.find(it->first); s != series.end()) {
        const auto& d = s->second->date;
        const auto bar = std::upper_bound(d.begin(), d.end(), day) - d.begin();
        if (bar > 0) price = s->second->close[static_cast<size_t>(bar - 1)];
      }
      rows.push_back(PositionRow{day, it->first, it->second, price, equity > 0 ? it->second * price / equity : 0.0});
      ++it;
    }
    rows.push_back(PositionRow{day, std::string(kCashSymbol), r.cash[t], 1.0, equity > 0 ? r.cash[t] / equity : 0.0});
  }
  return rows;
}

Result<BacktestResult> BacktestContext::Run(const BacktestSpec& spec, bool record) const {
  auto result = Simulate(spec, record);
  if (result.ok() && record) result->positions = PositionsFromFills(*universe_, *result);
  return result;
}

namespace {

LongFlatOptions SimulationOptions(const BacktestSpec& spec, bool record) {
  LongFlatOptions options;
  options.delisting_haircut = spec.delisting_haircut;
  options.initial_cash = spec.initial_cash;
  options.fee_rate = FeeRate(spec.fee_bps);
  options.record_curves = record;
  options.trade_from = spec.start.value_or(INT32_MIN);
  return options;
}

}  // namespace

bool BacktestContext::RunsMetricsTogether(const BacktestSpec& spec) const {
  return spec.type == StrategyType::kSmaCross && traded_.size() == 1;
}

Status BacktestContext::RunMetrics(const BacktestSpec* specs, size_t count, PerformanceMetrics* out) const {
  if (traded_.size() != 1 || !cross_[traded_[0]]) return Status::Internal("moving averages not prepared");
  const auto& cross = *cross_[traded_[0]];
  const auto& series = universe_->series[traded_[0]];
  const size_t n = series.size();
  // One signal buffer per spec of the batch, reused by the thread's next batch.
  thread_local std::vector<int8_t> buffer;
  thread_local std::vector<const int8_t*> signals;
  thread_local std::vector<LongFlatOptions> options;
  buffer.resize(n * count);
  signals.resize(count);
  options.resize(count);
  for (size_t k = 0; k < count; ++k) {
    if (specs[k].type != StrategyType::kSmaCross) return Status::Internal("not an sma_cross run");
    cross.Signals(series.close, specs[k].fast, specs[k].slow, buffer.data() + k * n);
    signals[k] = buffer.data() + k * n;
    options[k] = SimulationOptions(specs[k], false);
  }
  RunLongFlatMetrics(series, signals.data(), options.data(), count, out);
  return Status::Ok();
}

Result<BacktestResult> BacktestContext::Simulate(const BacktestSpec& spec, bool record) const {
  const LongFlatOptions options = SimulationOptions(spec, record);
  if (spec.type == StrategyType::kSmaCross) {
    for (size_t i : traded_) {
      if (!cross_[i]) return Status::Internal("moving averages not prepared");
    }
    if (traded_.size() == 1) {
      // The common case (and every grid cell): one reusable signal buffer per thread.
      thread_local std::vector<int8_t> buffer;
      const auto& series = universe_->series[traded_[0]];
      buffer.resize(series.size());
      cross_[traded_[0]]->Signals(series.close, spec.fast, spec.slow, buffer.data());
      return RunLongFlat(series, buffer.data(), options);
    }
    std::vector<const BarSeries*> bars;
    std::vector<std::vector<int8_t>> signals;
    for (size_t i : traded_) {
      const auto& series = universe_->series[i];
      bars.push_back(&series);
      signals.emplace_back(series.size());
      cross_[i]->Signals(series.close, spec.fast, spec.slow, signals.back().data());
    }
    return RunSleeves(bars, signals, options);
  }
  auto it = scores_.find(ScoreKey(spec));
  if (it == scores_.end()) return Status::Internal("scores not prepared");
  if (spec.type == StrategyType::kSignal) {
    std::vector<const BarSeries*> bars;
    std::vector<std::vector<int8_t>> signals;
    for (size_t i : traded_) {
      const auto& series = universe_->series[i];
      bars.push_back(&series);
      signals.emplace_back(series.size());
      ThresholdSignals(it->second[i].data(), series.size(), spec.cutoff, signals.back().data());
    }
    BacktestResult result = RunSleeves(bars, signals, options);
    if (record) result.scores = SignalScoreRows(*universe_, traded_, it->second, result, spec.cutoff);
    return result;
  }
  TopNParams p = spec.topn;
  p.initial_cash = spec.initial_cash;
  p.fee_bps = spec.fee_bps;
  return RunTopN(*universe_, it->second, p, record, options.trade_from);
}

Result<GridAxis> ParseGridAxis(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 >= text.size()) {
    return Status::InvalidArgument("grid axis '" + std::string(text) +
                                   "' must look like key=start:stop:step, key=a,b,c or key=[a, b]");
  }
  ASSIGN_OR_RETURN(auto probe, ParseOverride(std::string(text.substr(0, eq)) + "=0"));
  GridAxis axis;
  axis.path = probe.path;
  axis.key = std::string(text.substr(0, eq));
  const std::string spec(text.substr(eq + 1));
  const auto c1 = spec.find(':');
  if (spec.front() != '[' && c1 != std::string::npos) {
    const auto c2 = spec.find(':', c1 + 1);
    double a = 0, b = 0, s = 1;
    auto num = [](const std::string& x, double& v) {
      char* end = nullptr;
      v = std::strtod(x.c_str(), &end);
      return !x.empty() && end == x.c_str() + x.size() && std::isfinite(v);
    };
    const bool ok = num(spec.substr(0, c1), a) &&
                    num(spec.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1), b) &&
                    (c2 == std::string::npos || num(spec.substr(c2 + 1), s));
    if (!ok || s <= 0 || b < a) {
      return Status::InvalidArgument("grid axis '" + std::string(text) +
                                     "': range must be start:stop[:step] with start <= stop, step > 0");
    }
    const bool ints = a == std::floor(a) && s == std::floor(s);
    const size_t count = static_cast<size_t>(std::floor((b - a) / s + 1e-9)) + 1;
    if (count > 100000) return Status::InvalidArgument("grid axis '" + axis.key + "' has too many values");
    for (size_t i = 0; i < count; ++i) {
      const double v = a + s * static_cast<double>(i);
      char buf[64];
      if (ints) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(std::llround(v)));
      } else {
        std::snprintf(buf, sizeof buf, "%.10g", v);
      }
      axis.values.emplace_back(std::string(buf));
    }
    return axis;
  }
  YAML::Node list;
  try {
    list = YAML::Load(spec.front() == '[' ? spec : "[" + spec + "]");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("grid axis '" + std::string(text) + "': " + e.msg);
  }
  if (!list.IsSequence() || list.size() == 0) {
    return Status::InvalidArgument("grid axis '" + std::string(text) + "' has no values");
  }
  for (const auto& v : list) axis.values.push_back(v);
  return axis;
}

namespace {

// Numeric parameters a grid sets straight on a parsed spec (each value was validated by a
// full parse first). Other keys go through the YAML path.
bool SetNumericParam(BacktestSpec& s, const std::string& key, double v) {
  const auto i = static_cast<int>(v);
  if (key == "strategy.params.fast") return s.fast = i, true;
  if (key == "strategy.params.slow") return s.slow = i, true;
  if (key == "strategy.params.cutoff") return s.cutoff = v, true;
  if (key == "initial_cash" || key == "strategy.params.initial_cash") {
    return s.initial_cash = s.topn.initial_cash = v, true;
  }
  if (key == "fee_bps" || key == "strategy.params.fee_bps") return s.fee_bps = s.topn.fee_bps = v, true;
  if (key == "strategy.params.top_n") return s.topn.top_n = i, true;
  if (key == "strategy.params.retain_top_n") return s.topn.retain_top_n = i, true;
  if (key == "strategy.params.min_score") return s.topn.min_score = v, true;
  if (key == "strategy.params.market_ma_window") return s.topn.market_ma_window = i, true;
  if (key == "strategy.params.max_drawdown") return s.topn.max_drawdown = v, true;
  if (key == "strategy.params.max_drawdown_52w") return s.topn.max_drawdown_52w = v, true;
  if (key == "strategy.params.max_exposure") return s.topn.max_exposure = v, true;
  if (key == "strategy.params.vol_target") return s.topn.vol_target = v, true;
  if (key == "strategy.params.vol_window") return s.topn.vol_window = i, true;
  if (key == "strategy.params.max_weight") return s.topn.max_weight = v, true;
  return false;
}

// specs[0, count) simulated side by side (BacktestContext::RunMetrics, count <= kLanes), each
// result handed to report(k, result).
template <typename Report>
void RunTogether(const BacktestContext& context, const BacktestSpec* specs, size_t count, const Report& report) {
  PerformanceMetrics metrics[kLanes];
  const Status status = context.RunMetrics(specs, count, metrics);
  for (size_t k = 0; k < count; ++k) {
    if (!status.ok()) {
      report(k, Result<BacktestResult>(status));
      continue;
    }
    BacktestResult result;
    result.metrics = metrics[k];
    report(k, std::move(result));
  }
}

// threads <= 0: all cores. The count is read once per process: libstdc++'s
// hardware_concurrency() asks glibc's get_nprocs(), which opens, reads and closes
// /sys/devices/system/cpu/online on every call (5-15 us on a VM; a grid on all cores asked
// twice, serial time before and inside its parallel call).
size_t Workers(int threads) {
  static const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return threads > 0 ? static_cast<size_t>(threads) : cores;
}

}  // namespace

bool SameContext(const BacktestSpec& a, const BacktestSpec& b) {
  return SameData(a, b) && SymbolsToLoad(a) == SymbolsToLoad(b);
}

Status RunSpecs(BacktestContext& context, const std::vector<BacktestSpec>& specs,
                const ScorerFactory& scorers, const RunOptions& options, const RunCallback& on_result) {
  const size_t total = specs.size();
  if (total == 0) return Status::Ok();
  for (const auto& s : specs) {
    if (!SameData(specs.front(), s)) {
      return Status::InvalidArgument("the runs of one grid must use the same data, strategy type and model");
    }
  }
  // Prepare is not thread-safe: every spec once, in order, before the workers start.
  // (sma_cross window sums are not cached for grids any more: the decision kernel reading
  // the prefix directly measured as fast, and caching was serial work before the workers.)
  std::vector<Status> prepared(total);
  for (size_t c = 0; c < total; ++c) prepared[c] = context.Prepare(specs[c], scorers);
  bool together = !options.record_curves;
  for (size_t c = 0; c < total && together; ++c) together = prepared[c].ok() && context.RunsMetricsTogether(specs[c]);
  if (together) {  // kLanes combinations per task, simulated side by side
    const size_t groups = (total + kLanes - 1) / kLanes;
    ParallelFor(groups, Workers(options.threads), [&](size_t g) {
      const size_t begin = g * kLanes, count = std::min(kLanes, total - begin);
      RunTogether(context, specs.data() + begin, count,
                  [&](size_t k, Result<BacktestResult>&& result) { on_result(begin + k, std::move(result)); });
    });
    return Status::Ok();
  }
  ParallelFor(total, Workers(options.threads), [&](size_t c) {
    if (!prepared[c].ok()) {
      on_result(c, Result<BacktestResult>(prepared[c]));
      return;
    }
    on_result(c, context.Run(specs[c], options.record_curves));
  });
  return Status::Ok();
}

namespace {

std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

// Waits (watching, then yielding the core) until `flag` is non-zero; returns it.
int AwaitNonZero(const std::atomic<int>& flag) {
  for (int spins = 0;; ++spins) {
    if (const int v = flag.load(std::memory_order_acquire)) return v;
    if (spins < 4096) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

// The overrides of a list of combinations: each distinct (path, value) once, in order of
// first use, and which of them each combination applies, in order.
struct DistinctOverrides {
  struct Entry {
    const std::vector<std::string>* path;  // the same pointer for every entry of one path
    const YAML::Node* value;
  };
  std::vector<Entry> distinct;
  std::vector<size_t> entries;  // per override of each combination, in order: its distinct entry
  std::vector<size_t> first;    // combination c's overrides: entries[first[c], first[c + 1])
};

// RunCombinations over overrides already found: `base` is base_config parsed, `combination(c)`
// gives combination c's overrides (the path that re-parses each combination, and its errors).
// `spec_read`: false when on_result never reads the spec it gets (a grid's cells): the
// simulations side by side then hand it the spec without its config. `side` (optional): work
// that on_result needs but the checks and simulations do not (a grid's cell parameters),
// done before the first result: as one more item of the parallel call, on whichever thread is
// free (serial time on the caller otherwise), or first when there is no such call.
Status RunDistinct(BacktestContext& context, const YAML::Node& base_config, const BacktestSpec& base,
                   const DistinctOverrides& overrides, const std::function<Combination(size_t)>& combination,
                   const ScorerFactory& scorers, const RunOptions& options, const CombinationCallback& on_result,
                   bool spec_read = true, const std::function<void()>& side = nullptr);

}  // namespace

Status RunCombinations(BacktestContext& context, const YAML::Node& base_config,
                       const std::vector<Combination>& combinations, const ScorerFactory& scorers,
                       const RunOptions& options, const CombinationCallback& on_result) {
  ExpectParallelFor(Workers(options.threads));  // the helpers get up during the serial part below
  ASSIGN_OR_RETURN(auto base, ParseBacktestSpec(base_config));
  if (combinations.size() > 10'000'000) return Status::InvalidArgument("grid has more than 10 million combinations");
  // The distinct overrides (key and value), in order of first use, found without building a
  // string per override (this was a third of a 100-combination grid's serial part): each
  // distinct path once, then (path, scalar text) -> entry; other values by their YAML dump.
  DistinctOverrides found;
  std::vector<const std::vector<std::string>*> paths;  // distinct paths, in order of first use
  std::map<std::tuple<size_t, bool, std::string_view>, size_t> index;  // (path, scalar?, text) -> distinct
  std::deque<std::string> dumps;  // the texts of non-scalar values (index keys point here)
  found.first.assign(combinations.size() + 1, 0);
  for (size_t c = 0; c < combinations.size(); ++c) {
    found.first[c] = found.entries.size();
    for (const auto& o : combinations[c]) {
      size_t p = 0;
      while (p < paths.size() && *paths[p] != o.path) ++p;
      if (p == paths.size()) paths.push_back(&o.path);
      const bool scalar = o.value.IsScalar();
      std::string_view text;
      if (scalar) {
        text = o.value.Scalar();
      } else {
        dumps.push_back(YAML::Dump(o.value));
        text = dumps.back();
      }
      auto [it, inserted] = index.try_emplace({p, scalar, text}, found.distinct.size());
      found.entries.push_back(it->second);
      if (!inserted) {
        if (!scalar) dumps.pop_back();
        continue;
      }
      found.distinct.push_back({paths[p], &o.value});
    }
  }
  found.first[combinations.size()] = found.entries.size();
  return RunDistinct(context, base_config, base, found, [&](size_t c) { return combinations[c]; }, scorers, options,
                     on_result);
}

namespace {

Status RunDistinct(BacktestContext& context, const YAML::Node& base_config, const BacktestSpec& base,
                   const DistinctOverrides& overrides, const std::function<Combination(size_t)>& combination,
                   const ScorerFactory& scorers, const RunOptions& options, const CombinationCallback& on_result,
                   bool spec_read, const std::function<void()>& side) {
  // Validate every distinct override once with a full parse; numeric values of known keys
  // then apply directly (fast path), anything else re-parses per combination.
  struct Checked {
    std::string key;  // dotted
    std::optional<double> numeric;
  };
  auto shown = [](const Combination& combo) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& o : combo) params[JoinPath(o.path)] = YamlToJson(o.value);
    return params;
  };
  struct Pending {
    Checked entry;
    const std::vector<std::string>* path;
    YAML::Node config, value;  // private clones (yaml-cpp nodes are not shared across threads)
    // A scalar value as its text and tag, made into `value` on the worker (a node of its own,
    // as a clone would be: the 20 clones were a fifth of a grid's serial part).
    std::string scalar, tag;
    bool from_scalar;
    Status status;
    bool checked;  // by the window rule (sma_cross windows); the others get a full parse
  };
  std::vector<Pending> pending;
  pending.reserve(overrides.distinct.size());
  const std::vector<std::string>* last_path = nullptr;  // the dotted key of the path before
  std::string last_key;
  for (const auto& d : overrides.distinct) {
    if (d.path != last_path) last_key = JoinPath(*d.path), last_path = d.path;
    // sma_cross windows are checked by the parser's own rule (no full re-parse), on the
    // workers below like the full parses.
    const bool window = IsSmaCrossWindowKey(base, last_key);
    const bool scalar = d.value->IsScalar();
    pending.push_back(Pending{Checked{last_key, std::nullopt}, d.path,
                              window ? YAML::Node() : YAML::Clone(base_config),
                              scalar ? YAML::Node() : YAML::Clone(*d.value), scalar ? d.value->Scalar() : std::string(),
                              scalar ? d.value->Tag() : std::string(), scalar, Status::Ok(), window});
  }
  const auto& first = overrides.first;
  const auto& entries = overrides.entries;
  // One distinct override's check (independent clones; on the workers: the window checks were
  // 4% of a 100-combination grid's instructions, serial before its simulations).
  auto check_one = [&](Pending& p) {
    Checked& entry = p.entry;
    if (p.from_scalar) {  // its own node
      p.value = YAML::Node(p.scalar);
      p.value.SetTag(p.tag);
    }
    if (p.checked) {
      auto window = SmaCrossWindowOverride(base, entry.key, p.value);
      if (window->ok()) {
        entry.numeric = static_cast<double>(**window);
      } else {
        p.status = window->status().WithContext("grid value " + entry.key + "=" + YamlToJson(p.value).dump());
      }
      return;
    }
    p.status = [&]() -> Status {
      RETURN_IF_ERROR(SetPath(p.config, *p.path, p.value));
      auto spec = ParseBacktestSpecSharing(p.config);  // p.config is this check's own clone
      if (!spec.ok()) return spec.status().WithContext("grid value " + entry.key + "=" + YamlToJson(p.value).dump());
      if (!SameData(base, *spec)) {
        return Status::InvalidArgument("grid axis " + entry.key +
                                       " changes the data, strategy type or model; a grid varies "
                                       "strategy parameters only");
      }
      double d = 0;
      BacktestSpec probe = base;
      if (p.value.IsScalar() && YAML::convert<double>::decode(p.value, d) && SetNumericParam(probe, entry.key, d)) {
        entry.numeric = d;
      }
      return Status::Ok();
    }();
  };
  // The check's nodes are freed where they were made, on the worker (by the caller after
  // the call, half of them were the other thread's memory: serial time on two threads).
  auto check = [&](Pending& p) {
    check_one(p);
    p.value.reset();
    p.config.reset();
  };
  // Every value checked and numeric: each combination is the base with its values set.
  auto all_numeric = [&] {
    for (const Pending& p : pending) {
      if (!p.status.ok() || !p.entry.numeric) return false;
    }
    return true;
  };
  auto spec_of = [&](size_t c, const BacktestSpec& from) {
    BacktestSpec spec = from;
    for (size_t e = first[c]; e < first[c + 1]; ++e) {
      SetNumericParam(spec, pending[entries[e]].entry.key, *pending[entries[e]].entry.numeric);
    }
    return spec;
  };
  const size_t total = first.size() - 1;
  bool checks_done = false, side_done = !side;
  if (!options.record_curves && total > 0 && context.RunsMetricsTogether(base)) {
    // sma_cross on one instrument (a grid's common case): the preparation, the checks and
    // the simulations in one parallel call, so a grid wakes its helpers once and its serial
    // part stays small. Item 0 is Prepare(base) (it serves every combination: they all
    // select the same data, and the decisions do not depend on the windows), item 1 `side`
    // when there is one, then the P checks, all claimed before the items after them: kLanes
    // combinations each, built from the base on the worker. The first simulation item waits
    // for the last of the items before it, whose thread gives the verdict: prepared and every
    // value numeric (run them here) or not (nothing runs here; below, as before: the
    // combinations parsed one by one, each spec prepared and run by RunSpecs).
    const size_t extra = side ? 1 : 0;  // `side` is item 1
    const size_t before = 1 + extra + pending.size(), groups = (total + kLanes - 1) / kLanes;
    // Each combination's spec is a copy of the base: without its config when on_result does
    // not read it (the simulations never do), because copying the config's handle is an
    // atomic add on a counter that every thread's copies share (four per combination: the
    // copy, its move into the group's list and their destruction).
    BacktestSpec bare;
    if (!spec_read) {
      bare = base;
      bare.config.reset();
    }
    const BacktestSpec& lane_base = spec_read ? base : bare;
    std::atomic<size_t> finished{0};
    std::atomic<int> verdict{0};  // 0: items before the simulations running; 1: run; 2: do not
    Status prepared = Status::Ok();
    ParallelFor(before + groups, Workers(options.threads), [&](size_t i) {
      if (i < before) {
        // The last of these to end gives the verdict (also when one throws, so that no
        // simulation item is left waiting).
        auto counted = [&](bool threw) {
          const bool last = finished.fetch_add(1, std::memory_order_acq_rel) + 1 == before;
          if (last || threw) {
            int unknown = 0;  // the first verdict stays
            verdict.compare_exchange_strong(unknown, !threw && prepared.ok() && all_numeric() ? 1 : 2,
                                            std::memory_order_acq_rel);
          }
        };
        try {
          if (i == 0) {
            prepared = context.Prepare(base, scorers);
          } else if (i <= extra) {
            side();
          } else {
            check(pending[i - 1 - extra]);
          }
        } catch (...) {
          counted(true);
          throw;
        }
        counted(false);
        return;
      }
      if (AwaitNonZero(verdict) != 1) return;
      const size_t begin = (i - before) * kLanes, count = std::min(kLanes, total - begin);
      // Copy-constructed: assigning a YAML node handle allocates a node when it is empty.
      std::vector<BacktestSpec> specs;
      specs.reserve(count);
      for (size_t k = 0; k < count; ++k) specs.push_back(spec_of(begin + k, lane_base));
      RunTogether(context, specs.data(), count, [&](size_t k, Result<BacktestResult>&& result) {
        on_result(begin + k, specs[k], std::move(result));
      });
    });
    for (const Pending& p : pending) RETURN_IF_ERROR(p.status);
    if (verdict.load() == 1) return Status::Ok();
    checks_done = side_done = true;
  }
  if (!side_done) side();
  if (!checks_done) {
    ParallelFor(pending.size(), Workers(options.threads), [&](size_t k) { check(pending[k]); });
    // The first problem in order of first use is the error, as with one pass.
    for (const Pending& p : pending) RETURN_IF_ERROR(p.status);
  }
  const bool fast_path = !options.record_curves && all_numeric();
  std::vector<BacktestSpec> specs;
  specs.reserve(total);
  for (size_t c = 0; c < total; ++c) {
    if (fast_path) {
      specs.push_back(spec_of(c, base));
      continue;
    }
    const Combination combo = combination(c);
    YAML::Node config = YAML::Clone(base_config);
    for (const auto& o : combo) RETURN_IF_ERROR(SetPath(config, o.path, YAML::Clone(o.value)));
    auto spec = ParseBacktestSpec(config);
    if (!spec.ok()) return spec.status().WithContext("grid combination " + shown(combo).dump());
    if (!SameData(base, *spec)) {
      return Status::InvalidArgument("grid combination " + shown(combo).dump() +
                                     " changes the data, strategy type or model; a grid varies "
                                     "strategy parameters only");
    }
    specs.push_back(std::move(*spec));
  }
  return RunSpecs(context, specs, scorers, options, [&](size_t index, Result<BacktestResult>&& result) {
    on_result(index, specs[index], std::move(result));
  });
}

}  // namespace

namespace {

Result<size_t> GridSize(const std::vector<GridAxis>& axes) {
  size_t total = 1;
  for (const auto& a : axes) {
    total *= a.values.size();
    if (total > 10'000'000) return Status::InvalidArgument("grid has more than 10 million combinations");
  }
  return total;
}

// Fills `table` (empty) with the parameters of a grid's cells (GridParams): each axis's key
// and values as the cells show them, and the text of each "key":value member as nlohmann's
// object dumps it (the same escaping and number formatting: it is nlohmann's own dump of the
// key and the value).
void FillGridParamsTable(GridParams::Table& table, const std::vector<GridAxis>& axes) {
  const size_t n = axes.size();
  table.keys.reserve(n);
  table.values.resize(n);
  table.stride.assign(n, 1);
  for (size_t a = 0; a < n; ++a) {
    table.keys.push_back(axes[a].key);
    table.values[a].reserve(axes[a].values.size());
    for (const auto& v : axes[a].values) table.values[a].push_back(YamlToJson(v));
  }
  for (size_t a = n; a-- > 1;) table.stride[a - 1] = table.stride[a] * axes[a].values.size();
  // The object's members: its keys in its order (std::string's), a repeated key once with
  // the value of its last axis (each axis's value is assigned in axis order).
  std::map<std::string_view, size_t> last;
  for (size_t a = 0; a < n; ++a) last.insert_or_assign(std::string_view(table.keys[a]), a);
  for (const auto& [key, a] : last) table.members.push_back(a);
  try {
    table.texts.resize(n);
    for (size_t a = 0; a < n; ++a) {
      const std::string key = nlohmann::json(table.keys[a]).dump() + ":";
      for (const auto& v : table.values[a]) table.texts[a].push_back(key + v.dump());
    }
  } catch (const nlohmann::json::exception&) {  // e.g. invalid UTF-8: dump() builds the object and throws as it did
    table.texts.clear();
  }
}

// RunGridOnContext once the base config is parsed (`base.config` is that config).
Result<std::vector<GridCell>> RunGridOnBase(BacktestContext& context, const BacktestSpec& base, size_t total,
                                            const std::vector<GridAxis>& axes, const ScorerFactory& scorers,
                                            int threads) {
  const YAML::Node& base_config = base.config;
  // The cells' parameters: one table for the grid, each cell its combination number (no
  // JSON object per cell, built on a worker and freed by the caller). The table and the cells
  // are filled by an item of the grid's parallel call (RunDistinct's `side`: 5-7 us of wall
  // that were serial on the caller), in the vector the caller reserved.
  const auto params = std::make_shared<GridParams::Table>();
  std::vector<GridCell> cells;
  cells.reserve(total);
  const std::function<void()> fill_cells = [&] {
    FillGridParamsTable(*params, axes);
    const std::shared_ptr<const GridParams::Table> table = params;
    for (size_t c = 0; c < total; ++c) cells.push_back(GridCell{GridParams(table, c), {}});
  };
  // Combination c's value index on each axis (the last axis varies fastest).
  auto value_index = [&](size_t c, std::vector<size_t>& idx) {
    for (size_t a = axes.size(); a-- > 0;) {
      idx[a] = c % axes[a].values.size();
      c /= axes[a].values.size();
    }
  };
  // Each axis value is one distinct override (no combination lists, path copies or lookups:
  // they were a quarter of a 100-combination grid's serial part); numbered in order of
  // first use, so that the first problem reported is the one RunCombinations would report.
  DistinctOverrides overrides;
  std::vector<size_t> offset(axes.size() + 1, 0);  // axis a's values: slots [offset[a], offset[a + 1])
  for (size_t a = 0; a < axes.size(); ++a) offset[a + 1] = offset[a] + axes[a].values.size();
  std::vector<size_t> slot(offset.back(), SIZE_MAX);  // axis value -> its distinct entry
  overrides.first.resize(total + 1);
  overrides.entries.reserve(total * axes.size());
  std::vector<size_t> idx(axes.size(), 0);
  for (size_t c = 0; c < total; ++c) {
    overrides.first[c] = overrides.entries.size();
    value_index(c, idx);
    for (size_t a = 0; a < axes.size(); ++a) {
      size_t& d = slot[offset[a] + idx[a]];
      if (d == SIZE_MAX) {
        d = overrides.distinct.size();
        overrides.distinct.push_back({&axes[a].path, &axes[a].values[idx[a]]});
      }
      overrides.entries.push_back(d);
    }
  }
  overrides.first[total] = overrides.entries.size();
  auto combination = [&](size_t c) {
    std::vector<size_t> at(axes.size());
    value_index(c, at);
    Combination combo;
    for (size_t a = 0; a < axes.size(); ++a) combo.push_back(ConfigOverride{axes[a].path, axes[a].values[at[a]]});
    return combo;
  };
  std::vector<Status> errors(total);
  RETURN_IF_ERROR(RunDistinct(
      context, base_config, base, overrides, combination, scorers, RunOptions{.threads = threads, .record_curves = false},
      [&](size_t c, const BacktestSpec&, Result<BacktestResult>&& r) {
        if (r.ok()) {
          cells[c].metrics = r->metrics;
        } else {
          errors[c] = r.status();
        }
      },
      /*spec_read=*/false, fill_cells));
  for (const auto& e : errors) RETURN_IF_ERROR(e);
  return cells;
}

}  // namespace

Result<std::vector<GridCell>> RunGridOnContext(BacktestContext& context, const YAML::Node& base_config,
                                               const std::vector<GridAxis>& axes,
                                               const ScorerFactory& scorers, int threads) {
  ExpectParallelFor(Workers(threads));  // the helpers get up while the combinations are listed
  ASSIGN_OR_RETURN(const size_t total, GridSize(axes));
  // base.config is only read (cloned for the checks) while base_config is ours to read.
  ASSIGN_OR_RETURN(auto base, ParseBacktestSpecSharing(base_config));
  return RunGridOnBase(context, base, total, axes, scorers, threads);
}

Result<std::vector<GridCell>> RunGridOnContext(BacktestContext& context, const BacktestSpec& base,
                                               const std::vector<GridAxis>& axes,
                                               const ScorerFactory& scorers, int threads) {
  ExpectParallelFor(Workers(threads));
  ASSIGN_OR_RETURN(const size_t total, GridSize(axes));
  return RunGridOnBase(context, base, total, axes, scorers, threads);
}

Result<std::vector<GridCell>> RunGrid(const Workspace& ws, const YAML::Node& base_config,
                                      const std::vector<GridAxis>& axes,
                                      const ScorerFactory& scorers, int threads) {
  ExpectParallelFor(Workers(threads));  // the helpers get up (or start) while the data loads
  ASSIGN_OR_RETURN(auto base, ParseBacktestSpecSharing(base_config));  // as in RunGridOnContext
  ASSIGN_OR_RETURN(auto context, BacktestContext::Load(ws, base));
  return RunGridOnContext(context, base, axes, scorers, threads);  // parsed once, for the data and the grid
}

void AppendGridCellJson(std::string& out, const GridCell& cell) {
  // MetricsToJson's fields in the order an object dumps its keys (nlohmann's std::map: sorted).
  struct Field {
    const char* key;
    double PerformanceMetrics::*real;
    int64_t PerformanceMetrics::*integer;
  };
  using M = PerformanceMetrics;
  static constexpr Field kFields[] = {
      {"cagr", &M::cagr, nullptr},           {"exposure", &M::exposure, nullptr},
      {"final_equity", &M::final_equity, nullptr}, {"initial_cash", &M::initial_cash, nullptr},
      {"max_drawdown", &M::max_drawdown, nullptr}, {"orders", nullptr, &M::orders},
      {"sharpe", &M::sharpe, nullptr},       {"sortino", &M::sortino, nullptr},
      {"total_fees", &M::total_fees, nullptr}, {"total_return", &M::total_return, nullptr},
      {"trades", nullptr, &M::trades},       {"volatility", &M::volatility, nullptr},
      {"win_rate", &M::win_rate, nullptr}};
  char buf[64];
  out += "{\"metrics\":";  // "metrics" < "params"
  char sep = '{';
  for (const Field& f : kFields) {
    out += sep;
    sep = ',';
    out += '"';
    out += f.key;
    out += "\":";
    if (f.integer) {
      out.append(buf, std::to_chars(buf, buf + sizeof buf, cell.metrics.*f.integer).ptr);
    } else if (const double v = cell.metrics.*f.real; !std::isfinite(v)) {
      out += "null";
    } else {
      out.append(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf, v));  // nlohmann's own text
    }
  }
  out += "},\"params\":";
  cell.params.AppendDump(out);
  out += '}';
}

nlohmann::json GridParams::ToJson() const {
  if (!table_) return object_;
  nlohmann::json out = nlohmann::json::object();
  for (size_t a = 0; a < table_->keys.size(); ++a) out[table_->keys[a]] = table_->values[a][table_->At(index_, a)];
  return out;
}

void GridParams::AppendDump(std::string& out) const {
  if (!table_ || table_->texts.size() != table_->keys.size()) {
    out += ToJson().dump();
    return;
  }
  if (table_->members.empty()) {
    out += "{}";
    return;
  }
  char sep = '{';
  for (size_t a : table_->members) {
    out += sep;
    sep = ',';
    out += table_->texts[a][table_->At(index_, a)];
  }
  out += '}';
}

std::string GridParams::dump() const {
  std::string out;
  AppendDump(out);
  return out;
}

const nlohmann::json& GridParams::operator[](std::string_view key) const {
  static const nlohmann::json kNull;
  if (!table_) {
    if (!object_.is_object()) return kNull;
    const auto it = object_.find(std::string(key));
    return it == object_.end() ? kNull : *it;
  }
  for (size_t a = table_->keys.size(); a-- > 0;) {  // a repeated key: its last axis's value
    if (table_->keys[a] == key) return table_->values[a][table_->At(index_, a)];
  }
  return kNull;
}

nlohmann::json MetricsToJson(const PerformanceMetrics& m) {
  return {{"cagr", m.cagr},
          {"max_drawdown", m.max_drawdown},
          {"sharpe", m.sharpe},
          {"sortino", m.sortino},
          {"volatility", m.volatility},
          {"total_return", m.total_return},
          {"trades", m.trades},
          {"win_rate", m.win_rate},
          {"exposure", m.exposure},
          {"final_equity", m.final_equity},
          {"initial_cash", m.initial_cash},
          {"orders", m.orders},
          {"total_fees", m.total_fees}};
}

nlohmann::json BuildSummary(const BacktestSpec& spec, const BacktestContext& context,
                            const BacktestResult& result) {
  nlohmann::json s = MetricsToJson(result.metrics);
  auto position_json = [](const OpenPosition& p) {
    return nlohmann::json{{"symbol", p.symbol},           {"entry_date", FormatDate(p.entry_date)},
                          {"entry_price", p.entry_price}, {"shares", p.shares},
                          {"last_close", p.last_close},   {"market_value", p.market_value},
                          {"unrealized_pnl", p.unrealized_pnl}};
  };
  s["open_position"] = result.open_positions.empty() ? nlohmann::json(nullptr)
                                                     : position_json(result.open_positions.front());
  s["open_positions"] = nlohmann::json::array();
  for (const auto& p : result.open_positions) s["open_positions"].push_back(position_json(p));
  const YAML::Node strategy = spec.config["strategy"];
  nlohmann::json params = strategy && strategy["params"] ? YamlToJson(strategy["params"]) : nlohmann::json::object();
  if (params.is_null()) params = nlohmann::json::object();
  s["strategy"] = {{"type", std::string(StrategyTypeName(spec.type))}, {"params", params}};
  s["dataset"] = spec.dataset;
  nlohmann::json tickers = nlohmann::json::array();
  if (spec.type == StrategyType::kTopN) {
    for (const auto& series : context.universe().series) tickers.push_back(series.symbol);
  } else {
    for (size_t i : context.traded()) tickers.push_back(context.universe().series[i].symbol);
  }
  s["tickers"] = tickers;
  // The traded window (after the warm-up history); a run without curves falls back to the
  // loaded calendar from the start date.
  std::vector<int32_t> dates = result.dates;
  if (dates.empty()) {
    const auto& cal = context.universe().calendar;
    dates.assign(cal.begin() + static_cast<std::ptrdiff_t>(context.WarmupBars(spec)), cal.end());
  }
  s["start"] = dates.empty() ? nlohmann::json(nullptr) : nlohmann::json(FormatDate(dates.front()));
  s["end"] = dates.empty() ? nlohmann::json(nullptr) : nlohmann::json(FormatDate(dates.back()));
  s["bars"] = dates.size();
  s["warmup_bars"] = context.WarmupBars(spec);
  // What the user gets: the average share of the equity held in instruments, the share of
  // bars under a risk-off decision, and the drawdown-stop lock-outs (topn).
  double invested = 0;
  size_t marked = 0;
  for (size_t t = 0; t < result.equity.size(); ++t) {
    if (result.equity[t] > 0) {
      invested += result.holdings[t] / result.equity[t];
      ++marked;
    }
  }
  s["avg_invested_share"] = marked ? invested / static_cast<double>(marked) : 0.0;
  s["risk_off_share"] = result.risk_off_share;
  nlohmann::json spells = nlohmann::json::array();
  for (const auto& sp : result.lockout_spells) {
    spells.push_back({{"start", FormatDate(sp.start)}, {"end", FormatDate(sp.end)}, {"bars", sp.bars}});
  }
  s["lockout_spells"] = spells;
  s["delisting_haircut"] = spec.delisting_haircut;
  s["scores_path"] = spec.scores_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(spec.scores_path);
  s["fee_bps"] = spec.fee_bps;
  nlohmann::json stats = nlohmann::json::object();
  for (const auto& [k, v] : LeanStatistics(result.metrics)) stats[k] = v;
  s["statistics"] = stats;
  return s;
}

namespace {

char* WriteDate(char* buf, int32_t days) {
  int y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  buf[0] = static_cast<char>('0' + y / 1000 % 10);
  buf[1] = static_cast<char>('0' + y / 100 % 10);
  buf[2] = static_cast<char>('0' + y / 10 % 10);
  buf[3] = static_cast<char>('0' + y % 10);
  buf[4] = '-';
  buf[5] = static_cast<char>('0' + m / 10);
  buf[6] = static_cast<char>('0' + m % 10);
  buf[7] = '-';
  buf[8] = static_cast<char>('0' + d / 10);
  buf[9] = static_cast<char>('0' + d % 10);
  return buf + 10;
}

void AppendDate(std::string& out, int32_t days) {
  char buf[16];
  out.append(buf, WriteDate(buf, days));
}

// Write to a temporary name in the folder, then rename: readers never see half a file. No
// fsync: a backtest folder can be regenerated, and summary.json (written last) marks it complete.
Status WriteFileQuick(int dir_fd, const std::filesystem::path& dir, const char* name, std::string_view content) {
  const std::string tmp = std::string(name) + ".tmp";
  if (const int err = WriteNewFileAt(dir_fd, tmp.c_str(), content)) {
    return Status::Internal("cannot write " + (dir / tmp).string() + ": " + std::strerror(err));
  }
  if (::renameat(dir_fd, tmp.c_str(), dir_fd, name) != 0) {
    return Status::Internal("cannot rename " + (dir / tmp).string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

// One file of a fresh backtest folder written in place: open, one write (looped only on a
// short write), close. The folder is new (its bt_run_id is unique) and is complete only once
// summary.json, written last through WriteFileQuick, exists; no reader takes a folder without
// it (registry/indexer, the results routes), so the CSVs need no temporary name and rename.
Status WriteFileDirect(int dir_fd, const std::filesystem::path& dir, const char* name, std::string_view content) {
  if (const int err = WriteNewFileAt(dir_fd, name, content)) {
    return Status::Internal("cannot write " + (dir / name).string() + ": " + std::strerror(err));
  }
  return Status::Ok();
}

// The backtest folder `name` of `parent_fd` created (an existing one is reused, as mkdir -p
// would) and opened; a symlink there is refused, never followed.
Result<UniqueFd> OpenOutputFolder(int parent_fd, const char* name, const std::filesystem::path& shown_dir) {
  if (::mkdirat(parent_fd, name, 0755) != 0 && errno != EEXIST) {
    return Status::Internal("cannot create " + shown_dir.string() + ": " + std::strerror(errno));
  }
  const int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Status::Internal("cannot open " + shown_dir.string() + ": " + std::strerror(err) +
                            (err == ELOOP || err == ENOTDIR ? " (a symlink or non-folder there is refused)" : ""));
  }
  return UniqueFd(fd);
}

Status WriteOutputsInto(int dir_fd, const std::filesystem::path& out_dir, const BacktestSpec& spec,
                        const BacktestContext& context, const BacktestResult& result,
                        const nlohmann::json& summary_extra, nlohmann::json* summary_out, std::string* summary_text);

// The "YYYY-MM-DD" text of every date of a run, 10 bytes each. The runs of one grid share
// their dates: each thread keeps the last table and rebuilds it only when the dates differ.
const char* DateTexts(const std::vector<int32_t>& dates) {
  thread_local std::vector<int32_t> cached_dates;
  thread_local std::vector<char> cached_text;
  if (dates != cached_dates || cached_text.size() != dates.size() * 10) {
    cached_text.resize(dates.size() * 10);
    for (size_t i = 0; i < dates.size(); ++i) WriteDate(cached_text.data() + 10 * i, dates[i]);
    cached_dates = dates;
  }
  return cached_text.data();
}

// The text of every value of a column with D decimals, the same for every run of a grid over
// the same data (the buy-and-hold benchmark column of equity.csv): each thread keeps the last
// column's values and texts and formats them again only when a value's bits differ.
template <int D>
struct ColumnTexts {
  std::vector<double> values;
  std::vector<char> text;      // the texts one after another, then kMaxFixedChars of slack
  std::vector<uint32_t> ends;  // where each value's text ends in `text`
};

template <int D>
const ColumnTexts<D>& CachedColumnTexts(const std::vector<double>& values) {
  thread_local ColumnTexts<D> cache;
  const bool same = cache.values.size() == values.size() &&
                    (values.empty() || std::memcmp(cache.values.data(), values.data(), values.size() * sizeof(double)) == 0);
  if (!same) {
    cache.values = values;
    cache.text.resize(values.size() * kMaxFixedChars + kMaxFixedChars);
    cache.ends.resize(values.size());
    char* o = cache.text.data();
    for (size_t i = 0; i < values.size(); ++i) {
      o = WriteFixedD<D>(o, values[i]);  // stores up to 8 bytes past its end: overwritten next
      cache.ends[i] = static_cast<uint32_t>(o - cache.text.data());
    }
  }
  return cache;
}

// One column of equity.csv while its rows are written. A column often repeats its previous
// value (cash between trades, everything while flat): the previous text is reused for the
// same bits.
struct EquityColumn {
  uint64_t bits = 0;
  size_t len = 0;  // 0: nothing formatted yet
  char text[kMaxFixedChars] = {};
};

// Writes `v` with D decimals at `e` through the column's last text; returns the end. Copies a
// fixed 32 bytes (two vector moves) instead of a libc memcpy call per number: a row's budget
// (kMaxEquityRow) leaves kMaxFixedChars per column, so it stays in the buffer.
template <int D>
char* PutColumn(char* e, EquityColumn& c, double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (c.len == 0 || bits != c.bits) {
    c.len = static_cast<size_t>(WriteFixedD<D>(c.text, v) - c.text);
    c.bits = bits;
  }
  if (c.len <= 32) {
    std::memcpy(e, c.text, 32);
  } else {
    std::memcpy(e, c.text, c.len);
  }
  return e + c.len;
}

// The benchmark's instruments: those the strategy trades (sma_cross / signal), or picks from
// (topn: its tickers, not the market or defensive symbols loaded for its filters; all loaded
// instruments when it has no tickers).
std::vector<std::string> BenchmarkSymbols(const BacktestSpec& spec, const BacktestContext& context) {
  std::vector<std::string> out;
  if (spec.type == StrategyType::kTopN) {
    if (!spec.tickers.empty()) return spec.tickers;
    for (const auto& series : context.universe().series) out.push_back(series.symbol);
  } else {
    for (size_t i : context.traded()) out.push_back(context.universe().series[i].symbol);
  }
  return out;
}

}  // namespace

Status WriteBacktestOutputs(const std::filesystem::path& out_dir, const BacktestSpec& spec,
                            const BacktestContext& context, const BacktestResult& result,
                            const nlohmann::json& summary_extra, nlohmann::json* summary_out,
                            std::string* summary_text) {
  const std::filesystem::path parent = out_dir.parent_path().empty() ? "." : out_dir.parent_path();
  // One open when the parent exists (every run but the first); otherwise the whole path first.
  UniqueFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd.valid()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return Status::Internal("cannot create " + parent.string() + ": " + ec.message());
    parent_fd = UniqueFd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent_fd.valid()) return Status::Internal("cannot open " + parent.string() + ": " + std::strerror(errno));
  }
  return WriteBacktestOutputsAt(parent_fd.get(), out_dir.filename().string(), out_dir, spec, context, result,
                                summary_extra, summary_out, summary_text);
}

Status WriteBacktestOutputsAt(int parent_fd, const std::string& name, const std::filesystem::path& shown_dir,
                              const BacktestSpec& spec, const BacktestContext& context, const BacktestResult& result,
                              const nlohmann::json& summary_extra, nlohmann::json* summary_out,
                              std::string* summary_text) {
  ASSIGN_OR_RETURN(UniqueFd dir, OpenOutputFolder(parent_fd, name.c_str(), shown_dir));
  return WriteOutputsInto(dir.get(), shown_dir, spec, context, result, summary_extra, summary_out, summary_text);
}

namespace {

Status WriteOutputsInto(int dir_fd, const std::filesystem::path& out_dir, const BacktestSpec& spec,
                        const BacktestContext& context, const BacktestResult& result,
                        const nlohmann::json& summary_extra, nlohmann::json* summary_out, std::string* summary_text) {
  nlohmann::json summary = BuildSummary(spec, context, result);
  // The buy-and-hold benchmark over the same bars: a `benchmark` column of equity.csv and its
  // description and total return in summary.json.
  const Benchmark benchmark = BuyAndHold(context.universe(), BenchmarkSymbols(spec, context), result.dates,
                                         spec.initial_cash);
  const bool has_benchmark = !benchmark.values.empty();
  if (has_benchmark) {
    summary["benchmark"] = {{"kind", benchmark.kind}, {"symbols", benchmark.symbols},
                            {"total_return", benchmark.total_return}};
    summary["benchmark_return"] = benchmark.total_return;
  }
  for (auto it = summary_extra.begin(); it != summary_extra.end(); ++it) summary[it.key()] = it.value();
  // equity.csv is most of a folder's bytes: rows go straight into a per-thread buffer large
  // enough for the longest possible row (no reallocation, no per-number string appends).
  const std::string_view equity_header =
      has_benchmark ? "date,equity,cash,holdings,drawdown,benchmark\n" : "date,equity,cash,holdings,drawdown\n";
  static constexpr size_t kMaxEquityRow = 10 + 5 * (1 + kMaxFixedChars) + 1;
  thread_local std::vector<char> equity_buffer;
  equity_buffer.resize(std::max(equity_buffer.size(), equity_header.size() + result.dates.size() * kMaxEquityRow));
  char* const equity_begin = equity_buffer.data();
  char* e = std::copy(equity_header.begin(), equity_header.end(), equity_begin);
  EquityColumn columns[4];  // equity, cash, holdings, drawdown
  double peak = 0;
  const char* const date_text = DateTexts(result.dates);
  const ColumnTexts<4>* const bench_text = has_benchmark ? &CachedColumnTexts<4>(benchmark.values) : nullptr;
  // The other files' dates are days of the run: their text comes from the same table.
  auto append_date = [&](std::string& out, int32_t day) {
    const auto at = std::lower_bound(result.dates.begin(), result.dates.end(), day);
    if (at != result.dates.end() && *at == day) {
      out.append(date_text + 10 * (at - result.dates.begin()), 10);
    } else {
      AppendDate(out, day);
    }
  };
  for (size_t i = 0; i < result.dates.size(); ++i) {
    peak = std::max(peak, result.equity[i]);
    const double dd = peak > 0 ? 1.0 - result.equity[i] / peak : 0.0;
    std::memcpy(e, date_text + 10 * i, 10);
    e += 10;
    *e++ = ',';
    e = PutColumn<4>(e, columns[0], result.equity[i]);
    *e++ = ',';
    e = PutColumn<4>(e, columns[1], result.cash[i]);
    *e++ = ',';
    e = PutColumn<4>(e, columns[2], result.holdings[i]);
    *e++ = ',';
    e = PutColumn<6>(e, columns[3], dd);
    if (has_benchmark) {
      *e++ = ',';
      const size_t from = i ? bench_text->ends[i - 1] : 0, len = bench_text->ends[i] - from;
      if (len <= 32) {
        std::memcpy(e, bench_text->text.data() + from, 32);  // the slack keeps it inside the text
      } else {
        std::memcpy(e, bench_text->text.data() + from, len);
      }
      e += len;
    }
    *e++ = '\n';
  }
  const std::string_view equity(equity_begin, static_cast<size_t>(e - equity_begin));
  std::string trades = "symbol,entry_date,entry_price,exit_date,exit_price,shares,pnl,return,fees,exit_reason\n";
  trades.reserve(trades.size() + (result.trades.size() + result.open_positions.size()) * 128);
  for (const auto& t : result.trades) {
    trades += t.symbol;
    trades += ',';
    append_date(trades, t.entry_date);
    trades += ',';
    AppendFixed(trades, t.entry_price, 6);
    trades += ',';
    append_date(trades, t.exit_date);
    trades += ',';
    AppendFixed(trades, t.exit_price, 6);
    trades += ',';
    AppendFixed(trades, t.shares, 0);
    trades += ',';
    AppendFixed(trades, t.pnl, 4);
    trades += ',';
    AppendFixed(trades, t.ret, 8);
    trades += ',';
    AppendFixed(trades, t.fees, 4);
    trades += ',';
    trades += FillReasonName(t.exit_reason);
    trades += '\n';
  }
  // Positions still open at the last bar: marked at its close without an exit fee, exit
  // reason `end` (they are in open_positions and not counted in `trades`).
  for (const auto& p : result.open_positions) {
    if (result.dates.empty()) break;
    trades += p.symbol;
    trades += ',';
    append_date(trades, p.entry_date);
    trades += ',';
    AppendFixed(trades, p.entry_price, 6);
    trades += ',';
    append_date(trades, result.dates.back());
    trades += ',';
    AppendFixed(trades, p.last_close, 6);
    trades += ',';
    AppendFixed(trades, p.bought_shares, 0);
    trades += ',';
    AppendFixed(trades, p.unrealized_pnl, 4);
    trades += ',';
    AppendFixed(trades, p.cost_basis > 0 ? p.unrealized_pnl / p.cost_basis : 0.0, 8);
    trades += ',';
    AppendFixed(trades, p.fees, 4);
    trades += ',';
    trades += FillReasonName(FillReason::kEnd);
    trades += '\n';
  }
  std::string fills = "date,symbol,side,shares,price,fee,reason\n";
  fills.reserve(fills.size() + result.fills.size() * 96);
  for (const auto& f : result.fills) {
    append_date(fills, f.date);
    fills += ',';
    fills += f.symbol;
    fills += f.buy ? ",buy," : ",sell,";
    AppendFixed(fills, f.shares, 0);
    fills += ',';
    AppendShortest(fills, f.price);
    fills += ',';
    AppendShortest(fills, f.fee);
    fills += ',';
    fills += FillReasonName(f.reason);
    fills += '\n';
  }
  std::string positions = "date,symbol,shares,price,weight\n";
  positions.reserve(positions.size() + result.positions.size() * 96);
  for (const auto& p : result.positions) {
    append_date(positions, p.date);
    positions += ',';
    positions += p.symbol;
    positions += ',';
    AppendShortest(positions, p.shares);
    positions += ',';
    AppendShortest(positions, p.price);
    positions += ',';
    AppendShortest(positions, p.weight);
    positions += '\n';
  }
  RETURN_IF_ERROR(WriteFileDirect(dir_fd, out_dir, "equity.csv", equity));
  RETURN_IF_ERROR(WriteFileDirect(dir_fd, out_dir, "trades.csv", trades));
  RETURN_IF_ERROR(WriteFileDirect(dir_fd, out_dir, "fills.csv", fills));
  RETURN_IF_ERROR(WriteFileDirect(dir_fd, out_dir, "positions.csv", positions));
  if (spec.type != StrategyType::kSmaCross) {
    std::string scores = "date,symbol,score,rank,selected\n";
    scores.reserve(result.scores.size() * 40);
    for (const auto& r : result.scores) {
      append_date(scores, r.date);
      scores += ',';
      scores += r.symbol;
      scores += ',';
      AppendShortest(scores, r.score);  // reads back to the same score (a scores_path input)
      scores += ',';
      scores += std::to_string(r.rank);
      scores += r.selected ? ",1\n" : ",0\n";
    }
    RETURN_IF_ERROR(WriteFileDirect(dir_fd, out_dir, "scores.csv", scores));
  }
  RETURN_IF_ERROR(WriteFileDirect(dir_fd, out_dir, "config.yaml", DumpYamlCached(spec.config)));
  std::string summary_file = summary.dump(2) + "\n";
  RETURN_IF_ERROR(WriteFileQuick(dir_fd, out_dir, "summary.json", summary_file));
  if (summary_out) *summary_out = std::move(summary);
  if (summary_text) *summary_text = std::move(summary_file);
  return Status::Ok();
}

}  // namespace

}  // namespace alphalab::engine

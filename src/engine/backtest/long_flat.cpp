#include "engine/backtest/long_flat.hpp"

#include "engine/backtest/cross_kernels.hpp"
#include "engine/backtest/lane_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace alphalab::engine {

namespace {

// Warm-up bars (before trade_from) only fed the signals: the walk starts after them.
size_t WalkStart(const BarSeries& bars, const LongFlatOptions& o) {
  return static_cast<size_t>(std::lower_bound(bars.date.begin(), bars.date.end(), o.trade_from) - bars.date.begin());
}

// What a long/flat walk leaves besides the marked bars.
struct WalkTotals {
  size_t first = 0, n = 0;  // the walk's bars: [first, first + n) of the series
  int64_t orders = 0;
  double total_fees = 0;
  size_t bars_long = 0;
  TradeTally tally;
  double shares = 0, entry_cost = 0, entry_fee = 0, entry_price = 0;  // a position still open
  int32_t entry_date = 0;
};

// The fill-to-fill walk of a long/flat run (the semantics at the top of long_flat.hpp): a
// flat stretch has a constant equity (cash), a held stretch is cash + shares x close. The
// fills and trades are computed here, once; `mark(begin, end, cash, shares)` gets each
// stretch of bars [begin, end) (walk indices) with a constant cash and position, in order,
// covering every bar of the walk (shares == 0: flat). The arithmetic of the fills is the
// per-bar definition; only the control flow skips. `record` (optional) receives the fills
// and trades.
template <typename Mark>
WalkTotals WalkLongFlat(const BarSeries& bars, const int8_t* signals, const LongFlatOptions& o,
                        BacktestResult* record, Mark&& mark) {
  WalkTotals w;
  w.first = WalkStart(bars, o);
  const size_t n = w.n = bars.size() - w.first;
  const int32_t* date = bars.date.data() + w.first;
  signals += w.first;
  const double fee = o.fee_rate;
  double cash = o.initial_cash;
  double shares = 0;
  const double* open = bars.open.data() + w.first;
  const double* close = bars.close.data() + w.first;
  // First bar j >= from (j >= 1, j <= n - 1) whose fill signal signals[j - 1] == want; n if none.
  auto next_fill = [&](size_t from, int8_t want) -> size_t {
    const size_t lo = from == 0 ? 0 : from - 1;
    if (n < 2 || lo >= n - 1) return n;
    const void* hit = std::memchr(signals + lo, static_cast<unsigned char>(want), n - 1 - lo);
    return hit ? static_cast<size_t>(static_cast<const int8_t*>(hit) - signals) + 1 : n;
  };
  size_t t = 0;  // first bar not yet accounted for
  while (t < n) {
    if (shares == 0) {
      const size_t j = next_fill(t, kSignalBuy);
      if (j > t) mark(t, j, cash, 0.0);
      if (j >= n) break;
      const double px = open[j];
      double q = std::floor(cash / (px * (1.0 + fee)));
      if (q > 0 && q * px + q * px * fee > cash) q -= 1;  // rounding guard: cash stays >= 0
      if (q > 0) {
        w.entry_cost = q * px;
        w.entry_fee = w.entry_cost * fee;
        cash -= w.entry_cost + w.entry_fee;
        shares = q;
        w.entry_price = px;
        w.entry_date = date[j];
        w.total_fees += w.entry_fee;
        ++w.orders;
        if (record) record->fills.push_back(Fill{date[j], bars.symbol, true, q, px, w.entry_fee, FillReason::kSignal});
        t = j;  // bar j is held (filled at its open)
      } else {
        mark(j, j + 1, cash, 0.0);
        t = j + 1;
      }
    } else {
      const size_t j = next_fill(t + 1, kSignalSell);  // a sell decided on bar t fills at t + 1
      // Delisted: the last bar is not marked held, the position is sold at its close.
      const bool delist = j >= n && o.delisted;
      const size_t held_end = delist ? n - 1 : j;
      if (held_end > t) mark(t, held_end, cash, shares);
      w.bars_long += held_end - t;
      if (j >= n && !delist) break;
      const FillReason why = delist ? FillReason::kDelisted : FillReason::kSignal;
      const size_t fill_bar = delist ? n - 1 : j;
      const double px = delist ? close[n - 1] * (1.0 - o.delisting_haircut) : open[j];
      const double proceeds = shares * px;
      const double exit_fee = proceeds * fee;
      cash += proceeds - exit_fee;
      w.total_fees += exit_fee;
      ++w.orders;
      const double basis = w.entry_cost + w.entry_fee;
      const double pnl = proceeds - exit_fee - basis;
      w.tally.Add(pnl, pnl / basis);
      if (record) {
        record->trades.push_back(Trade{bars.symbol, w.entry_date, w.entry_price, date[fill_bar], px, shares, pnl,
                                       pnl / basis, w.entry_fee + exit_fee, why});
        record->fills.push_back(Fill{date[fill_bar], bars.symbol, false, shares, px, exit_fee, why});
      }
      shares = 0;
      if (delist) {  // the last bar ends in cash
        mark(n - 1, n, cash, 0.0);
        break;
      }
      t = j;  // bar j is flat again (sold at its open)
    }
  }
  w.shares = shares;
  return w;
}

// The metrics of a finished walk whose bars went into `acc`.
PerformanceMetrics WalkMetrics(const BarSeries& bars, const WalkTotals& w, const EquityAccumulator& acc,
                               const LongFlatOptions& o) {
  const int32_t* date = bars.date.data() + w.first;
  return FinishPerformance(acc, w.n ? date[0] : 0, w.n ? date[w.n - 1] : 0, o.initial_cash, w.bars_long, &w.tally,
                           w.orders, w.total_fees);
}

}  // namespace

BacktestResult RunLongFlat(const BarSeries& bars, const int8_t* signals,
                           const LongFlatOptions& o) {
  BacktestResult result;
  EquityAccumulator acc;
  const bool record = o.record_curves;
  const size_t first = WalkStart(bars, o);
  const double* close = bars.close.data() + first;  // the walk's closes
  if (record) {
    const size_t n = bars.size() - first;
    result.dates.assign(bars.date.begin() + static_cast<std::ptrdiff_t>(first), bars.date.end());
    result.equity.resize(n);
    result.cash.resize(n);
    result.holdings.resize(n);
  }
  const auto w = WalkLongFlat(bars, signals, o, record ? &result : nullptr,
                              [&](size_t begin, size_t end, double cash, double shares) {
                                if (shares == 0) {
                                  acc.AddConstant(cash, end - begin);
                                } else {
                                  acc.AddMarked(cash, shares, close + begin, end - begin);
                                }
                                if (!record) return;
                                for (size_t i = begin; i < end; ++i) {
                                  const double holdings = shares == 0 ? 0.0 : shares * close[i];
                                  result.equity[i] = shares == 0 ? cash : cash + holdings;
                                  result.cash[i] = cash;
                                  result.holdings[i] = holdings;
                                }
                              });
  if (w.shares > 0 && w.n > 0) {
    const double last = bars.close[w.first + w.n - 1];
    result.open_positions.push_back(OpenPosition{bars.symbol, w.entry_date, w.entry_price, w.shares, last,
                                                 w.shares * last, w.shares * last - w.entry_cost - w.entry_fee,
                                                 w.shares, w.entry_cost + w.entry_fee, w.entry_fee});
  }
  result.metrics = WalkMetrics(bars, w, acc, o);
  return result;
}

void RunLongFlatMetrics(const BarSeries& bars, const int8_t* const* signals, const LongFlatOptions* options,
                        size_t count, PerformanceMetrics* out, SimdPath simd) {
  const auto kernel = ResolveSimd(simd) == SimdPath::kAvx2 ? MarkLanesAvx2 : MarkLanesGeneric;
  const size_t first = count ? WalkStart(bars, options[0]) : 0;
  const size_t n = bars.size() - first;
  const double* close = bars.close.data() + first;
  thread_local std::vector<LaneStretch> stretches[kLanes];
  for (size_t base = 0; base < count; base += kLanes) {
    const size_t lanes = std::min(kLanes, count - base);
    bool vector = n >= 2;
    WalkTotals walks[kLanes];
    EquitySums sums[kLanes];
    const LaneStretch* lists[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
      const size_t k = base + std::min(l, lanes - 1);  // a short last group repeats its last run
      const LongFlatOptions& o = options[k];
      vector = vector && o.initial_cash > 0 && WalkStart(bars, o) == first;
      auto& list = stretches[l];
      list.clear();
      walks[l] = WalkLongFlat(bars, signals[k], o, nullptr, [&](size_t, size_t end, double cash, double shares) {
        list.push_back(LaneStretch{end, cash, shares});
      });
      sums[l].count = 1;  // bar 0: the initial cash (a fill is never before bar 1)
      sums[l].last = sums[l].peak = sums[l].trough = o.initial_cash;
      lists[l] = list.data();
    }
    if (vector && kernel(close, n, lists, sums)) {
      for (size_t l = 0; l < lanes; ++l) {
        out[base + l] = WalkMetrics(bars, walks[l], EquityAccumulator(sums[l]), options[base + l]);
      }
      continue;
    }
    for (size_t l = 0; l < lanes; ++l) {  // a non-positive equity, or nothing to mark: one by one
      LongFlatOptions o = options[base + l];
      o.record_curves = false;
      out[base + l] = RunLongFlat(bars, signals[base + l], o).metrics;
    }
  }
}

std::vector<long double> PrefixSum(const std::vector<double>& values) {
  std::vector<long double> prefix(values.size() + 1);
  long double sum = 0;
  prefix[0] = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    sum += values[i];
    prefix[i + 1] = sum;
  }
  return prefix;
}

void SimpleMovingAverageFromPrefix(const std::vector<long double>& prefix, int window,
                                   std::vector<double>& out) {
  const size_t n = prefix.empty() ? 0 : prefix.size() - 1;
  out.assign(n, std::numeric_limits<double>::quiet_NaN());
  if (window < 1) return;
  const size_t w = static_cast<size_t>(window);
  const long double inv = 1.0L / static_cast<long double>(w);
  for (size_t t = w - 1; t < n; ++t) {
    out[t] = static_cast<double>((prefix[t + 1] - prefix[t + 1 - w]) * inv);
  }
}

std::vector<double> SimpleMovingAverage(const std::vector<double>& values, int window) {
  std::vector<double> out;
  SimpleMovingAverageFromPrefix(PrefixSum(values), window, out);
  return out;
}

void SmaCrossSignals(const double* fast, const double* slow, size_t n, int8_t* out) {
  if (n == 0) return;
  out[0] = kSignalNone;
  for (size_t t = 1; t < n; ++t) {
    const bool up = fast[t - 1] < slow[t - 1] && fast[t] > slow[t];
    const bool down = fast[t - 1] > slow[t - 1] && fast[t] < slow[t];
    out[t] = static_cast<int8_t>(up ? kSignalBuy : (down ? kSignalSell : kSignalNone));
  }
}

namespace {

size_t BitLength(size_t v) {
  size_t b = 0;
  while (v) {
    ++b;
    v >>= 1;
  }
  return b;
}

// Largest |v| (two independent accumulators kept in registers). NaN is skipped here; the
// caller detects inf/NaN through the prefix sum.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, optimize("no-tree-slp-vectorize")))
#endif
double MaxAbs(const double* v, size_t n) {
  double m0 = 0, m1 = 0;
  size_t i = 0;
  for (; i + 1 < n; i += 2) {
    const double a = std::fabs(v[i]), b = std::fabs(v[i + 1]);
    m0 = a > m0 ? a : m0;
    m1 = b > m1 ? b : m1;
  }
  if (i < n) {
    const double a = std::fabs(v[i]);
    m0 = a > m0 ? a : m0;
  }
  return m0 > m1 ? m0 : m1;
}

}  // namespace

// Why the fast decision equals the old one (all quantities in grid units 2^-k):
//  * q_i = round(close_i * 2^k) is within 1/2 of close_i * 2^k, so a grid mean m' is within
//    1/2 of the exact mean m of the doubles, and |m'_f - m'_s - (m_f - m_s)| <= 1.
//  * the old mean o (long-double prefix sum, difference, times 1/w, rounded to double) is
//    within e_old(w) = 2.02 n u_l A / w + (3.1 u_l + 1.01 u) M of m (A = sum |close|,
//    M = max |close|, u_l / u the long-double / double unit roundoffs; standard bounds for
//    a recursive sum of n terms and three roundings).
//  * D = S_f * slow - S_s * fast is computed from exact integer sums with two products and
//    a difference: |D - D*| <= 4.04 u fast slow (M + 1), D* = fast slow (m'_f - m'_s).
//  So D > T = fast slow (1 + e_old(f) + e_old(s) + 4.04 u (M + 1)) implies o_f > o_s, and
//  D < -T implies o_f < o_s; otherwise (ties, near-ties) the old formula itself decides.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-slp-vectorize")))  // see EquityAccumulator::AddMarked
#endif
SmaCrossSeries::SmaCrossSeries(const std::vector<double>& close)
    : n_(close.size()), lazy_(std::make_unique<Lazy>()) {
  const double max_abs = MaxAbs(close.data(), close.size());
  const bool finite = max_abs <= std::numeric_limits<double>::max();
  const size_t bits_n = BitLength(n_ + 1);
  const int budget = std::min(40, 52 - static_cast<int>(bits_n));
  int e = 0;
  if (max_abs > 0) std::frexp(max_abs, &e);  // max_abs < 2^e
  if (!finite || n_ == 0 || budget < 16 || e < -900 || e > 900) return;
  const int k = budget - e;
  const double scale = std::ldexp(1.0, k);
  constexpr double kRound = 0x1.8p52;  // (v + kRound) - kRound rounds |v| < 2^51 to nearest
  grid_prefix_.resize(n_ + 1);
  grid_prefix_[0] = 0;
  // Sums of integers below 2^52 are exact in any order: two elements per step halve the
  // loop-carried add chain.
  double sum = 0;
  double* out = grid_prefix_.data();
  size_t i = 0;
  for (; i + 1 < n_; i += 2) {
    const double a = (close[i] * scale + kRound) - kRound;  // the scaling is exact (2^k)
    const double b = (close[i + 1] * scale + kRound) - kRound;
    out[i + 1] = sum + a;
    sum += a + b;
    out[i + 2] = sum;
  }
  if (i < n_) out[i + 1] = sum + ((close[i] * scale + kRound) - kRound);
  if (!std::isfinite(out[n_])) {  // a NaN somewhere: only the old formula defines the means
    grid_prefix_.clear();
    return;
  }
  const double sum_abs = static_cast<double>(n_) * max_abs * scale;  // >= sum of |v|
  const double u = std::numeric_limits<double>::epsilon() / 2;
  const double ul = std::numeric_limits<long double>::epsilon() / 2;
  const double m = max_abs * scale;
  old_err_num_ = 2.02 * static_cast<double>(n_) * ul * sum_abs * 1.01;
  old_err_const_ = (3.1 * ul + 1.01 * u) * m;
  prod_err_ = 4.04 * u * (m + 1.0);
  fast_ok_ = true;
}

void SmaCrossSeries::CacheWindow(int window) {
  if (!fast_ok_ || window < 1 || static_cast<size_t>(window) > n_) return;
  const size_t w = static_cast<size_t>(window);
  if (window_sums_.size() <= w) window_sums_.resize(w + 1);
  auto& out = window_sums_[w];
  if (!out.empty()) return;
  out.assign(n_, 0.0);
  const double* p = grid_prefix_.data();
  for (size_t t = w - 1; t < n_; ++t) out[t] = p[t + 1] - p[t + 1 - w];  // exact
}

size_t SmaCrossSeries::fallback_count() const { return lazy_->fallbacks.load(); }

int8_t SmaCrossSeries::OldSign(const std::vector<double>& close, size_t t, int fast,
                               int slow) const {
  std::call_once(lazy_->once, [&] { lazy_->prefix = PrefixSum(close); });
  lazy_->fallbacks.fetch_add(1, std::memory_order_relaxed);
  const auto& p = lazy_->prefix;
  auto mean = [&](int w) {
    const size_t ws = static_cast<size_t>(w);
    const long double inv = 1.0L / static_cast<long double>(ws);
    return static_cast<double>((p[t + 1] - p[t + 1 - ws]) * inv);
  };
  const double f = mean(fast), s = mean(slow);
  return static_cast<int8_t>((f > s) - (f < s));
}

void SmaCrossSeries::Signals(const std::vector<double>& close, int fast, int slow, int8_t* out,
                             SimdPath simd) const {
  const size_t n = n_;
  if (n == 0) return;
  std::memset(out, kSignalNone, n);
  if (fast < 1 || slow < 1) return;  // SimpleMovingAverage: all undefined
  const size_t fw = static_cast<size_t>(fast), sw = static_cast<size_t>(slow);
  const size_t m = std::max(fw, sw);
  if (m >= n) return;  // never two defined bars in a row
  if (fw == sw) return;  // the old formula gives identical means: never a strict cross
  if (!fast_ok_) {
    std::vector<double> f, s;
    std::vector<long double> prefix = PrefixSum(close);
    SimpleMovingAverageFromPrefix(prefix, fast, f);
    SimpleMovingAverageFromPrefix(prefix, slow, s);
    SmaCrossSignals(f.data(), s.data(), n, out);
    return;
  }
  CrossKernelArgs a;
  a.fast = fw;
  a.slow = sw;
  a.fast_d = static_cast<double>(fw);
  a.slow_d = static_cast<double>(sw);
  a.threshold = a.fast_d * a.slow_d *
                    (1.0 + old_err_num_ / a.fast_d + old_err_num_ / a.slow_d + 2 * old_err_const_ + prod_err_) *
                    (1.0 + 1e-9) +
                1.0;
  if (fw < window_sums_.size() && !window_sums_[fw].empty() && sw < window_sums_.size() &&
      !window_sums_[sw].empty()) {
    a.fast_sum = window_sums_[fw].data();  // the same exact window sums, precomputed
    a.slow_sum = window_sums_[sw].data();
  } else {
    a.prefix = grid_prefix_.data();
  }
  const auto kernel = ResolveSimd(simd) == SimdPath::kAvx2 ? CrossMasksAvx2 : CrossMasksGeneric;
  // Bars from m - 1 on, in blocks: the kernel gives each bar's side (fast above / below
  // slow, or inside the band, where the old formula decides); a strict cross is a bar on one
  // side whose previous bar was on the other (a tie in between is no cross). Bar m - 1 only
  // sets the side the first cross is measured from.
  constexpr size_t kWords = 16, kBlock = 64 * kWords;
  uint64_t pos[kWords], neg[kWords];
  int prev = 0;
  for (size_t begin = m - 1; begin < n; begin += kBlock) {
    const size_t end = std::min(n, begin + kBlock);
    kernel(a, begin, end, pos, neg);
    for (size_t k = 0; k * 64 < end - begin; ++k) {
      const size_t base = begin + 64 * k;
      const size_t len = std::min<size_t>(64, end - base);
      const uint64_t valid = len == 64 ? ~uint64_t{0} : (uint64_t{1} << len) - 1;
      uint64_t p = pos[k], q = neg[k];
      for (uint64_t band = ~(p | q) & valid; band; band &= band - 1) {
        const int j = __builtin_ctzll(band);
        const int s = OldSign(close, base + static_cast<size_t>(j), fast, slow);
        if (s > 0) p |= uint64_t{1} << j;
        if (s < 0) q |= uint64_t{1} << j;
      }
      const uint64_t was_pos = (p << 1) | static_cast<uint64_t>(prev > 0);
      const uint64_t was_neg = (q << 1) | static_cast<uint64_t>(prev < 0);
      for (uint64_t buy = p & was_neg; buy; buy &= buy - 1) out[base + __builtin_ctzll(buy)] = kSignalBuy;
      for (uint64_t sell = q & was_pos; sell; sell &= sell - 1) out[base + __builtin_ctzll(sell)] = kSignalSell;
      prev = static_cast<int>((p >> (len - 1)) & 1) - static_cast<int>((q >> (len - 1)) & 1);
    }
  }
}

void ThresholdSignals(const double* scores, size_t n, double cutoff, int8_t* out) {
  for (size_t t = 0; t < n; ++t) {
    out[t] = static_cast<int8_t>(scores[t] >= cutoff ? kSignalBuy : kSignalSell);  // NaN -> sell
  }
}

BacktestResult RunSleeves(const std::vector<const BarSeries*>& bars,
                          const std::vector<std::vector<int8_t>>& signals,
                          const LongFlatOptions& o) {
  if (bars.size() == 1) return RunLongFlat(*bars[0], signals[0].data(), o);
  LongFlatOptions sleeve = o;
  sleeve.initial_cash = o.initial_cash / static_cast<double>(bars.size());
  sleeve.record_curves = true;
  std::vector<BacktestResult> parts;
  std::vector<int32_t> calendar;
  int32_t last_day = INT32_MIN;
  for (const auto* b : bars) {
    if (b->size()) last_day = std::max(last_day, b->date.back());
  }
  for (size_t k = 0; k < bars.size(); ++k) {
    sleeve.delisted = bars[k]->size() && bars[k]->date.back() < last_day;
    parts.push_back(RunLongFlat(*bars[k], signals[k].data(), sleeve));
    calendar.insert(calendar.end(), parts.back().dates.begin(), parts.back().dates.end());
  }
  std::sort(calendar.begin(), calendar.end());
  calendar.erase(std::unique(calendar.begin(), calendar.end()), calendar.end());
  BacktestResult result;
  const size_t n = calendar.size();
  result.dates = calendar;
  result.equity.assign(n, 0);
  result.cash.assign(n, 0);
  result.holdings.assign(n, 0);
  std::vector<uint8_t> long_any(n, 0);
  int64_t orders = 0;
  double fees = 0;
  std::vector<ClosedTradeStat> stats;
  for (size_t k = 0; k < parts.size(); ++k) {
    const auto& p = parts[k];
    size_t j = 0;
    double eq = sleeve.initial_cash, cash = sleeve.initial_cash, hold = 0;
    for (size_t t = 0; t < n; ++t) {
      if (j < p.dates.size() && p.dates[j] == calendar[t]) {
        eq = p.equity[j];
        cash = p.cash[j];
        hold = p.holdings[j];
        if (hold > 0) long_any[t] = 1;
        ++j;
      } else if (hold > 0) {
        long_any[t] = 1;  // held through a day this instrument has no bar
      }
      result.equity[t] += eq;
      result.cash[t] += cash;
      result.holdings[t] += hold;
    }
    orders += p.metrics.orders;
    fees += p.metrics.total_fees;
    for (const auto& tr : p.trades) stats.push_back({tr.pnl, tr.ret});
    result.trades.insert(result.trades.end(), p.trades.begin(), p.trades.end());
    result.fills.insert(result.fills.end(), p.fills.begin(), p.fills.end());
    result.open_positions.insert(result.open_positions.end(), p.open_positions.begin(),
                                 p.open_positions.end());
  }
  std::stable_sort(result.trades.begin(), result.trades.end(),
                   [](const Trade& a, const Trade& b) { return a.exit_date < b.exit_date; });
  std::stable_sort(result.fills.begin(), result.fills.end(),
                   [](const Fill& a, const Fill& b) { return a.date < b.date; });
  EquityAccumulator acc;
  size_t bars_long = 0;
  for (size_t t = 0; t < n; ++t) {
    acc.Add(result.equity[t]);
    bars_long += long_any[t];
  }
  result.metrics = FinishPerformance(acc, n ? calendar[0] : 0, n ? calendar[n - 1] : 0,
                                     o.initial_cash, bars_long, &stats, orders, fees);
  if (!o.record_curves) {
    result.dates.clear();
    result.equity.clear();
    result.cash.clear();
    result.holdings.clear();
    result.trades.clear();
    result.fills.clear();
  }
  return result;
}

}  // namespace alphalab::engine

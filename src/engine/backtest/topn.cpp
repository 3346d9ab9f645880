#include "engine/backtest/topn.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "core/clock.hpp"

namespace alphalab::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kBarsPer52Weeks = 252;

int Weekday(int32_t days) { return static_cast<int>((days % 7 + 10) % 7); }  // 0 = Monday
int32_t WeekStart(int32_t days) { return days - Weekday(days); }

struct Lot {
  double shares = 0;
  int32_t entry_date = 0;
  double bought_shares = 0, buy_notional = 0, buy_fees = 0;
  double sell_notional = 0, sell_fees = 0;
};

// A target decided at a close: instrument, weight of the equity, or `keep` (hold as is).
struct Target {
  size_t instrument = 0;
  double weight = 0;
  bool keep = false;
};

// What a decision close concluded about risk.
struct RiskState {
  bool risk_off = false;
  bool drawdown_stop = false;  // max_drawdown or max_drawdown_52w (else the market filter)
  double exposure = 1;         // max_exposure x drawdown tier
};

// The data a run reads but never changes: roles, the bar of each instrument on each
// calendar day, the market SMA, the delisting days, the alphabetical order of symbols.
class TopNInputs {
 public:
  TopNInputs(const Universe& u, const std::vector<std::vector<double>>& scores, const TopNParams& p)
      : u_(u), scores_(scores), p_(p), k_(u.series.size()), n_(u.calendar.size()) {}

  Status Build() {
    RETURN_IF_ERROR(CheckScores());
    RETURN_IF_ERROR(AssignRoles());
    IndexBars();
    ComputeMarketSma();
    MarkDelistings();
    std::vector<size_t> by_name(k_);
    std::iota(by_name.begin(), by_name.end(), size_t{0});
    std::sort(by_name.begin(), by_name.end(),
              [&](size_t a, size_t b) { return u_.series[a].symbol < u_.series[b].symbol; });
    alpha_.assign(k_, 0);
    for (size_t r = 0; r < k_; ++r) alpha_[by_name[r]] = r;
    return Status::Ok();
  }

  const Universe& u() const { return u_; }
  const TopNParams& p() const { return p_; }
  size_t k() const { return k_; }
  size_t n() const { return n_; }
  int32_t BarAt(size_t i, size_t c) const { return bar_[c * k_ + i]; }
  double Score(size_t i, int32_t j) const { return scores_[i][static_cast<size_t>(j)]; }
  double Open(size_t i, int32_t j) const { return u_.series[i].open[static_cast<size_t>(j)]; }
  double Close(size_t i, int32_t j) const { return u_.series[i].close[static_cast<size_t>(j)]; }
  bool rankable(size_t i) const { return rankable_[i]; }
  const std::vector<size_t>& defensive() const { return defensive_; }
  // True on the instrument's last bar when its series ends before the calendar does.
  bool DelistsOn(size_t i, int32_t day) const { return delist_day_[i] == day; }
  // Alphabetical position of the symbol (ranking ties).
  size_t Alpha(size_t i) const { return alpha_[i]; }

  // Market close below its SMA on calendar day c (false while the SMA is undefined or the
  // market has no bar that day).
  bool MarketBelowSma(size_t c) const {
    if (market_ < 0) return false;
    const size_t m = static_cast<size_t>(market_);
    const int32_t j = BarAt(m, c);
    return j >= 0 && !std::isnan(market_sma_[static_cast<size_t>(j)]) && Close(m, j) < market_sma_[static_cast<size_t>(j)];
  }

  // Weekly: the first bar of each week on/after rebalance_day; monthly: the first bar of
  // each month on/after day rebalance_day; daily: every bar.
  bool IsRebalanceBar(size_t c) const {
    switch (p_.rebalance_frequency) {
      case RebalanceFrequency::kDaily:
        return true;
      case RebalanceFrequency::kWeekly: {
        const int32_t d = u_.calendar[c];
        if (Weekday(d) < p_.rebalance_day) return false;
        if (c == 0) return true;
        const int32_t prev = u_.calendar[c - 1];
        return WeekStart(prev) != WeekStart(d) || Weekday(prev) < p_.rebalance_day;
      }
      case RebalanceFrequency::kMonthly: {
        int y, py;
        unsigned m, dd, pm, pd;
        CivilFromDays(u_.calendar[c], y, m, dd);
        if (static_cast<int>(dd) < p_.rebalance_day) return false;
        if (c == 0) return true;
        CivilFromDays(u_.calendar[c - 1], py, pm, pd);
        return py != y || pm != m || static_cast<int>(pd) < p_.rebalance_day;
      }
    }
    return false;
  }

  // Sample std of the simple daily returns of instrument i over the `w` bars ending at its
  // bar j (its own bars: a calendar day without a bar is skipped); NaN with fewer bars.
  double RealizedVol(size_t i, int32_t j, int w) const {
    const auto& c = u_.series[i].close;
    if (j < w) return kNaN;
    double mean = 0, m2 = 0;
    for (int s = 0; s < w; ++s) {
      const double r = c[static_cast<size_t>(j - s)] / c[static_cast<size_t>(j - s - 1)] - 1.0;
      const double delta = r - mean;
      mean += delta / (s + 1);
      m2 += delta * (r - mean);
    }
    return w > 1 ? std::sqrt(m2 / (w - 1)) : 0.0;
  }

 private:
  Status CheckScores() const {
    if (scores_.size() != k_) return Status::Internal("topn: one score series per instrument expected");
    for (size_t i = 0; i < k_; ++i) {
      if (scores_[i].size() != u_.series[i].size()) {
        return Status::Internal("topn: score series of " + u_.series[i].symbol + " has the wrong length");
      }
    }
    return Status::Ok();
  }

  // The market index and the defensive assets take part only in their roles.
  Status AssignRoles() {
    std::unordered_map<std::string, size_t> by_symbol;
    for (size_t i = 0; i < k_; ++i) by_symbol[u_.series[i].symbol] = i;
    rankable_.assign(k_, 1);
    if (p_.market_filter) {
      auto it = by_symbol.find(p_.market_symbol);
      if (it == by_symbol.end()) {
        return Status::InvalidArgument("topn: market_filter needs market_symbol '" + p_.market_symbol +
                                       "' in the loaded tickers");
      }
      market_ = static_cast<long>(it->second);
    }
    if (auto it = by_symbol.find(p_.market_symbol); it != by_symbol.end()) rankable_[it->second] = 0;
    for (const auto& sym : p_.risk_off_symbols) {
      auto it = by_symbol.find(sym);
      if (it == by_symbol.end()) {
        if (p_.risk_off_mode == RiskOffMode::kDefensive) {
          return Status::InvalidArgument("topn: risk_off_symbols entry '" + sym +
                                         "' is not in the loaded tickers");
        }
        continue;
      }
      rankable_[it->second] = 0;
      defensive_.push_back(it->second);
    }
    return Status::Ok();
  }

  void IndexBars() {
    bar_.assign(k_ * n_, -1);
    for (size_t i = 0; i < k_; ++i) {
      const auto& s = u_.series[i];
      size_t c = 0;
      for (size_t j = 0; j < s.size(); ++j) {
        while (u_.calendar[c] < s.date[j]) ++c;
        bar_[c * k_ + i] = static_cast<int32_t>(j);
      }
    }
  }

  // Plain mean of the market's last market_ma_window closes (its own bars); NaN before.
  void ComputeMarketSma() {
    if (market_ < 0) return;
    const auto& ms = u_.series[static_cast<size_t>(market_)];
    market_sma_.assign(ms.size(), kNaN);
    long double sum = 0;
    const size_t w = static_cast<size_t>(p_.market_ma_window);
    for (size_t j = 0; j < ms.size(); ++j) {
      sum += ms.close[j];
      if (j >= w) sum -= ms.close[j - w];
      if (j + 1 >= w) market_sma_[j] = static_cast<double>(sum / static_cast<long double>(w));
    }
  }

  void MarkDelistings() {
    delist_day_.assign(k_, INT32_MIN);
    if (n_ == 0) return;
    for (size_t i = 0; i < k_; ++i) {
      const auto& d = u_.series[i].date;
      if (!d.empty() && d.back() < u_.calendar.back()) delist_day_[i] = d.back();
    }
  }

  const Universe& u_;
  const std::vector<std::vector<double>>& scores_;
  const TopNParams& p_;
  size_t k_, n_;
  std::vector<uint8_t> rankable_;
  long market_ = -1;
  std::vector<size_t> defensive_;
  // bar index of instrument i on calendar day c, or -1; day-major (the per-day loops over
  // the instruments read it contiguously)
  std::vector<int32_t> bar_;
  std::vector<double> market_sma_;
  std::vector<int32_t> delist_day_;
  std::vector<size_t> alpha_;
};

// One run: the book (cash, lots), the pending targets, the equity marks, the records.
class TopNRun {
 public:
  TopNRun(const TopNInputs& in, bool record)
      : in_(in), p_(in.p()), record_(record), fee_(FeeRate(in.p().fee_bps)), cash_(in.p().initial_cash),
        lots_(in.k()), last_close_(in.k(), kNaN), target_shares_(in.k(), 0) {}

  BacktestResult Run(size_t c0) {
    const size_t n = in_.n();
    if (record_) {
      const auto& cal = in_.u().calendar;
      result_.dates.assign(cal.begin() + static_cast<std::ptrdiff_t>(c0), cal.end());
      result_.equity.resize(n - c0);
      result_.cash.resize(n - c0);
      result_.holdings.resize(n - c0);
    }
    for (size_t c = 0; c < c0; ++c) UpdateLastCloses(c);  // warm-up: nothing is held yet
    for (size_t c = c0; c < n; ++c) {
      if (has_pending_) FillPending(c);
      CloseDelisted(c);
      const double equity = MarkAtClose(c, c - c0);
      if (c + 1 < n && in_.IsRebalanceBar(c + 1)) Decide(c, equity);
    }
    return Finish(c0);
  }

 private:
  void UpdateLastCloses(size_t c) {
    for (size_t i = 0; i < in_.k(); ++i) {
      const int32_t j = in_.BarAt(i, c);
      if (j >= 0) last_close_[i] = in_.Close(i, j);
    }
  }

  void Sell(size_t i, double q, double px, int32_t day, FillReason why) {
    Lot& lot = lots_[i];
    const double notional = q * px, f = notional * fee_;
    cash_ += notional - f;
    total_fees_ += f;
    ++orders_;
    lot.shares -= q;
    lot.sell_notional += notional;
    lot.sell_fees += f;
    if (record_) result_.fills.push_back(Fill{day, in_.u().series[i].symbol, false, q, px, f, why});
    if (lot.shares > 0) return;
    const double basis = lot.buy_notional + lot.buy_fees;
    const double pnl = lot.sell_notional - lot.sell_fees - basis;
    stats_.push_back({pnl, basis > 0 ? pnl / basis : 0.0});
    if (record_) {
      result_.trades.push_back(Trade{in_.u().series[i].symbol, lot.entry_date, lot.buy_notional / lot.bought_shares,
                                     day, lot.sell_notional / lot.bought_shares, lot.bought_shares, pnl,
                                     basis > 0 ? pnl / basis : 0.0, lot.buy_fees + lot.sell_fees, why});
    }
    lot = Lot{};
  }

  void Buy(size_t i, double q, double px, int32_t day, FillReason why) {
    Lot& lot = lots_[i];
    const double notional = q * px, f = notional * fee_;
    cash_ -= notional + f;
    total_fees_ += f;
    ++orders_;
    if (lot.shares == 0) lot.entry_date = day;
    lot.shares += q;
    lot.bought_shares += q;
    lot.buy_notional += notional;
    lot.buy_fees += f;
    if (record_) result_.fills.push_back(Fill{day, in_.u().series[i].symbol, true, q, px, f, why});
  }

  // Yesterday's targets at today's open: target shares floor(w x equity at the open /
  // (open x (1 + fee))); sells first (they free cash), then buys in target order, each
  // limited by the cash left. A name without a bar today is not traded.
  void FillPending(size_t c) {
    has_pending_ = false;
    const int32_t day = in_.u().calendar[c];
    double equity_open = cash_;
    for (size_t i = 0; i < in_.k(); ++i) {
      if (lots_[i].shares == 0) continue;
      const int32_t j = in_.BarAt(i, c);
      equity_open += lots_[i].shares * (j >= 0 ? in_.Open(i, j) : last_close_[i]);
    }
    std::fill(target_shares_.begin(), target_shares_.end(), 0.0);
    for (const auto& t : pending_) {
      if (t.keep) {
        target_shares_[t.instrument] = lots_[t.instrument].shares;
        continue;
      }
      const int32_t j = in_.BarAt(t.instrument, c);
      if (j < 0) continue;
      target_shares_[t.instrument] = std::floor(t.weight * equity_open / (in_.Open(t.instrument, j) * (1.0 + fee_)));
    }
    for (size_t i = 0; i < in_.k(); ++i) {
      if (lots_[i].shares <= target_shares_[i]) continue;
      const int32_t j = in_.BarAt(i, c);
      if (j < 0) continue;  // no bar today: cannot trade, keep holding
      Sell(i, lots_[i].shares - target_shares_[i], in_.Open(i, j), day, pending_reason_);
    }
    for (const auto& t : pending_) {
      const size_t i = t.instrument;
      const int32_t j = in_.BarAt(i, c);
      if (j < 0 || target_shares_[i] <= lots_[i].shares) continue;
      const double px = in_.Open(i, j);
      double q = std::min(target_shares_[i] - lots_[i].shares, std::floor(cash_ / (px * (1.0 + fee_))));
      if (q > 0 && q * px + q * px * fee_ > cash_) q -= 1;
      if (q > 0) Buy(i, q, px, day, pending_reason_);
    }
  }

  // A held instrument on its last bar (delisted) is sold at close x (1 - haircut).
  void CloseDelisted(size_t c) {
    const int32_t day = in_.u().calendar[c];
    for (size_t i = 0; i < in_.k(); ++i) {
      if (lots_[i].shares <= 0 || !in_.DelistsOn(i, day)) continue;
      const int32_t j = in_.BarAt(i, c);
      Sell(i, lots_[i].shares, in_.Close(i, j) * (1.0 - p_.delisting_haircut), day, FillReason::kDelisted);
    }
  }

  // equity = cash + sum of shares x last close; updates the high-water marks and the
  // risk-off bookkeeping of the bar.
  double MarkAtClose(size_t c, size_t row) {
    double holdings = 0;
    bool invested = false;
    for (size_t i = 0; i < in_.k(); ++i) {
      const int32_t j = in_.BarAt(i, c);
      if (j >= 0) last_close_[i] = in_.Close(i, j);
      if (lots_[i].shares > 0) {
        holdings += lots_[i].shares * last_close_[i];
        invested = true;
      }
    }
    const double equity = cash_ + holdings;
    acc_.Add(equity);
    bars_invested_ += invested;
    if (record_) {
      result_.equity[row] = equity;
      result_.cash[row] = cash_;
      result_.holdings[row] = holdings;
    }
    hwm_ = std::max(hwm_, equity);
    while (!window_max_.empty() && window_max_.back().second <= equity) window_max_.pop_back();
    window_max_.emplace_back(c, equity);
    while (window_max_.front().first + kBarsPer52Weeks <= c) window_max_.pop_front();
    CountRegime(in_.u().calendar[c]);
    return equity;
  }

  // The regime in force on this bar is the one of the last decision (from its fill day).
  void CountRegime(int32_t day) {
    risk_off_bars_ += regime_.risk_off;
    if (regime_.risk_off && regime_.drawdown_stop) {
      if (!in_spell_) result_.lockout_spells.push_back(Spell{day, day, 0});
      in_spell_ = true;
      result_.lockout_spells.back().end = day;
      ++result_.lockout_spells.back().bars;
    } else {
      in_spell_ = false;
    }
  }

  // Market filter, drawdown from the high-water mark (max_drawdown; the mark then resets to
  // the current equity), drawdown from the 252-bar high (max_drawdown_52w), and the
  // exposure max_exposure x tier of the deepest drawdown tier reached.
  RiskState AssessRisk(size_t c, double equity) {
    RiskState r;
    const double dd = hwm_ > 0 ? 1.0 - equity / hwm_ : 0.0;
    const double dd52 = 1.0 - equity / window_max_.front().second;
    r.risk_off = in_.MarketBelowSma(c);
    if (p_.max_drawdown > 0 && dd >= p_.max_drawdown) {
      r.risk_off = r.drawdown_stop = true;
      hwm_ = equity;  // trailing: re-arm from here
    }
    if (p_.max_drawdown_52w > 0 && dd52 >= p_.max_drawdown_52w) r.risk_off = r.drawdown_stop = true;
    r.exposure = p_.max_exposure;
    if (p_.dynamic_exposure) {
      for (size_t t = 0; t < p_.drawdown_tiers.size(); ++t) {
        if (dd >= p_.drawdown_tiers[t]) r.exposure = p_.max_exposure * p_.drawdown_exposures[t];
      }
    }
    return r;
  }

  // Targets on the close of bar c for the open of bar c + 1.
  void Decide(size_t c, double equity) {
    const RiskState risk = AssessRisk(c, equity);
    regime_ = risk;
    pending_.clear();
    has_pending_ = true;
    pending_reason_ = !risk.risk_off       ? FillReason::kRebalance
                      : risk.drawdown_stop ? FillReason::kDrawdownStop
                                           : FillReason::kRiskOff;
    if (risk.risk_off) {
      if (record_) {  // scores.csv shows the ranking of risk-off days too
        Rank(c);
        RecordScores(c, {});
      }
      if (p_.risk_off_mode == RiskOffMode::kDefensive) PickDefensive(c, risk.exposure);
      return;
    }
    const size_t eligible = Rank(c);
    std::vector<size_t> kept = KeptWithoutBar(c);
    std::vector<size_t> chosen = Choose(eligible, kept.size());
    if (record_) RecordScores(c, chosen);
    for (size_t i : kept) pending_.push_back(Target{i, 0, true});
    if (chosen.empty()) return;
    std::vector<double> w = BaseWeights(c, chosen, kept.size());
    double exposure = risk.exposure;
    if (p_.vol_target > 0) exposure *= VolScale(c, chosen, w);
    for (size_t t = 0; t < chosen.size(); ++t) {
      pending_.push_back(Target{chosen[t], std::min(w[t] * exposure, p_.max_weight), false});
    }
  }

  // Defensive candidates with a bar on the decision day, best first by risk_off_pick (ties
  // keep the risk_off_symbols order); each pick gets exposure / picks.
  void PickDefensive(size_t c, double exposure) {
    std::vector<std::pair<size_t, double>> cands;  // (instrument, key: higher is better)
    const int32_t day = in_.u().calendar[c];
    for (size_t i : in_.defensive()) {
      const int32_t j = in_.BarAt(i, c);
      if (j < 0 || in_.DelistsOn(i, day)) continue;
      double key = 0;
      if (p_.risk_off_pick == RiskOffPick::kLowestVol) {
        const double v = in_.RealizedVol(i, j, p_.vol_window);
        key = std::isnan(v) ? -1e300 : -v;
      } else if (p_.risk_off_pick == RiskOffPick::kHighestMomentum) {
        key = j >= p_.vol_window ? in_.Close(i, j) / in_.Close(i, j - p_.vol_window) - 1.0 : -1e300;
      }
      cands.emplace_back(i, key);
    }
    if (cands.empty()) return;
    std::stable_sort(cands.begin(), cands.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    const size_t picks = p_.risk_off_pick == RiskOffPick::kAll ? cands.size() : 1;
    for (size_t t = 0; t < picks; ++t) {
      pending_.push_back(Target{cands[t].first, exposure / static_cast<double>(picks), false});
    }
  }

  // The score of instrument i on the decision day being ranked (set by Rank).
  double ScoreAt(size_t i, size_t) const { return score_now_[i]; }

  // Sorts the rankable names with a bar on day c (not delisting that day) whose score
  // reaches min_score into order_, best first, ties alphabetical; returns their count.
  size_t Rank(size_t c) {
    const int32_t day = in_.u().calendar[c];
    score_now_.resize(in_.k());
    keyed_.clear();
    for (size_t i = 0; i < in_.k(); ++i) {
      if (!in_.rankable(i)) continue;
      const int32_t j = in_.BarAt(i, c);
      if (j < 0 || in_.DelistsOn(i, day)) continue;
      const double s = in_.Score(i, j);
      if (std::isnan(s)) continue;
      score_now_[i] = s;
      if (s < p_.min_score) continue;
      keyed_.push_back(Keyed{s, in_.Alpha(i), i});
    }
    std::sort(keyed_.begin(), keyed_.end(), [](const Keyed& a, const Keyed& b) {
      return a.score != b.score ? a.score > b.score : a.alpha < b.alpha;
    });
    order_.resize(keyed_.size());
    for (size_t r = 0; r < keyed_.size(); ++r) order_[r] = keyed_[r].instrument;
    return order_.size();
  }

  // Held rankable names without a bar on day c: kept as they are (not sold for being
  // unranked).
  std::vector<size_t> KeptWithoutBar(size_t c) const {
    std::vector<size_t> kept;
    for (size_t i = 0; i < in_.k(); ++i) {
      if (lots_[i].shares > 0 && in_.rankable(i) && in_.BarAt(i, c) < 0) kept.push_back(i);
    }
    return kept;
  }

  // Held names ranked inside the band top_n + retain_top_n stay; new names fill the rest
  // of the top_n slots (minus the kept ones) in rank order. Returned best first.
  std::vector<size_t> Choose(size_t eligible, size_t kept) {
    const size_t top = static_cast<size_t>(std::max(0, p_.top_n));
    const size_t slots = top > kept ? top - kept : 0;
    const size_t band = top + static_cast<size_t>(std::max(0, p_.retain_top_n));
    std::vector<size_t> chosen;
    for (size_t r = 0; r < eligible && r < band && chosen.size() < slots; ++r) {
      if (lots_[order_[r]].shares > 0) chosen.push_back(order_[r]);  // retained holdings
    }
    const size_t retained = chosen.size();
    for (size_t r = 0; r < eligible && chosen.size() < slots; ++r) {
      if (std::find(chosen.begin(), chosen.begin() + static_cast<std::ptrdiff_t>(retained), order_[r]) ==
          chosen.begin() + static_cast<std::ptrdiff_t>(retained)) {
        chosen.push_back(order_[r]);
      }
    }
    // Rank order (order_ is sorted; positions in it give the merge order).
    pos_.resize(in_.k());
    for (size_t r = 0; r < eligible; ++r) pos_[order_[r]] = r;
    std::sort(chosen.begin(), chosen.end(), [&](size_t a, size_t b) { return pos_[a] < pos_[b]; });
    return chosen;
  }

  // equal: 1 / (names chosen + kept); score: proportional to the positive scores (all zero:
  // equal), times chosen / (chosen + kept).
  std::vector<double> BaseWeights(size_t c, const std::vector<size_t>& chosen, size_t kept) const {
    const double names = static_cast<double>(chosen.size() + kept);
    std::vector<double> w(chosen.size(), 1.0 / names);
    if (p_.weighting == Weighting::kScore) {
      double total = 0;
      for (size_t i : chosen) total += std::max(0.0, ScoreAt(i, c));
      if (total > 0) {
        const double share = kept ? static_cast<double>(chosen.size()) / names : 1.0;
        for (size_t t = 0; t < chosen.size(); ++t) w[t] = std::max(0.0, ScoreAt(chosen[t], c)) / total * share;
      }
    }
    return w;
  }

  // min(1, vol_target / v): v = sample std of the target portfolio's daily returns (the
  // weights w on each name's simple close-to-close return; a name without a bar on either
  // day adds 0) over the last vol_window calendar days ending at c, annualized by sqrt(252);
  // fewer days at the start of the data (a partial window).
  double VolScale(size_t c, const std::vector<size_t>& chosen, const std::vector<double>& w) const {
    double mean = 0, m2 = 0;
    int count = 0;
    for (int s = 0; s < p_.vol_window; ++s) {
      if (c < static_cast<size_t>(s + 1)) break;
      const size_t cc = c - static_cast<size_t>(s), cp = cc - 1;
      double r = 0;
      for (size_t t = 0; t < chosen.size(); ++t) {
        const int32_t a = in_.BarAt(chosen[t], cc), b = in_.BarAt(chosen[t], cp);
        if (a >= 0 && b >= 0) r += w[t] * (in_.Close(chosen[t], a) / in_.Close(chosen[t], b) - 1.0);
      }
      ++count;
      const double delta = r - mean;
      mean += delta / count;
      m2 += delta * (r - mean);
    }
    const double vol = count > 1 ? std::sqrt(m2 / (count - 1)) * std::sqrt(kTradingDaysPerYear) : 0.0;
    return vol > p_.vol_target ? p_.vol_target / vol : 1.0;
  }

  void RecordScores(size_t c, const std::vector<size_t>& chosen) {
    const int32_t day = in_.u().calendar[c];
    selected_.assign(in_.k(), 0);
    for (size_t i : chosen) selected_[i] = 1;
    for (size_t r = 0; r < order_.size(); ++r) {
      const size_t i = order_[r];
      result_.scores.push_back(
          ScoreRow{day, in_.u().series[i].symbol, ScoreAt(i, c), static_cast<int>(r + 1), selected_[i] != 0});
    }
  }

  BacktestResult Finish(size_t c0) {
    const auto& u = in_.u();
    for (size_t i = 0; i < in_.k(); ++i) {
      if (lots_[i].shares <= 0) continue;
      const Lot& lot = lots_[i];
      const double mv = lot.shares * last_close_[i];
      // Partially sold lots: unrealized = value + realized proceeds - total cost.
      result_.open_positions.push_back(OpenPosition{
          u.series[i].symbol, lot.entry_date, lot.buy_notional / lot.bought_shares, lot.shares, last_close_[i], mv,
          mv + lot.sell_notional - lot.sell_fees - lot.buy_notional - lot.buy_fees, lot.bought_shares,
          lot.buy_notional + lot.buy_fees, lot.buy_fees + lot.sell_fees});
    }
    const size_t bars = in_.n() - c0;
    result_.risk_off_share = bars ? static_cast<double>(risk_off_bars_) / static_cast<double>(bars) : 0.0;
    result_.metrics = FinishPerformance(acc_, u.calendar[c0], u.calendar[in_.n() - 1], p_.initial_cash,
                                        bars_invested_, &stats_, orders_, total_fees_);
    if (!record_) result_.lockout_spells.clear();
    return std::move(result_);
  }

  const TopNInputs& in_;
  const TopNParams& p_;
  const bool record_;
  const double fee_;
  double cash_;
  std::vector<Lot> lots_;
  std::vector<double> last_close_;
  std::vector<double> target_shares_;
  std::vector<Target> pending_;  // decided at the previous close
  bool has_pending_ = false;
  FillReason pending_reason_ = FillReason::kRebalance;
  RiskState regime_;             // of the last decision
  bool in_spell_ = false;
  size_t risk_off_bars_ = 0;
  struct Keyed {
    double score;
    size_t alpha, instrument;
  };
  std::vector<Keyed> keyed_;          // ranking scratch
  std::vector<double> score_now_;     // scores of the day being ranked
  std::vector<size_t> order_;         // ranked instruments, best first
  std::vector<size_t> pos_;           // Choose: rank of each instrument
  std::vector<uint8_t> selected_;  // RecordScores scratch
  BacktestResult result_;
  EquityAccumulator acc_;
  std::vector<ClosedTradeStat> stats_;
  int64_t orders_ = 0;
  double total_fees_ = 0;
  size_t bars_invested_ = 0;
  double hwm_ = 0;
  std::deque<std::pair<size_t, double>> window_max_;  // (calendar index, equity), decreasing
};

}  // namespace

Result<BacktestResult> RunTopN(const Universe& u, const std::vector<std::vector<double>>& scores,
                               const TopNParams& p, bool record, int32_t trade_from) {
  TopNInputs inputs(u, scores, p);
  RETURN_IF_ERROR(inputs.Build());
  // First traded calendar day; the days before it are warm-up history.
  const size_t c0 = static_cast<size_t>(
      std::lower_bound(u.calendar.begin(), u.calendar.end(), trade_from) - u.calendar.begin());
  if (c0 >= u.calendar.size()) return Status::InvalidArgument("topn: no bars on or after the start date");
  return TopNRun(inputs, record).Run(c0);
}

}  // namespace alphalab::engine

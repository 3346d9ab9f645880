// The Deflated Sharpe Ratio (Bailey and Lopez de Prado, "The Deflated Sharpe Ratio: Correcting
// for Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management,
// 2014): the probability that the best of N trials has a true Sharpe ratio above zero once the
// selection among N trials is accounted for. Everything is per period (daily):
//
//   SR*  = mean(r) / stdev(r)              the best trial's Sharpe from its T returns (stdev n-1)
//   skew = m3 / m2^1.5, kurt = m4 / m2^2   its returns' skewness and non-excess kurtosis
//                                          (population central moments m_k)
//   V    = sample variance (n-1) of the N trials' per-period Sharpe ratios
//   SR0  = sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e))),  g = 0.5772156649
//   DSR  = Phi((SR* - SR0) * sqrt(T - 1) / sqrt(1 - skew * SR* + (kurt - 1) / 4 * SR*^2))
//
// Reading: "likely luck" when DSR < 0.95, else "likely skill".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab::optimize {

inline constexpr double kEulerGamma = 0.5772156649;
inline constexpr double kDeflatedSharpeThreshold = 0.95;

struct DeflatedSharpe {
  double value = 0;               // DSR in [0, 1]
  double best_sharpe = 0;         // SR*
  double expected_max_sharpe = 0; // SR0
  int64_t trials = 0;             // N
  double sharpe_variance = 0;     // V
  int64_t observations = 0;       // T
  double skewness = 0;
  double kurtosis = 0;            // non-excess (normal = 3)

  std::string Reading() const { return value < kDeflatedSharpeThreshold ? "likely luck" : "likely skill"; }
  Json ToJson() const;
};

// Standard normal CDF and its inverse (Acklam's rational approximation refined by one Halley
// step on erfc: |error| < 1e-14 on (0, 1)).
double NormalCdf(double x);
double NormalQuantile(double p);

// `best_returns`: the best trial's per-period returns (at least 3, not all equal);
// `trial_sharpes`: the per-period Sharpe ratio of every ranked trial (at least 2), the best
// included. InvalidArgument otherwise.
Result<DeflatedSharpe> ComputeDeflatedSharpe(const std::vector<double>& best_returns,
                                             const std::vector<double>& trial_sharpes);

// Daily returns of an equity.csv (`date,equity,...`): equity[t] / equity[t-1] - 1.
Result<std::vector<double>> ReturnsFromEquityCsv(const std::string& text);

}  // namespace alphalab::optimize

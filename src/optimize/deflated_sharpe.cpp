#include "optimize/deflated_sharpe.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace alphalab::optimize {

Json DeflatedSharpe::ToJson() const {
  return Json{{"value", value},
              {"best_sharpe", best_sharpe},
              {"expected_max_sharpe", expected_max_sharpe},
              {"trials", trials},
              {"sharpe_variance", sharpe_variance},
              {"observations", observations},
              {"skewness", skewness},
              {"kurtosis", kurtosis},
              {"reading", Reading()}};
}

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double NormalQuantile(double p) {
  if (!(p > 0)) return -INFINITY;
  if (!(p < 1)) return INFINITY;
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double lo = 0.02425;
  double x;
  if (p < lo) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - lo) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // One Halley step on e = Phi(x) - p.
  const double e = NormalCdf(x) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

Result<DeflatedSharpe> ComputeDeflatedSharpe(const std::vector<double>& best_returns,
                                             const std::vector<double>& trial_sharpes) {
  const size_t T = best_returns.size();
  const size_t N = trial_sharpes.size();
  if (T < 3) return Status::InvalidArgument("deflated Sharpe: the best trial has fewer than 3 returns");
  if (N < 2) return Status::InvalidArgument("deflated Sharpe: fewer than 2 ranked trials with a Sharpe ratio");
  for (double r : best_returns) {
    if (!std::isfinite(r)) return Status::InvalidArgument("deflated Sharpe: a return is not finite");
  }
  for (double s : trial_sharpes) {
    if (!std::isfinite(s)) return Status::InvalidArgument("deflated Sharpe: a trial's Sharpe ratio is not finite");
  }
  const double dT = static_cast<double>(T);
  double mean = 0;
  for (double r : best_returns) mean += r;
  mean /= dT;
  double m2 = 0, m3 = 0, m4 = 0;
  for (double r : best_returns) {
    const double d = r - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  const double sample_var = m2 / (dT - 1);
  m2 /= dT;
  m3 /= dT;
  m4 /= dT;
  if (!(m2 > 0)) return Status::InvalidArgument("deflated Sharpe: the best trial's returns do not vary");
  DeflatedSharpe out;
  out.observations = static_cast<int64_t>(T);
  out.trials = static_cast<int64_t>(N);
  out.best_sharpe = mean / std::sqrt(sample_var);
  out.skewness = m3 / std::pow(m2, 1.5);
  out.kurtosis = m4 / (m2 * m2);
  const double dN = static_cast<double>(N);
  double smean = 0;
  for (double s : trial_sharpes) smean += s;
  smean /= dN;
  double v = 0;
  for (double s : trial_sharpes) v += (s - smean) * (s - smean);
  out.sharpe_variance = v / (dN - 1);
  out.expected_max_sharpe =
      std::sqrt(out.sharpe_variance) * ((1 - kEulerGamma) * NormalQuantile(1 - 1 / dN) +
                                        kEulerGamma * NormalQuantile(1 - 1 / (dN * std::exp(1.0))));
  const double sr = out.best_sharpe;
  const double denom = 1 - out.skewness * sr + (out.kurtosis - 1) / 4 * sr * sr;
  if (!(denom > 0)) return Status::InvalidArgument("deflated Sharpe: the non-normality correction is not positive");
  out.value = NormalCdf((sr - out.expected_max_sharpe) * std::sqrt(dT - 1) / std::sqrt(denom));
  return out;
}

Result<std::vector<double>> ReturnsFromEquityCsv(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::vector<double> out;
  bool header = true;
  double last = 0;
  bool have_last = false;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (header) {
      header = false;
      if (line.rfind("date,equity", 0) != 0) return Status::InvalidArgument("equity.csv: the header is not date,equity,...");
      continue;
    }
    const size_t c1 = line.find(',');
    if (c1 == std::string::npos) return Status::InvalidArgument("equity.csv line " + std::to_string(line_no) + ": no equity");
    const size_t c2 = line.find(',', c1 + 1);
    const std::string cell = line.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
    char* end = nullptr;
    const double equity = std::strtod(cell.c_str(), &end);
    if (cell.empty() || end != cell.c_str() + cell.size() || !std::isfinite(equity)) {
      return Status::InvalidArgument("equity.csv line " + std::to_string(line_no) + ": equity '" + cell + "' is not a number");
    }
    if (have_last) {
      if (!(last > 0)) return Status::InvalidArgument("equity.csv line " + std::to_string(line_no) + ": equity not positive");
      out.push_back(equity / last - 1);
    }
    last = equity;
    have_last = true;
  }
  return out;
}

}  // namespace alphalab::optimize

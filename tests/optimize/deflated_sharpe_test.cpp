// The Deflated Sharpe Ratio against a case computed by hand (below, and independently with
// Python's statistics.NormalDist, whose inverse CDF is Wichura's AS241, not the code under test):
//
//   returns r = 0.012 -0.004 0.007 0.003 -0.011 0.009 0.002 0.015 -0.006 0.004 0.001 -0.002, T = 12
//   mean = 0.03 / 12 = 0.0025
//   stdev (n-1) = 0.007573878554851296        -> SR* = 0.0025 / 0.0075738... = 0.3300818704570692
//   population moments: skew = m3 / m2^1.5 = -0.05769663847841537, kurt = m4 / m2^2 = 2.2722893502879487
//   trials' Sharpe ratios: SR*, 0.10, 0.05, -0.02, 0.12 (N = 5); sample variance V = 0.017238761479460754
//   SR0 = sqrt(V) * ((1 - 0.5772156649) * Phi^-1(0.8) + 0.5772156649 * Phi^-1(1 - 1/(5e)))
//       = 0.131296 * (0.4227843351 * 0.8416212335729144 + 0.5772156649 * 1.4496656592240218)
//       = 0.15658337541409573
//   DSR = Phi((SR* - SR0) * sqrt(11) / sqrt(1 - skew SR* + (kurt - 1) / 4 SR*^2)) = 0.7124562908264581
#include "optimize/deflated_sharpe.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

const std::vector<double> kReturns = {0.012, -0.004, 0.007, 0.003, -0.011, 0.009,
                                      0.002, 0.015,  -0.006, 0.004, 0.001, -0.002};

TEST(DeflatedSharpe, MatchesTheHandComputedCase) {
  const double sr = 0.3300818704570692;
  auto d = ComputeDeflatedSharpe(kReturns, {sr, 0.10, 0.05, -0.02, 0.12});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->observations, 12);
  EXPECT_EQ(d->trials, 5);
  EXPECT_NEAR(d->best_sharpe, sr, 1e-12);
  EXPECT_NEAR(d->skewness, -0.05769663847841537, 1e-12);
  EXPECT_NEAR(d->kurtosis, 2.2722893502879487, 1e-12);
  EXPECT_NEAR(d->sharpe_variance, 0.017238761479460754, 1e-14);
  EXPECT_NEAR(d->expected_max_sharpe, 0.15658337541409573, 1e-10);
  EXPECT_NEAR(d->value, 0.7124562908264581, 1e-9);
  EXPECT_EQ(d->Reading(), "likely luck");  // below 0.95
  const Json j = d->ToJson();
  EXPECT_EQ(j["reading"], "likely luck");
  EXPECT_EQ(j["trials"], 5);
}

TEST(DeflatedSharpe, ManyTrialsRaiseTheBarAndAStrongResultReadsAsSkill) {
  // The same best trial among trials with a wider spread: SR0 grows, DSR falls.
  auto few = ComputeDeflatedSharpe(kReturns, {0.3300818704570692, 0.10, 0.05, -0.02, 0.12});
  auto wide = ComputeDeflatedSharpe(kReturns, {0.3300818704570692, 0.30, -0.30, 0.25, -0.25});
  ASSERT_TRUE(few.ok() && wide.ok());
  EXPECT_GT(wide->expected_max_sharpe, few->expected_max_sharpe);
  EXPECT_LT(wide->value, few->value);
  // 500 steady positive days against near-identical trials: skill.
  std::vector<double> steady;
  for (int i = 0; i < 500; ++i) steady.push_back(0.001 + (i % 2 ? 0.002 : -0.002));
  auto strong = ComputeDeflatedSharpe(steady, {0.5, 0.01, 0.02, 0.0});
  ASSERT_TRUE(strong.ok());
  EXPECT_GT(strong->value, 0.95);
  EXPECT_EQ(strong->Reading(), "likely skill");
}

TEST(DeflatedSharpe, NormalQuantileMatchesReferenceValues) {
  // Python statistics.NormalDist().inv_cdf
  EXPECT_NEAR(NormalQuantile(0.8), 0.8416212335729144, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.975), 1.9599639845400536, 1e-12);
  EXPECT_NEAR(NormalQuantile(1e-10), -6.361340902404056, 1e-9);
  EXPECT_NEAR(NormalCdf(NormalQuantile(0.3)), 0.3, 1e-14);
  EXPECT_EQ(NormalQuantile(0.5), 0.0);
}

TEST(DeflatedSharpe, RefusesTooLittleData) {
  EXPECT_FALSE(ComputeDeflatedSharpe({0.01, 0.02}, {0.1, 0.2}).ok());             // T < 3
  EXPECT_FALSE(ComputeDeflatedSharpe(kReturns, {0.1}).ok());                      // N < 2
  EXPECT_FALSE(ComputeDeflatedSharpe({0.01, 0.01, 0.01}, {0.1, 0.2}).ok());       // no variance
  EXPECT_FALSE(ComputeDeflatedSharpe(kReturns, {0.1, std::nan("")}).ok());
}

TEST(DeflatedSharpe, ReturnsFromEquityCsv) {
  auto r = ReturnsFromEquityCsv("date,equity,cash,holdings,drawdown\n2020-01-01,100,100,0,0\n"
                                "2020-01-02,110,0,110,0\r\n2020-01-03,99,0,99,0.1\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_DOUBLE_EQ((*r)[0], 110.0 / 100.0 - 1);
  EXPECT_DOUBLE_EQ((*r)[1], 99.0 / 110.0 - 1);
  EXPECT_FALSE(ReturnsFromEquityCsv("x,y\n1,2\n").ok());
  EXPECT_FALSE(ReturnsFromEquityCsv("date,equity\n2020-01-01,abc\n").ok());
}

}  // namespace
}  // namespace alphalab::optimize

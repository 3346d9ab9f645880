// The Slurm cluster the Slurm tests run against: the one scripts/services/slurm.sh started
// (`make test` exports ALPHALAB_TEST_SLURM_CONF). Without it a test skips with a message, and
// fails instead when CI=true (CI must run them).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace alphalab::testing {

// Points Slurm's commands (ours and those of child processes) at the test cluster; returns
// false when there is none.
inline bool UseTestSlurmCluster() {
  const char* conf = std::getenv("ALPHALAB_TEST_SLURM_CONF");
  if (conf == nullptr || *conf == '\0') return false;
  ::setenv("SLURM_CONF", conf, 1);
  return true;
}

inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace alphalab::testing

// In a test body or SetUp: skip (locally) or fail (CI=true) without a test cluster.
#define ALPHALAB_REQUIRE_SLURM()                                                                   \
  do {                                                                                             \
    if (!::alphalab::testing::UseTestSlurmCluster()) {                                             \
      if (::alphalab::testing::InCi()) {                                                           \
        FAIL() << "ALPHALAB_TEST_SLURM_CONF is not set (CI=true): run the suites through "         \
                  "scripts/with-test-services.sh (make test)";                                     \
      }                                                                                            \
      GTEST_SKIP() << "no test Slurm cluster: set ALPHALAB_TEST_SLURM_CONF (scripts/services/slurm.sh "   \
                      "start DIR prints it; make test does it)";                                   \
    }                                                                                              \
  } while (0)

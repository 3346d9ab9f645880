// Every (state, event) pair of the optimization transition table against a table written
// out by hand.
#include "optimize/optimization_state.hpp"

#include <map>

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

using S = OptimizationState;
using E = OptimizationEvent;

std::optional<S> Expected(S s, E e) {
  static const std::map<std::pair<S, E>, S> kAllowed = {
      {{S::kQueued, E::kTaskStarted}, S::kRunning},
      {{S::kQueued, E::kAllTasksEnded}, S::kSucceeded},
      {{S::kQueued, E::kAllTasksFailed}, S::kFailed},
      {{S::kQueued, E::kCanceled}, S::kCanceled},
      {{S::kRunning, E::kTaskStarted}, S::kRunning},
      {{S::kRunning, E::kAllTasksEnded}, S::kSucceeded},
      {{S::kRunning, E::kAllTasksFailed}, S::kFailed},
      {{S::kRunning, E::kEarlyStopped}, S::kEarlyStopped},
      {{S::kRunning, E::kCanceled}, S::kCanceled},
  };
  const bool terminal = s == S::kSucceeded || s == S::kFailed || s == S::kEarlyStopped || s == S::kCanceled;
  if (terminal) return e == E::kReopened ? S::kQueued : s;
  auto it = kAllowed.find({s, e});
  if (it == kAllowed.end()) return std::nullopt;
  return it->second;
}

TEST(OptimizationStateTest, EveryStateEventPair) {
  int pairs = 0, refused = 0;
  for (S s : kAllOptimizationStates) {
    for (E e : kAllOptimizationEvents) {
      ++pairs;
      SCOPED_TRACE(std::string(OptimizationStateName(s)) + " + " + std::string(OptimizationEventName(e)));
      auto got = Transition(s, e);
      auto want = Expected(s, e);
      if (want) {
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        EXPECT_EQ(*got, *want);
      } else {
        ++refused;
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.status().code(), StatusCode::kInvalidStateTransition);
        EXPECT_EQ(got.status().details()["state"], std::string(OptimizationStateName(s)));
        EXPECT_EQ(got.status().details()["event"], std::string(OptimizationEventName(e)));
      }
    }
  }
  EXPECT_EQ(pairs, 36);
  EXPECT_EQ(refused, 3);  // queued+EarlyStopped, queued+Reopened, running+Reopened
}

TEST(OptimizationStateTest, WireNamesRoundTrip) {
  for (S s : kAllOptimizationStates) EXPECT_EQ(ParseOptimizationState(OptimizationStateName(s)), s);
  EXPECT_EQ(OptimizationStateName(S::kEarlyStopped), "early-stopped");
  EXPECT_FALSE(ParseOptimizationState("EARLY_STOPPED").has_value());
  EXPECT_TRUE(IsTerminal(S::kEarlyStopped));
  EXPECT_FALSE(IsTerminal(S::kRunning));
  EXPECT_EQ(EndEvent(0), E::kAllTasksFailed);
  EXPECT_EQ(EndEvent(3), E::kAllTasksEnded);
}

}  // namespace
}  // namespace alphalab::optimize

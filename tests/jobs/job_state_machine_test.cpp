// Every (state, event) pair against a table written out by hand from docs/job_states.md.
#include <map>
#include <optional>

#include <gtest/gtest.h>

#include "jobs/job_state_machine.hpp"

namespace alphalab {
namespace {

using S = JobState;
using E = JobEvent;

// nullopt = InvalidStateTransition.
std::optional<S> Expected(S s, E e) {
  static const std::map<std::pair<S, E>, S> kAllowed = {
      {{S::kQueued, E::kJobStarted}, S::kRunning},
      {{S::kQueued, E::kJobCanceled}, S::kCanceled},
      {{S::kQueued, E::kJobFailed}, S::kFailed},
      {{S::kRunning, E::kJobSucceeded}, S::kSuccess},
      {{S::kRunning, E::kJobFailed}, S::kFailed},
      {{S::kRunning, E::kJobTimedOut}, S::kFailed},
      {{S::kRunning, E::kJobLost}, S::kFailed},
      {{S::kRunning, E::kJobCanceled}, S::kCanceled},
      {{S::kRunning, E::kJobReattached}, S::kRunning},
  };
  if (s == S::kSuccess || s == S::kFailed || s == S::kCanceled) return s;  // absorbing
  auto it = kAllowed.find({s, e});
  if (it == kAllowed.end()) return std::nullopt;
  return it->second;
}

TEST(JobStateMachineTest, EveryStateEventPair) {
  int pairs = 0, allowed = 0, refused = 0;
  for (S s : kAllJobStates) {
    for (E e : kAllJobEvents) {
      ++pairs;
      SCOPED_TRACE(std::string(JobStateName(s)) + " + " + std::string(JobEventName(e)));
      auto got = Transition(s, e);
      auto want = Expected(s, e);
      if (want) {
        ++allowed;
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        EXPECT_EQ(*got, *want);
      } else {
        ++refused;
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.status().code(), StatusCode::kInvalidStateTransition);
        EXPECT_NE(got.status().message().find(std::string(JobEventName(e))), std::string::npos);
      }
    }
  }
  EXPECT_EQ(pairs, 5 * 7);
  EXPECT_EQ(allowed, 9 + 3 * 7);
  EXPECT_EQ(refused, pairs - allowed);
}

TEST(JobStateMachineTest, TerminalStatesNeverLeave) {
  for (S s : {S::kSuccess, S::kFailed, S::kCanceled}) {
    for (E e : kAllJobEvents) {
      auto got = Transition(s, e);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(*got, s);
    }
  }
}

TEST(JobStateMachineTest, QueuedCannotSucceedWithoutRunning) {
  EXPECT_FALSE(Transition(S::kQueued, E::kJobSucceeded).ok());
  EXPECT_FALSE(Transition(S::kRunning, E::kJobStarted).ok());
}

}  // namespace
}  // namespace alphalab

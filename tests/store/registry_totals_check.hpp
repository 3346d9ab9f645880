// Shared by the SQLite and PostgreSQL registry store tests: totals of min_support pages past
// the stores' count probe (4,096 matches), where the total is the per-ticker totals minus the
// rows below the bound or without support, must be the count of the matches (the fake's,
// which filters in memory), with the same page of items.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/fake_registry_store.hpp"
#include "store/registry_store_conformance.hpp"

namespace alphalab::testing {

inline void ExpectMinSupportTotalsPastTheProbe(RegistryStore& store) {
  FakeRegistryStore oracle;
  const auto rows = MixedRows(2000);  // 6,400 rows over 4 tickers, NULL supports included
  ASSERT_TRUE(PutRows(store, rows).ok());
  ASSERT_TRUE(PutRows(oracle, rows).ok());
  // The store's page and total equal the fake's.
  const auto same_as_oracle = [&](const RegistryQuery& q, const std::string& what) {
    auto page = store.QueryModels(q);
    auto expected = oracle.QueryModels(q);
    ASSERT_TRUE(page.ok() && expected.ok()) << page.status().ToString();
    EXPECT_EQ(page->total, expected->total) << what;
    EXPECT_EQ(Keys(page->items), Keys(expected->items)) << what;
  };
  for (const std::vector<std::string>& tickers :
       {std::vector<std::string>{}, {"TSM"}, {"AAA", "CCC", "TSM"}, {"AAA", "NOPE"}}) {
    for (int64_t bound : {-1000000, 0, 30, 45, 80, 1000000}) {
      RegistryQuery q;
      q.tickers = tickers;
      q.min_support = bound;
      q.limit = 5;
      q.offset = 2;
      same_as_oracle(q, std::to_string(tickers.size()) + " tickers, min_support " + std::to_string(bound));
    }
  }
  // Project, mode and status filters (with tickers or not, with a min_support bound or not):
  // the totals come from the per-group counts, less the rows below the bound.
  struct Groups {
    std::vector<std::string> projects, modes, statuses;
  };
  for (const Groups& g : {Groups{{"alpha"}, {}, {}}, Groups{{}, {"finetune"}, {}}, Groups{{}, {}, {"failed"}},
                          Groups{{"alpha"}, {"base"}, {"success"}}, Groups{{"alpha", "beta"}, {"base", "nope"}, {}},
                          Groups{{"nope"}, {}, {}}}) {
    for (const std::vector<std::string>& tickers : {std::vector<std::string>{}, {"TSM"}, {"AAA", "CCC", "NOPE"}}) {
      for (std::optional<int64_t> bound : {std::optional<int64_t>{}, std::optional<int64_t>{0}, std::optional<int64_t>{30},
                                           std::optional<int64_t>{1000000}}) {
        RegistryQuery q;
        q.tickers = tickers;
        q.projects = g.projects;
        q.modes = g.modes;
        q.statuses = g.statuses;
        q.min_support = bound;
        q.limit = 5;
        q.offset = 1;
        same_as_oracle(q, std::to_string(tickers.size()) + " tickers, " + std::to_string(g.projects.size()) +
                              " projects, " + std::to_string(g.modes.size()) + " modes, " +
                              std::to_string(g.statuses.size()) + " statuses, min_support " +
                              (bound ? std::to_string(*bound) : "none"));
      }
    }
  }
  // Rows replaced (a run indexed again without its TSM row) and a run deleted: the kept counts
  // follow (the triggers on delete and insert).
  std::string rerun_id, deleted_id;
  for (const auto& r : rows) {
    if (r.ticker != "TSM") continue;
    if (rerun_id.empty()) {
      rerun_id = r.run_id;
    } else if (deleted_id.empty() && r.run_id != rerun_id && r.project != rows.front().project) {
      deleted_id = r.run_id;
    }
  }
  ASSERT_FALSE(rerun_id.empty() || deleted_id.empty());
  std::vector<RegistryRow> again;
  for (const auto& r : rows) {
    if (r.run_id == rerun_id && r.ticker != "TSM") again.push_back(r);
  }
  ASSERT_FALSE(again.empty());
  const IndexedRun rerun{MakeRunSummary(rerun_id, again, again[0].start_time), again};
  for (RegistryStore* s : {&store, static_cast<RegistryStore*>(&oracle)}) {
    ASSERT_TRUE(s->ReplaceRuns({rerun}).ok());
    ASSERT_TRUE(s->DeleteRun(deleted_id).ok());
  }
  for (const std::vector<std::string>& projects : {std::vector<std::string>{"alpha"}, {"beta"}}) {
    RegistryQuery q;
    q.projects = projects;
    q.tickers = {"TSM"};
    auto page = store.QueryModels(q);
    auto expected = oracle.QueryModels(q);
    ASSERT_TRUE(page.ok() && expected.ok());
    EXPECT_EQ(page->total, expected->total) << projects[0] << " after a run was indexed again";
  }
}

}  // namespace alphalab::testing

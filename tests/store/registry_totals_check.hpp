// Shared by the SQLite and PostgreSQL registry store tests: totals of min_support pages past
// the stores' count probe (4,096 matches), where the total is the per-ticker totals minus the
// rows below the bound or without support, must be the count of the matches (the fake's,
// which filters in memory), with the same page of items.
#pragma once

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
  for (const std::vector<std::string>& tickers :
       {std::vector<std::string>{}, {"TSM"}, {"AAA", "CCC", "TSM"}, {"AAA", "NOPE"}}) {
    for (int64_t bound : {-1000000, 0, 30, 45, 80, 1000000}) {
      RegistryQuery q;
      q.tickers = tickers;
      q.min_support = bound;
      q.limit = 5;
      q.offset = 2;
      auto page = store.QueryModels(q);
      auto expected = oracle.QueryModels(q);
      ASSERT_TRUE(page.ok() && expected.ok()) << page.status().ToString();
      EXPECT_EQ(page->total, expected->total) << tickers.size() << " tickers, min_support " << bound;
      EXPECT_EQ(Keys(page->items), Keys(expected->items)) << tickers.size() << " tickers, min_support " << bound;
    }
  }
}

}  // namespace alphalab::testing

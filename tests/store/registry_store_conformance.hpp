// The one behavioural suite every RegistryStore implementation must pass (SQLite, the
// in-memory fake, PostgreSQL later). Instantiate it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, RegistryStoreConformance,
//       ::testing::Values(RegistryStoreFactory{"sqlite", [] { return MakeMySqliteEnv(); }}),
//       RegistryStoreFactoryName);
//
// Expectations are computed by the test itself from the rows it inserted (a direct,
// obviously-correct reference: filter with plain comparisons, order with an explicit
// comparator over the documented rules) or written out by hand for small cases.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "store/registry_store.hpp"

namespace alphalab::testing {

// Owns a store and whatever it needs (database handle, temp dir, server connection).
class RegistryStoreEnv {
 public:
  virtual ~RegistryStoreEnv() = default;
  virtual RegistryStore& store() = 0;
};

struct RegistryStoreFactory {
  std::string name;
  std::function<std::unique_ptr<RegistryStoreEnv>()> make;
};

inline std::string RegistryStoreFactoryName(const ::testing::TestParamInfo<RegistryStoreFactory>& info) {
  return info.param.name;
}

inline RegistryRow MakeRow(std::string run_id, std::string ticker, std::string mode = "base") {
  RegistryRow r;
  r.run_id = std::move(run_id);
  r.ticker = std::move(ticker);
  r.mode = std::move(mode);
  r.project = "proj";
  r.label_horizon_days = 20;
  r.label_threshold = 0.05;
  r.precision = 0.5;
  r.recall = 0.4;
  r.f1 = 0.44;
  r.accuracy = 0.6;
  r.buy_rate = 0.2;
  r.positive_rate = 0.3;
  r.lift = 1.2;
  r.tp = 10;
  r.fp = 10;
  r.tn = 60;
  r.fn = 20;
  r.support = 100;
  r.model_final_path = "runs/" + r.run_id + "/model_" + r.ticker + ".json";
  r.config_path = "runs/" + r.run_id + "/config.yaml";
  r.metrics_path = "runs/" + r.run_id + "/metrics.json";
  r.manifest_path = "runs/" + r.run_id + "/manifest.json";
  r.start_time = "2026-01-01T00:00:00Z";
  r.end_time = "2026-01-01T00:01:00Z";
  r.status = "success";
  return r;
}

inline RunSummary MakeRunSummary(const std::string& run_id, const std::vector<RegistryRow>& rows,
                                 std::string start_time = "2026-01-01T00:00:00Z") {
  RunSummary s;
  s.run_id = run_id;
  s.project = rows.empty() ? "proj" : rows[0].project;
  s.mode = rows.empty() ? "base" : rows[0].mode;
  s.status = rows.empty() ? "success" : rows[0].status;
  s.start_time = std::move(start_time);
  s.end_time = "2026-01-01T00:01:00Z";
  s.dataset = "demo";
  s.config_path = "runs/" + run_id + "/config.yaml";
  for (const auto& r : rows) {
    if (std::find(s.tickers.begin(), s.tickers.end(), r.ticker) == s.tickers.end()) s.tickers.push_back(r.ticker);
  }
  std::sort(s.tickers.begin(), s.tickers.end());
  s.indexed_at = "2026-01-02T00:00:00.000Z";
  return s;
}

// Groups rows by run and replaces them all.
inline Status PutRows(RegistryStore& store, const std::vector<RegistryRow>& rows) {
  std::vector<IndexedRun> runs;
  for (const auto& r : rows) {
    auto it = std::find_if(runs.begin(), runs.end(), [&](const IndexedRun& x) { return x.run.run_id == r.run_id; });
    if (it == runs.end()) {
      runs.push_back({});
      it = runs.end() - 1;
      it->run.run_id = r.run_id;
    }
    it->rows.push_back(r);
  }
  for (auto& ir : runs) {
    std::string start = ir.rows[0].start_time;
    ir.run = MakeRunSummary(ir.run.run_id, ir.rows, start);
  }
  return store.ReplaceRuns(runs);
}

// The reference ordering, written directly from the documented rules.
inline bool ReferenceLess(const RegistryRow& a, const RegistryRow& b, const std::vector<RegistrySortKey>& sort) {
  for (const auto& k : sort) {
    const auto va = NumericValue(a, k.field);
    const auto vb = NumericValue(b, k.field);
    if (!va && !vb) continue;
    if (!va) return false;  // NULL last
    if (!vb) return true;
    if (*va < *vb) return !k.descending;
    if (*va > *vb) return k.descending;
  }
  return std::tie(a.run_id, a.ticker, a.mode) < std::tie(b.run_id, b.ticker, b.mode);
}

inline std::vector<std::string> Keys(const std::vector<RegistryRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.run_id + "/" + r.ticker + "/" + r.mode);
  return out;
}

// A deterministic data set with ties, NULLs and several tickers/modes/projects.
inline std::vector<RegistryRow> MixedRows(int n_runs = 40) {
  std::mt19937 rng(1234);
  const std::vector<std::string> tickers = {"AAA", "BBB", "CCC", "TSM"};
  std::vector<RegistryRow> rows;
  for (int i = 0; i < n_runs; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "run_%03d", (i * 17) % n_runs);  // ids not in insertion order
    for (size_t t = 0; t < tickers.size(); ++t) {
      if ((i + t) % 5 == 4) continue;  // not every run has every ticker
      RegistryRow r = MakeRow(id, tickers[t], i % 3 == 0 ? "finetune" : "base");
      r.project = i % 2 == 0 ? "alpha" : "beta";
      r.status = i % 7 == 6 ? "failed" : "success";
      // Coarse values so ties are common; some NULLs in every metric.
      auto coarse = [&](int buckets) { return static_cast<double>(rng() % buckets) / buckets; };
      r.precision = coarse(5);
      r.lift = 0.8 + coarse(4);
      r.buy_rate = coarse(3);
      r.recall = coarse(6);
      r.f1 = coarse(7);
      r.accuracy = coarse(8);
      r.positive_rate = coarse(4);
      r.label_threshold = 0.05 * (1 + rng() % 3);
      r.label_horizon_days = 10 * (1 + static_cast<int64_t>(rng() % 3));
      r.support = static_cast<int64_t>(rng() % 4) * 20;
      r.tp = static_cast<int64_t>(rng() % 5);
      r.fp = static_cast<int64_t>(rng() % 5);
      r.tn = static_cast<int64_t>(rng() % 5);
      r.fn = static_cast<int64_t>(rng() % 5);
      switch (rng() % 6) {
        case 0: r.precision.reset(); break;
        case 1: r.lift.reset(); break;
        case 2: r.buy_rate.reset(); break;
        case 3: r.support.reset(); r.tp.reset(); break;
        case 4: r.recall.reset(); r.f1.reset(); r.accuracy.reset(); r.positive_rate.reset(); break;
        default: r.label_threshold.reset(); r.label_horizon_days.reset(); r.tn.reset(); r.fn.reset(); r.fp.reset(); break;
      }
      rows.push_back(r);
    }
  }
  return rows;
}

class RegistryStoreConformance : public ::testing::TestWithParam<RegistryStoreFactory> {
 protected:
  void SetUp() override {
    env_ = GetParam().make();
    ASSERT_NE(env_, nullptr);
  }
  RegistryStore& store() { return env_->store(); }

  // Everything matching `q`'s filters, by the reference rules, in the reference order.
  static std::vector<RegistryRow> Expected(std::vector<RegistryRow> rows, const RegistryQuery& q,
                                           const std::function<bool(const RegistryRow&)>& keep) {
    std::vector<RegistryRow> out;
    for (auto& r : rows) {
      if (keep(r)) out.push_back(r);
    }
    const auto sort = EffectiveRegistrySort(q.sort);
    std::sort(out.begin(), out.end(), [&](const RegistryRow& a, const RegistryRow& b) { return ReferenceLess(a, b, sort); });
    return out;
  }

  // Runs `q` page by page and returns every item; checks total on each page.
  std::vector<RegistryRow> AllPages(RegistryQuery q, int page_size, int64_t expected_total) {
    std::vector<RegistryRow> out;
    q.limit = page_size;
    for (q.offset = 0;; q.offset += page_size) {
      auto page = store().QueryModels(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_EQ(page->total, expected_total);
      EXPECT_EQ(page->limit, page_size);
      EXPECT_EQ(page->offset, q.offset);
      out.insert(out.end(), page->items.begin(), page->items.end());
      if (page->items.size() < static_cast<size_t>(page_size)) break;
    }
    return out;
  }

  std::unique_ptr<RegistryStoreEnv> env_;
};

TEST_P(RegistryStoreConformance, EmptyStoreReturnsEmptyPage) {
  auto page = store().QueryModels({});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 0);
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->limit, 50);
  auto tickers = store().ListTickers();
  ASSERT_TRUE(tickers.ok());
  EXPECT_TRUE(tickers->empty());
}

TEST_P(RegistryStoreConformance, RoundTripsEveryFieldExactly) {
  RegistryRow r = MakeRow("run_rt", "TSM", "finetune");
  r.precision = 0.1 + 0.2;  // not representable as a short decimal
  r.lift = 1.0 / 3.0;
  r.label_threshold = 0.0500000001;
  r.recall.reset();
  r.tn.reset();
  r.project = "p-ü";  // UTF-8 survives
  ASSERT_TRUE(PutRows(store(), {r}).ok());
  auto page = store().QueryModels({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0], r);
}

TEST_P(RegistryStoreConformance, ReplaceRunsReplacesEveryRowOfTheRun) {
  ASSERT_TRUE(PutRows(store(), {MakeRow("r1", "AAA"), MakeRow("r1", "BBB"), MakeRow("r2", "AAA")}).ok());
  // Re-index r1 with only CCC and a changed metric: AAA/BBB rows of r1 must disappear.
  RegistryRow c = MakeRow("r1", "CCC");
  c.precision = 0.9;
  ASSERT_TRUE(PutRows(store(), {c}).ok());
  RegistryQuery q;
  q.run_ids = {"r1"};
  auto page = store().QueryModels(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->items[0], c);
  // r2 untouched.
  q.run_ids = {"r2"};
  EXPECT_EQ(store().QueryModels(q)->total, 1);
  auto ids = store().ListRunIds();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"r1", "r2"}));
  // Same input twice: nothing duplicated.
  ASSERT_TRUE(PutRows(store(), {c}).ok());
  EXPECT_EQ(store().QueryModels({})->total, 2);
}

TEST_P(RegistryStoreConformance, RepeatedRowInOneBatchKeepsTheLastAndCountsOnce) {
  RegistryRow first = MakeRow("r1", "AAA");
  RegistryRow second = MakeRow("r1", "AAA");
  second.precision = 0.99;
  second.project = first.project + "_moved";  // the last one's project counts, once
  ASSERT_TRUE(store().ReplaceRuns({IndexedRun{MakeRunSummary("r1", {first}), {first, second}}}).ok());
  auto page = store().QueryModels({});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 1);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].precision, 0.99);
  RegistryQuery q;
  q.tickers = {"AAA"};
  EXPECT_EQ(store().QueryModels(q)->total, 1);
  for (const auto& [project, want] : {std::pair{second.project, 1}, std::pair{first.project, 0}}) {
    RegistryQuery by_project;
    by_project.projects = {project};
    EXPECT_EQ(store().QueryModels(by_project)->total, want) << project;
    by_project.tickers = {"AAA"};
    EXPECT_EQ(store().QueryModels(by_project)->total, want) << project << ", ticker AAA";
  }
  // Totals stay right through replace and delete cycles (SQL stores keep counters).
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(PutRows(store(), {MakeRow("r1", "AAA"), MakeRow("r1", "BBB")}).ok());
  EXPECT_EQ(store().QueryModels({})->total, 2);
  EXPECT_EQ(store().QueryModels(q)->total, 1);
  ASSERT_TRUE(store().DeleteRun("r1").ok());
  EXPECT_EQ(store().QueryModels({})->total, 0);
  EXPECT_EQ(store().QueryModels(q)->total, 0);
  EXPECT_TRUE(store().ListTickers()->empty());
}

TEST_P(RegistryStoreConformance, BatchWithMismatchedRunIdIsRefusedAndWritesNothing) {
  IndexedRun good{MakeRunSummary("r_ok", {}), {MakeRow("r_ok", "AAA")}};
  IndexedRun bad{MakeRunSummary("r_bad", {}), {MakeRow("r_other", "AAA")}};
  Status s = store().ReplaceRuns({good, bad});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(store().QueryModels({})->total, 0);
  EXPECT_TRUE(store().ListRunIds()->empty());
}

TEST_P(RegistryStoreConformance, RunWithoutRowsIsStillARun) {
  ASSERT_TRUE(store().ReplaceRuns({IndexedRun{MakeRunSummary("r_empty", {}), {}}}).ok());
  EXPECT_EQ(*store().ListRunIds(), std::vector<std::string>{"r_empty"});
  EXPECT_EQ(store().QueryModels({})->total, 0);
}

TEST_P(RegistryStoreConformance, DeleteRunRemovesRowsAndSummary) {
  ASSERT_TRUE(PutRows(store(), {MakeRow("r1", "AAA"), MakeRow("r2", "BBB")}).ok());
  ASSERT_TRUE(store().DeleteRun("r1").ok());
  EXPECT_TRUE(store().DeleteRun("never-existed").ok());
  auto page = store().QueryModels({});
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->items[0].run_id, "r2");
  EXPECT_TRUE(store().GetRun("r1").status().IsNotFound());
  EXPECT_EQ(*store().ListTickers(), std::vector<std::string>{"BBB"});
}

TEST_P(RegistryStoreConformance, ListTickersIsDistinctAndSorted) {
  ASSERT_TRUE(PutRows(store(), {MakeRow("r1", "ZZZ"), MakeRow("r1", "AAA"), MakeRow("r2", "AAA"),
                                MakeRow("r2", "MMM", "finetune")}).ok());
  EXPECT_EQ(*store().ListTickers(), (std::vector<std::string>{"AAA", "MMM", "ZZZ"}));
}

// ---- filters ----

TEST_P(RegistryStoreConformance, EachFilterMatchesTheReference) {
  const auto rows = MixedRows();
  ASSERT_TRUE(PutRows(store(), rows).ok());
  struct Case {
    const char* name;
    std::function<void(RegistryQuery&)> set;
    std::function<bool(const RegistryRow&)> keep;
  };
  const std::vector<Case> cases = {
      {"none", [](RegistryQuery&) {}, [](const RegistryRow&) { return true; }},
      {"ticker", [](RegistryQuery& q) { q.tickers = {"TSM"}; }, [](const RegistryRow& r) { return r.ticker == "TSM"; }},
      {"ticker IN", [](RegistryQuery& q) { q.tickers = {"AAA", "CCC", "NOPE"}; },
       [](const RegistryRow& r) { return r.ticker == "AAA" || r.ticker == "CCC"; }},
      {"run_id", [](RegistryQuery& q) { q.run_ids = {"run_005"}; }, [](const RegistryRow& r) { return r.run_id == "run_005"; }},
      {"run_id IN", [](RegistryQuery& q) { q.run_ids = {"run_005", "run_006"}; },
       [](const RegistryRow& r) { return r.run_id == "run_005" || r.run_id == "run_006"; }},
      {"mode", [](RegistryQuery& q) { q.modes = {"finetune"}; }, [](const RegistryRow& r) { return r.mode == "finetune"; }},
      {"project", [](RegistryQuery& q) { q.projects = {"beta"}; }, [](const RegistryRow& r) { return r.project == "beta"; }},
      {"project IN", [](RegistryQuery& q) { q.projects = {"beta", "alpha"}; },
       [](const RegistryRow& r) { return r.project == "beta" || r.project == "alpha"; }},
      {"status", [](RegistryQuery& q) { q.statuses = {"failed"}; }, [](const RegistryRow& r) { return r.status == "failed"; }},
      {"mode IN + status IN", [](RegistryQuery& q) { q.modes = {"base", "finetune"}; q.statuses = {"failed", "success"}; },
       [](const RegistryRow& r) {
         return (r.mode == "base" || r.mode == "finetune") && (r.status == "failed" || r.status == "success");
       }},
      {"min_lift", [](RegistryQuery& q) { q.min_lift = 1.3; }, [](const RegistryRow& r) { return r.lift && *r.lift >= 1.3; }},
      {"min_precision (inclusive)", [](RegistryQuery& q) { q.min_precision = 0.6; },
       [](const RegistryRow& r) { return r.precision && *r.precision >= 0.6; }},
      {"min_support (inclusive)", [](RegistryQuery& q) { q.min_support = 40; },
       [](const RegistryRow& r) { return r.support && *r.support >= 40; }},
      {"max_buy_rate (inclusive)", [](RegistryQuery& q) { q.max_buy_rate = 1.0 / 3.0; },
       [](const RegistryRow& r) { return r.buy_rate && *r.buy_rate <= 1.0 / 3.0; }},
      {"seed combination",
       [](RegistryQuery& q) {
         q.tickers = {"TSM"};
         q.min_lift = 1.1;
         q.min_precision = 0.6;
         q.min_support = 30;
       },
       [](const RegistryRow& r) {
         return r.ticker == "TSM" && r.lift && *r.lift >= 1.1 && r.precision && *r.precision >= 0.6 && r.support &&
                *r.support >= 30;
       }},
      {"everything",
       [](RegistryQuery& q) {
         q.tickers = {"AAA", "BBB"};
         q.modes = {"base"};
         q.projects = {"alpha"};
         q.statuses = {"success"};
         q.max_buy_rate = 0.5;
         q.min_lift = 0.8;
       },
       [](const RegistryRow& r) {
         return (r.ticker == "AAA" || r.ticker == "BBB") && r.mode == "base" && r.project == "alpha" &&
                r.status == "success" && r.buy_rate && *r.buy_rate <= 0.5 && r.lift && *r.lift >= 0.8;
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RegistryQuery q;
    c.set(q);
    q.limit = 1000;
    auto expected = Expected(rows, q, c.keep);
    auto page = store().QueryModels(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->total, static_cast<int64_t>(expected.size()));
    EXPECT_EQ(Keys(page->items), Keys(expected));
  }
}

TEST_P(RegistryStoreConformance, FilterOnAMetricExcludesRowsWhereItIsNull) {
  RegistryRow a = MakeRow("r1", "AAA");
  RegistryRow b = MakeRow("r2", "AAA");
  b.lift.reset();
  b.precision.reset();
  b.support.reset();
  b.buy_rate.reset();
  ASSERT_TRUE(PutRows(store(), {a, b}).ok());
  for (int i = 0; i < 4; ++i) {
    RegistryQuery q;
    if (i == 0) q.min_lift = -1e9;
    if (i == 1) q.min_precision = -1e9;
    if (i == 2) q.min_support = -1000000;
    if (i == 3) q.max_buy_rate = 1e9;
    auto page = store().QueryModels(q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 1) << i;
    EXPECT_EQ(Keys(page->items), std::vector<std::string>{"r1/AAA/base"}) << i;
  }
}

// ---- ordering ----

TEST_P(RegistryStoreConformance, DefaultSortIsPrecisionLiftBuyRateSupport) {
  // Hand-written expectation for the seed's default order.
  RegistryRow a = MakeRow("a", "T");  // precision .7 lift 1.5
  a.precision = 0.7; a.lift = 1.5; a.buy_rate = 0.2; a.support = 50;
  RegistryRow b = MakeRow("b", "T");  // same precision, higher lift -> before a
  b.precision = 0.7; b.lift = 1.6; b.buy_rate = 0.9; b.support = 10;
  RegistryRow c = MakeRow("c", "T");  // same precision+lift as a, lower buy_rate -> before a
  c.precision = 0.7; c.lift = 1.5; c.buy_rate = 0.1; c.support = 1;
  RegistryRow d = MakeRow("d", "T");  // same as a but higher support -> before a
  d.precision = 0.7; d.lift = 1.5; d.buy_rate = 0.2; d.support = 60;
  RegistryRow e = MakeRow("e", "T");  // highest precision -> first
  e.precision = 0.8; e.lift = 0.1; e.buy_rate = 1.0; e.support = 0;
  RegistryRow f = MakeRow("f", "T");  // NULL precision -> last
  f.precision.reset(); f.lift = 9.0;
  ASSERT_TRUE(PutRows(store(), {a, b, c, d, e, f}).ok());
  auto page = store().QueryModels({});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Keys(page->items),
            (std::vector<std::string>{"e/T/base", "b/T/base", "c/T/base", "d/T/base", "a/T/base", "f/T/base"}));
}

TEST_P(RegistryStoreConformance, EverySortFieldBothDirectionsMatchesReference) {
  const auto rows = MixedRows();
  ASSERT_TRUE(PutRows(store(), rows).ok());
  for (const auto& info : kRegistryNumericFields) {
    for (bool desc : {false, true}) {
      SCOPED_TRACE(std::string(info.name) + (desc ? "_desc" : "_asc"));
      RegistryQuery q;
      q.sort = {{info.field, desc}};
      q.limit = 1000;
      auto expected = Expected(rows, q, [](const RegistryRow&) { return true; });
      auto page = store().QueryModels(q);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      EXPECT_EQ(Keys(page->items), Keys(expected));
      // NULLs are at the end in both directions.
      bool seen_null = false;
      for (const auto& r : page->items) {
        const bool is_null = !NumericValue(r, info.field).has_value();
        EXPECT_FALSE(seen_null && !is_null) << "non-NULL after NULL";
        seen_null = seen_null || is_null;
      }
    }
  }
}

TEST_P(RegistryStoreConformance, MultiKeySortsMatchReference) {
  const auto rows = MixedRows();
  ASSERT_TRUE(PutRows(store(), rows).ok());
  for (const char* spec : {"precision_desc,lift_desc,buy_rate_asc,support_desc", "lift_desc,precision_desc,buy_rate_asc,support_desc",
                           "precision_desc,support_desc,lift_desc,buy_rate_asc", "support_asc,tp_desc",
                           "label_horizon_days_asc,label_threshold_desc,f1_asc"}) {
    SCOPED_TRACE(spec);
    RegistryQuery q;
    q.sort = ParseRegistrySort(spec).value();
    q.limit = 1000;
    auto page = store().QueryModels(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(Keys(page->items), Keys(Expected(rows, q, [](const RegistryRow&) { return true; })));
    // And with a ticker filter (the indexed path in SQL stores).
    q.tickers = {"TSM"};
    page = store().QueryModels(q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(Keys(page->items), Keys(Expected(rows, q, [](const RegistryRow& r) { return r.ticker == "TSM"; })));
    // Several tickers (SQL stores merge per-ticker ranges), whole and from an offset, and past
    // the number of tickers merged (one IN list then).
    q.tickers = {"AAA", "CCC", "TSM"};
    const auto three = Expected(rows, q, [](const RegistryRow& r) {
      return r.ticker == "AAA" || r.ticker == "CCC" || r.ticker == "TSM";
    });
    page = store().QueryModels(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(Keys(page->items), Keys(three));
    q.offset = 5;
    q.limit = 7;
    page = store().QueryModels(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_GT(three.size(), 12u);
    EXPECT_EQ(Keys(page->items), Keys({three.begin() + 5, three.begin() + 12}));
    EXPECT_EQ(page->total, static_cast<int64_t>(three.size()));
    for (int i = 0; i < 600; ++i) q.tickers.push_back("NONE" + std::to_string(i));
    page = store().QueryModels(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(Keys(page->items), Keys({three.begin() + 5, three.begin() + 12}));
    EXPECT_EQ(page->total, static_cast<int64_t>(three.size()));
  }
}

TEST_P(RegistryStoreConformance, TiesBreakByRunIdThenTickerThenMode) {
  // Identical metrics everywhere: order must be run_id, ticker, mode ascending, whatever the sort direction.
  std::vector<RegistryRow> rows = {MakeRow("r2", "BBB", "base"), MakeRow("r1", "BBB", "finetune"),
                                   MakeRow("r1", "BBB", "base"), MakeRow("r1", "AAA", "base"),
                                   MakeRow("r10", "AAA", "base")};
  ASSERT_TRUE(PutRows(store(), rows).ok());
  const std::vector<std::string> expected = {"r1/AAA/base", "r1/BBB/base", "r1/BBB/finetune", "r10/AAA/base",
                                             "r2/BBB/base"};
  for (const char* spec : {"precision_desc", "precision_asc", "lift_asc,support_desc"}) {
    RegistryQuery q;
    q.sort = ParseRegistrySort(spec).value();
    EXPECT_EQ(Keys(store().QueryModels(q)->items), expected) << spec;
  }
}

TEST_P(RegistryStoreConformance, NullsSortLastInBothDirections) {
  RegistryRow lo = MakeRow("r_lo", "T"); lo.lift = 0.5;
  RegistryRow hi = MakeRow("r_hi", "T"); hi.lift = 2.0;
  RegistryRow n1 = MakeRow("r_n1", "T"); n1.lift.reset();
  RegistryRow n2 = MakeRow("r_n0", "T"); n2.lift.reset();
  ASSERT_TRUE(PutRows(store(), {n1, lo, n2, hi}).ok());
  RegistryQuery q;
  q.sort = ParseRegistrySort("lift_asc").value();
  EXPECT_EQ(Keys(store().QueryModels(q)->items),
            (std::vector<std::string>{"r_lo/T/base", "r_hi/T/base", "r_n0/T/base", "r_n1/T/base"}));
  q.sort = ParseRegistrySort("lift_desc").value();
  EXPECT_EQ(Keys(store().QueryModels(q)->items),
            (std::vector<std::string>{"r_hi/T/base", "r_lo/T/base", "r_n0/T/base", "r_n1/T/base"}));
}

// ---- paging ----

TEST_P(RegistryStoreConformance, PagingBoundaries) {
  const auto rows = MixedRows();
  ASSERT_TRUE(PutRows(store(), rows).ok());
  RegistryQuery base;
  base.tickers = {"AAA", "TSM"};
  auto keep = [](const RegistryRow& r) { return r.ticker == "AAA" || r.ticker == "TSM"; };
  const auto expected = Expected(rows, base, keep);
  const int64_t total = static_cast<int64_t>(expected.size());
  ASSERT_GT(total, 20);

  // Page sizes that divide and do not divide the total: concatenation = full order, no gaps or repeats.
  for (int size : {1, 7, static_cast<int>(total), static_cast<int>(total) + 5}) {
    SCOPED_TRACE(size);
    EXPECT_EQ(Keys(AllPages(base, size, total)), Keys(expected));
  }
  RegistryQuery q = base;
  q.limit = 10;
  q.offset = total - 3;  // last partial page
  auto page = store().QueryModels(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, total);
  EXPECT_EQ(Keys(page->items), Keys({expected.end() - 3, expected.end()}));
  q.offset = total;  // exactly at the end
  page = store().QueryModels(q);
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->total, total);
  q.offset = total + 100;  // past the end
  page = store().QueryModels(q);
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->total, total);
  EXPECT_EQ(page->offset, total + 100);
  q.offset = 0;
  q.limit = 0;  // count only
  page = store().QueryModels(q);
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->total, total);
  q.limit = 1000;  // the maximum is allowed
  EXPECT_EQ(store().QueryModels(q)->items.size(), static_cast<size_t>(total));
}

TEST_P(RegistryStoreConformance, RejectsInvalidQueries) {
  ASSERT_TRUE(PutRows(store(), {MakeRow("r1", "AAA")}).ok());
  std::vector<std::pair<const char*, RegistryQuery>> bad;
  RegistryQuery q;
  q.limit = -1; bad.push_back({"negative limit", q});
  q = {}; q.limit = 1001; bad.push_back({"limit over 1000", q});
  q = {}; q.offset = -1; bad.push_back({"negative offset", q});
  q = {}; q.min_lift = std::nan(""); bad.push_back({"NaN min_lift", q});
  q = {}; q.min_precision = INFINITY; bad.push_back({"infinite min_precision", q});
  q = {}; q.max_buy_rate = -INFINITY; bad.push_back({"infinite max_buy_rate", q});
  q = {}; q.tickers = {"AAA", ""}; bad.push_back({"empty ticker", q});
  q = {}; q.run_ids = {""}; bad.push_back({"empty run id", q});
  q = {}; q.sort = {{RegistryField::kLift, true}, {RegistryField::kLift, false}}; bad.push_back({"field twice", q});
  q = {}; q.tickers.assign(1001, "AAA"); bad.push_back({"IN list too long", q});
  for (const auto& [name, query] : bad) {
    auto page = store().QueryModels(query);
    EXPECT_FALSE(page.ok()) << name;
    EXPECT_TRUE(page.status().IsInvalidArgument()) << name << ": " << page.status().ToString();
  }
  EXPECT_TRUE(store().BestModelPerTicker({}, -1).status().IsInvalidArgument());
  RunQuery rq;
  rq.limit = 1001;
  EXPECT_TRUE(store().ListRuns(rq).status().IsInvalidArgument());
  BacktestQuery bq;
  bq.offset = -5;
  EXPECT_TRUE(store().ListBacktests(bq).status().IsInvalidArgument());
}

TEST_P(RegistryStoreConformance, BestModelPerTickerUsesTheSortOrder) {
  const auto rows = MixedRows();
  ASSERT_TRUE(PutRows(store(), rows).ok());
  for (const char* spec : {"", "lift_desc,precision_desc"}) {
    SCOPED_TRACE(spec);
    auto sort = ParseRegistrySort(spec).value();
    auto best = store().BestModelPerTicker(sort, 100);
    ASSERT_TRUE(best.ok()) << best.status().ToString();
    std::vector<std::string> expected;
    for (const std::string t : {"AAA", "BBB", "CCC", "TSM"}) {
      RegistryQuery q;
      q.sort = sort;
      auto all = Expected(rows, q, [&](const RegistryRow& r) { return r.ticker == t; });
      expected.push_back(Keys({all.front()})[0]);
    }
    EXPECT_EQ(Keys(*best), expected);
  }
  EXPECT_EQ(store().BestModelPerTicker({}, 2)->size(), 2u);
}

// ---- runs ----

TEST_P(RegistryStoreConformance, ListRunsNewestFirstWithFiltersAndPaging) {
  std::vector<IndexedRun> runs;
  for (int i = 0; i < 12; ++i) {
    std::string id = "run_" + std::to_string(100 + i);
    RegistryRow r = MakeRow(id, i % 3 == 0 ? "TSM" : "AAA");
    r.project = i % 2 ? "odd" : "even";
    // Two runs share a start time: the tie is broken by run_id descending.
    std::string start = "2026-03-" + std::string(i < 10 ? "0" : "") + std::to_string(i == 5 ? 4 : i) + "T10:00:00Z";
    IndexedRun ir{MakeRunSummary(id, {r}, start), {r}};
    ir.run.eval_modes = i == 2 ? std::vector<std::string>{"base"} : std::vector<std::string>{};
    runs.push_back(ir);
  }
  ASSERT_TRUE(store().ReplaceRuns(runs).ok());
  RunQuery q;
  q.limit = 5;
  auto page = store().ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 12);
  std::vector<std::string> ids;
  for (const auto& r : page->items) ids.push_back(r.run_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"run_111", "run_110", "run_109", "run_108", "run_107"}));
  q.offset = 5;
  ids.clear();
  auto second = store().ListRuns(q);
  ASSERT_TRUE(second.ok());
  for (const auto& r : second->items) ids.push_back(r.run_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"run_106", "run_105", "run_104", "run_103", "run_102"}));

  RunQuery f;
  f.tickers = {"TSM"};
  f.limit = 100;
  ids.clear();
  auto filtered = store().ListRuns(f);
  ASSERT_TRUE(filtered.ok());
  for (const auto& r : filtered->items) ids.push_back(r.run_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"run_109", "run_106", "run_103", "run_100"}));
  f = {};
  f.projects = {"odd"};
  EXPECT_EQ(store().ListRuns(f)->total, 6);
  f.tickers = {"TSM"};  // odd and with a TSM model: run_103, run_109
  EXPECT_EQ(store().ListRuns(f)->total, 2);
  f = {};
  f.projects = {"odd", "even"};  // IN
  f.tickers = {"TSM", "AAA", "NOPE"};
  EXPECT_EQ(store().ListRuns(f)->total, 12);
  f.statuses = {"nope"};
  EXPECT_EQ(store().ListRuns(f)->total, 0);

  auto got = store().GetRun("run_102");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, runs[2].run);
  EXPECT_TRUE(store().GetRun("run_999").status().IsNotFound());
}

TEST_P(RegistryStoreConformance, ListRunsTextSearchAndSort) {
  std::vector<IndexedRun> runs;
  for (int i = 0; i < 9; ++i) {
    const std::string id = "run_" + std::to_string(200 + i);
    RegistryRow r = MakeRow(id, i % 3 == 0 ? "TSMC" : (i % 3 == 1 ? "AAPL" : "SPX"));
    r.project = i < 3 ? "Alpha" : (i < 6 ? "beta" : "gamma");
    IndexedRun ir{MakeRunSummary(id, {r}, "2026-04-0" + std::to_string(i + 1) + "T00:00:00Z"), {r}};
    ir.run.dataset = i % 2 ? "synthetic" : "demo";
    runs.push_back(ir);
  }
  ASSERT_TRUE(store().ReplaceRuns(runs).ok());
  auto ids = [&](const RunQuery& q) {
    std::vector<std::string> out;
    auto page = store().ListRuns(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const auto& r : page->items) out.push_back(r.run_id);
    }
    return out;
  };
  RunQuery q;
  q.limit = 100;
  q.text = "tsm";  // a ticker, case-insensitive
  EXPECT_EQ(ids(q), (std::vector<std::string>{"run_206", "run_203", "run_200"}));
  q.text = "ALPHA";  // project
  EXPECT_EQ(ids(q), (std::vector<std::string>{"run_202", "run_201", "run_200"}));
  q.text = "synth";  // dataset
  EXPECT_EQ(ids(q), (std::vector<std::string>{"run_207", "run_205", "run_203", "run_201"}));
  EXPECT_EQ(store().ListRuns(q)->total, 4);
  q.text = "run_208/config";  // config_path
  EXPECT_EQ(ids(q), (std::vector<std::string>{"run_208"}));
  q.text = "nothing like it";
  EXPECT_TRUE(ids(q).empty());

  q = {};
  q.limit = 100;
  q.sort = {RunSortField::kRunId, false};
  EXPECT_EQ(ids(q).front(), "run_200");
  EXPECT_EQ(ids(q).back(), "run_208");
  q.sort = {RunSortField::kProject, false};  // Alpha < beta < gamma (bytewise), run_id ascending within
  EXPECT_EQ(ids(q), (std::vector<std::string>{"run_200", "run_201", "run_202", "run_203", "run_204", "run_205",
                                              "run_206", "run_207", "run_208"}));
  q.sort = {RunSortField::kDataset, true};  // synthetic first, run_id descending within
  q.limit = 3;
  q.offset = 3;
  EXPECT_EQ(ids(q), (std::vector<std::string>{"run_201", "run_208", "run_206"}));
  q.text = "demo";
  q.offset = 0;
  q.sort = {RunSortField::kStartTime, false};
  EXPECT_EQ(ids(q), (std::vector<std::string>{"run_200", "run_202", "run_204"}));
  EXPECT_EQ(store().ListRuns(q)->total, 5);

  EXPECT_EQ(ParseRunSort("dataset_desc")->field, RunSortField::kDataset);
  EXPECT_TRUE(ParseRunSort("dataset_desc")->descending);
  EXPECT_FALSE(ParseRunSort("run_id_asc")->descending);
  EXPECT_FALSE(ParseRunSort("lift_desc").has_value());
  EXPECT_FALSE(ParseRunSort("dataset").has_value());
}

// param.<name> sorts: numbers by value (integers and reals compare as numbers), then every run
// where the param is absent, a string or a boolean, as ties (run_id in the sort direction).
// model_params round-trips as the JSON object it was stored as.
TEST_P(RegistryStoreConformance, ListRunsSortByModelParam) {
  const std::vector<std::pair<std::string, Json>> params = {
      {"run_300", Json{{"max_depth", 6}, {"eta", 0.1}, {"objective", "binary:logistic"}}},
      {"run_301", Json{{"max_depth", 3}, {"eta", 0.3}}},
      {"run_302", Json::object()},
      {"run_303", Json{{"max_depth", 10}, {"eta", 0.05}}},
      {"run_304", Json{{"max_depth", "deep"}, {"eta", true}}},
      {"run_305", Json{{"max_depth", 3.5}}},
      {"run_306", Json{{"max_depth", -1}, {"eta", 0.3}}},
  };
  std::vector<IndexedRun> runs;
  for (size_t i = 0; i < params.size(); ++i) {
    IndexedRun ir{MakeRunSummary(params[i].first, {}, "2026-05-0" + std::to_string(i + 1) + "T00:00:00Z"), {}};
    ir.run.model_params = params[i].second;
    runs.push_back(ir);
  }
  ASSERT_TRUE(store().ReplaceRuns(runs).ok());
  auto ids = [&](const std::string& sort, int limit = 100, int64_t offset = 0) {
    RunQuery q;
    q.sort = *ParseRunSort(sort);
    q.limit = limit;
    q.offset = offset;
    std::vector<std::string> out;
    auto page = store().ListRuns(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const auto& r : page->items) out.push_back(r.run_id.substr(4));
      EXPECT_EQ(page->total, 7);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("param.max_depth_asc"), (V{"306", "301", "305", "300", "303", "302", "304"}));
  EXPECT_EQ(ids("param.max_depth_desc"), (V{"303", "300", "305", "301", "306", "304", "302"}));
  EXPECT_EQ(ids("param.eta_asc"), (V{"303", "300", "301", "306", "302", "304", "305"}));  // 0.3 tie: run_id
  EXPECT_EQ(ids("param.eta_desc"), (V{"306", "301", "300", "303", "305", "304", "302"}));
  EXPECT_EQ(ids("param.objective_asc"), (V{"300", "301", "302", "303", "304", "305", "306"}));  // text: no order
  EXPECT_EQ(ids("param.nope_desc"), (V{"306", "305", "304", "303", "302", "301", "300"}));
  EXPECT_EQ(ids("param.max_depth_asc", 3, 2), (V{"305", "300", "303"}));  // pages follow the order

  auto got = store().GetRun("run_300");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->model_params, params[0].second);
  EXPECT_EQ(store().GetRun("run_302")->model_params, Json::object());

  EXPECT_EQ(ParseRunSort("param.max_depth_desc")->param, "max_depth");
  EXPECT_EQ(ParseRunSort("param.max_depth_desc")->field, RunSortField::kParam);
  EXPECT_FALSE(ParseRunSort("param._asc").has_value());
  EXPECT_FALSE(ParseRunSort("param.a\"b_asc").has_value());
  EXPECT_FALSE(ParseRunSort("param.a'b_asc").has_value());
  EXPECT_FALSE(ParseRunSort("param.max_depth").has_value());
  EXPECT_FALSE(ParseRunSort("param." + std::string(65, 'x') + "_asc").has_value());
}

// ---- backtests ----

inline BacktestSummaryRow MakeBacktest(std::string id, std::string created, std::string strategy,
                                       std::vector<std::string> tickers, std::string model_run_id = "") {
  BacktestSummaryRow b;
  b.bt_run_id = std::move(id);
  b.created_at = std::move(created);
  b.strategy_type = std::move(strategy);
  b.dataset = "demo";
  b.tickers = std::move(tickers);
  b.start = "2001-01-02";
  b.end = "2020-12-31";
  b.model_run_id = std::move(model_run_id);
  b.model_path = b.model_run_id.empty() ? "" : "runs/" + b.model_run_id + "/model_SPX.json";
  b.config_path = "backtests/" + b.bt_run_id + "/config.yaml";
  b.cagr = 0.071;
  b.max_drawdown = 0.33;
  b.sharpe = 0.5;
  b.sortino.reset();
  b.volatility = 0.15;
  b.total_return = 1.7;
  b.trades = 12;
  b.win_rate = 0.5;
  b.exposure = 0.6;
  b.final_equity = 2700000.5;
  b.initial_cash = 1000000;
  b.summary_json = R"({"bt_run_id":")" + b.bt_run_id + R"("})";
  b.indexed_at = "2026-01-02T00:00:00.000Z";
  return b;
}

TEST_P(RegistryStoreConformance, BacktestsFilterPageAndReplace) {
  std::vector<BacktestSummaryRow> bts = {
      MakeBacktest("bt_1", "2026-01-01T00:00:00Z", "sma_cross", {"SPX"}),
      MakeBacktest("bt_2", "2026-01-02T00:00:00Z", "signal", {"SPX"}, "run_a"),
      MakeBacktest("bt_3", "2026-01-03T00:00:00Z", "topn", {"AAA", "BBB", "SPX"}, "run_b"),
      MakeBacktest("bt_4", "2026-01-03T00:00:00Z", "signal", {"AAA"}, "run_b"),
  };
  ASSERT_TRUE(store().UpsertBacktests(bts).ok());
  auto ids_of = [](const BacktestPage& p) {
    std::vector<std::string> ids;
    for (const auto& b : p.items) ids.push_back(b.bt_run_id);
    return ids;
  };
  BacktestQuery q;
  auto page = store().ListBacktests(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 4);
  EXPECT_EQ(ids_of(*page), (std::vector<std::string>{"bt_4", "bt_3", "bt_2", "bt_1"}));
  q.tickers = {"SPX"};
  EXPECT_EQ(ids_of(*store().ListBacktests(q)), (std::vector<std::string>{"bt_3", "bt_2", "bt_1"}));
  q = {};
  q.strategies = {"signal"};
  EXPECT_EQ(ids_of(*store().ListBacktests(q)), (std::vector<std::string>{"bt_4", "bt_2"}));
  q = {};
  q.model_run_ids = {"run_b"};
  q.tickers = {"AAA"};
  EXPECT_EQ(ids_of(*store().ListBacktests(q)), (std::vector<std::string>{"bt_4", "bt_3"}));
  q = {};
  q.limit = 2;
  q.offset = 2;
  page = store().ListBacktests(q);
  EXPECT_EQ(page->total, 4);
  EXPECT_EQ(ids_of(*page), (std::vector<std::string>{"bt_2", "bt_1"}));

  auto got = store().GetBacktest("bt_3");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, bts[2]);
  // Replacing bt_3 with a new ticker set drops its old tickers.
  BacktestSummaryRow changed = bts[2];
  changed.tickers = {"CCC"};
  changed.cagr = -0.02;
  ASSERT_TRUE(store().UpsertBacktests({changed}).ok());
  q = {};
  q.tickers = {"BBB"};
  EXPECT_EQ(store().ListBacktests(q)->total, 0);
  q.tickers = {"CCC"};
  EXPECT_EQ(ids_of(*store().ListBacktests(q)), std::vector<std::string>{"bt_3"});
  EXPECT_EQ(*store().GetBacktest("bt_3"), changed);

  ASSERT_TRUE(store().DeleteBacktest("bt_3").ok());
  EXPECT_TRUE(store().GetBacktest("bt_3").status().IsNotFound());
  EXPECT_EQ(*store().ListBacktestIds(), (std::vector<std::string>{"bt_1", "bt_2", "bt_4"}));
  q.tickers = {"CCC"};
  EXPECT_EQ(store().ListBacktests(q)->total, 0);
}

// sort=<field>_<asc|desc> on any numeric summary field (NULL last both ways, ties newest
// first), min_/max_ bounds (a NULL metric never passes), comma lists as IN.
TEST_P(RegistryStoreConformance, BacktestsSortAndBoundOnNumericFields) {
  std::vector<BacktestSummaryRow> bts = {
      MakeBacktest("bt_1", "2026-01-01T00:00:00Z", "sma_cross", {"SPX"}),
      MakeBacktest("bt_2", "2026-01-02T00:00:00Z", "signal", {"SPX"}, "run_a"),
      MakeBacktest("bt_3", "2026-01-03T00:00:00Z", "topn", {"AAA", "BBB"}, "run_b"),
      MakeBacktest("bt_4", "2026-01-04T00:00:00Z", "signal", {"CCC"}, "run_b"),
      MakeBacktest("bt_5", "2026-01-05T00:00:00Z", "signal", {"SPX"}, "run_c"),
  };
  bts[0].sharpe = 1.5;  bts[0].max_drawdown = 0.10; bts[0].trades = 40;
  bts[1].sharpe = 0.2;  bts[1].max_drawdown = 0.25; bts[1].trades = 3;
  bts[2].sharpe = 0.9;  bts[2].max_drawdown = 0.40; bts[2].trades = 12;
  bts[3].sharpe.reset(); bts[3].max_drawdown = 0.05; bts[3].trades = 12;
  bts[4].sharpe = 0.9;  bts[4].max_drawdown.reset(); bts[4].trades.reset();
  ASSERT_TRUE(store().UpsertBacktests(bts).ok());
  auto ids = [&](const BacktestQuery& q) {
    auto page = store().ListBacktests(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> out;
    for (const auto& b : page->items) out.push_back(b.bt_run_id);
    return out;
  };
  BacktestQuery q;
  q.sort = ParseBacktestSort("sharpe_desc").value();
  // bt_3 and bt_5 tie on 0.9: newest first; bt_4 (no sharpe) last.
  EXPECT_EQ(ids(q), (std::vector<std::string>{"bt_1", "bt_5", "bt_3", "bt_2", "bt_4"}));
  q.sort = ParseBacktestSort("sharpe_asc").value();
  EXPECT_EQ(ids(q), (std::vector<std::string>{"bt_2", "bt_5", "bt_3", "bt_1", "bt_4"}));
  q.sort = ParseBacktestSort("trades_desc,max_drawdown_asc").value();
  EXPECT_EQ(ids(q), (std::vector<std::string>{"bt_1", "bt_4", "bt_3", "bt_2", "bt_5"}));
  q.sort = {};
  q.bounds = {{BacktestField::kSharpe, 0.5, std::nullopt}};
  EXPECT_EQ(ids(q), (std::vector<std::string>{"bt_5", "bt_3", "bt_1"}));
  q.bounds = {{BacktestField::kSharpe, 0.5, 1.0}, {BacktestField::kMaxDrawdown, std::nullopt, 0.4}};
  EXPECT_EQ(ids(q), (std::vector<std::string>{"bt_3"}));  // bt_5 has no max_drawdown
  q.bounds = {{BacktestField::kTrades, 12, 12}};
  EXPECT_EQ(ids(q), (std::vector<std::string>{"bt_4", "bt_3"}));
  q.bounds = {};
  q.strategies = {"signal", "topn"};
  q.tickers = {"SPX", "AAA"};
  EXPECT_EQ(ids(q), (std::vector<std::string>{"bt_5", "bt_3", "bt_2"}));
  q.model_run_ids = {"run_a", "run_c"};
  q.limit = 1;
  q.offset = 1;
  auto page = store().ListBacktests(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].bt_run_id, "bt_2");
  EXPECT_FALSE(ParseBacktestSort("precision_desc").ok());  // a model field, not a backtest one
  EXPECT_FALSE(ParseBacktestSort("sharpe_desc,sharpe_asc").ok());
  EXPECT_FALSE(ParseBacktestSort("sharpe").ok());
}

}  // namespace alphalab::testing

// In-memory RegistryStore for tests of the registry service and handlers. Same semantics as
// the SQL stores (it runs the same conformance suite), implemented with plain vectors.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "store/registry_store.hpp"

namespace alphalab {

class FakeRegistryStore final : public RegistryStore {
 public:
  Status ReplaceRuns(const std::vector<IndexedRun>& runs) override {
    for (const auto& r : runs) {
      if (r.run.run_id.empty()) return Status::InvalidArgument("run without run_id");
      for (const auto& row : r.rows) {
        if (row.run_id != r.run.run_id) {
          return Status::InvalidArgument("row of run '" + row.run_id + "' given for run '" + r.run.run_id + "'");
        }
      }
    }
    std::lock_guard lock(mu_);
    for (const auto& r : runs) {
      runs_[r.run.run_id] = r.run;
      std::erase_if(rows_, [&](const RegistryRow& row) { return row.run_id == r.run.run_id; });
      // A repeated (run, ticker, mode) within one batch keeps the last one, like an upsert.
      for (const auto& row : r.rows) {
        std::erase_if(rows_, [&](const RegistryRow& x) {
          return x.run_id == row.run_id && x.ticker == row.ticker && x.mode == row.mode;
        });
        rows_.push_back(row);
      }
    }
    return Status::Ok();
  }

  Status DeleteRun(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    runs_.erase(run_id);
    std::erase_if(rows_, [&](const RegistryRow& row) { return row.run_id == run_id; });
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListRunIds() override {
    std::lock_guard lock(mu_);
    std::vector<std::string> ids;
    for (const auto& [id, run] : runs_) ids.push_back(id);
    return ids;
  }

  Result<RegistryPage> QueryModels(const RegistryQuery& q) override {
    RETURN_IF_ERROR(ValidateRegistryQuery(q));
    std::lock_guard lock(mu_);
    std::vector<RegistryRow> hits;
    for (const auto& row : rows_) {
      if (Matches(row, q)) hits.push_back(row);
    }
    SortRows(hits, EffectiveRegistrySort(q.sort));
    RegistryPage page;
    page.total = static_cast<int64_t>(hits.size());
    page.limit = q.limit;
    page.offset = q.offset;
    for (int64_t i = q.offset; i < page.total && i < q.offset + q.limit; ++i) page.items.push_back(hits[i]);
    return page;
  }

  Result<std::vector<RegistryRow>> BestModelPerTicker(const std::vector<RegistrySortKey>& sort, int limit) override {
    RETURN_IF_ERROR(ValidatePaging(limit, 0));
    std::lock_guard lock(mu_);
    std::vector<RegistryRow> all = rows_;
    SortRows(all, EffectiveRegistrySort(sort));
    std::map<std::string, RegistryRow> best;
    for (const auto& row : all) best.emplace(row.ticker, row);  // first one wins
    std::vector<RegistryRow> out;
    for (auto& [ticker, row] : best) {
      if (static_cast<int>(out.size()) >= limit) break;
      out.push_back(row);
    }
    return out;
  }

  Status ScanModels(const std::function<Status(const RegistryRow&)>& fn) override {
    std::vector<RegistryRow> all;
    {
      std::lock_guard lock(mu_);
      all = rows_;
    }
    SortRows(all, EffectiveRegistrySort({}));
    for (const auto& row : all) RETURN_IF_ERROR(fn(row));
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListTickers() override {
    std::lock_guard lock(mu_);
    std::set<std::string> tickers;
    for (const auto& row : rows_) tickers.insert(row.ticker);
    return std::vector<std::string>(tickers.begin(), tickers.end());
  }

  Result<RunPage> ListRuns(const RunQuery& q) override {
    RETURN_IF_ERROR(ValidatePaging(q.limit, q.offset));
    std::lock_guard lock(mu_);
    std::vector<RunSummary> hits;
    for (const auto& [id, run] : runs_) {
      if (!In(q.projects, run.project) || !In(q.statuses, run.status)) continue;
      if (!q.tickers.empty() && std::none_of(run.tickers.begin(), run.tickers.end(),
                                             [&](const std::string& t) { return In(q.tickers, t); })) {
        continue;
      }
      if (q.text && !RunTextMatches(run, *q.text)) continue;
      hits.push_back(run);
    }
    std::sort(hits.begin(), hits.end(), [&q](const RunSummary& a, const RunSummary& b) { return RunBefore(a, b, q.sort); });
    return Page<RunPage>(hits, q.limit, q.offset);
  }

  Result<RunSummary> GetRun(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return Status::NotFound("run '" + run_id + "' is not indexed");
    return it->second;
  }

  Status UpsertBacktests(const std::vector<BacktestSummaryRow>& backtests) override {
    for (const auto& b : backtests) {
      if (b.bt_run_id.empty()) return Status::InvalidArgument("backtest without bt_run_id");
    }
    std::lock_guard lock(mu_);
    for (const auto& b : backtests) backtests_[b.bt_run_id] = b;
    return Status::Ok();
  }

  Status DeleteBacktest(const std::string& bt_run_id) override {
    std::lock_guard lock(mu_);
    backtests_.erase(bt_run_id);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListBacktestIds() override {
    std::lock_guard lock(mu_);
    std::vector<std::string> ids;
    for (const auto& [id, b] : backtests_) ids.push_back(id);
    return ids;
  }

  Result<BacktestPage> ListBacktests(const BacktestQuery& q) override {
    RETURN_IF_ERROR(ValidatePaging(q.limit, q.offset));
    std::lock_guard lock(mu_);
    std::vector<BacktestSummaryRow> hits;
    for (const auto& [id, b] : backtests_) {
      if (BacktestMatches(b, q)) hits.push_back(b);
    }
    std::sort(hits.begin(), hits.end(), [&q](const BacktestSummaryRow& a, const BacktestSummaryRow& b) {
      return BacktestBefore(a, b, q.sort);
    });
    return Page<BacktestPage>(hits, q.limit, q.offset);
  }

  Result<BacktestSummaryRow> GetBacktest(const std::string& bt_run_id) override {
    std::lock_guard lock(mu_);
    auto it = backtests_.find(bt_run_id);
    if (it == backtests_.end()) return Status::NotFound("backtest '" + bt_run_id + "' is not indexed");
    return it->second;
  }

 private:
  // An IN filter: empty = any.
  static bool In(const std::vector<std::string>& set, const std::string& v) {
    return set.empty() || std::find(set.begin(), set.end(), v) != set.end();
  }

  static bool AtLeast(const std::optional<double>& v, const std::optional<double>& min) {
    return !min || (v && *v >= *min);
  }

  static bool Matches(const RegistryRow& row, const RegistryQuery& q) {
    if (!q.tickers.empty() && std::find(q.tickers.begin(), q.tickers.end(), row.ticker) == q.tickers.end()) return false;
    if (!q.run_ids.empty() && std::find(q.run_ids.begin(), q.run_ids.end(), row.run_id) == q.run_ids.end()) return false;
    if (!In(q.modes, row.mode) || !In(q.projects, row.project) || !In(q.statuses, row.status)) return false;
    if (!AtLeast(row.lift, q.min_lift)) return false;
    if (!AtLeast(row.precision, q.min_precision)) return false;
    if (q.min_support && !(row.support && *row.support >= *q.min_support)) return false;
    if (q.max_buy_rate && !(row.buy_rate && *row.buy_rate <= *q.max_buy_rate)) return false;
    return true;
  }

  static void SortRows(std::vector<RegistryRow>& rows, const std::vector<RegistrySortKey>& sort) {
    std::sort(rows.begin(), rows.end(), [&](const RegistryRow& a, const RegistryRow& b) {
      for (const auto& key : sort) {
        auto va = NumericValue(a, key.field);
        auto vb = NumericValue(b, key.field);
        if (va.has_value() != vb.has_value()) return va.has_value();  // NULLs last
        if (!va || *va == *vb) continue;
        return key.descending ? *va > *vb : *va < *vb;
      }
      if (a.run_id != b.run_id) return a.run_id < b.run_id;
      if (a.ticker != b.ticker) return a.ticker < b.ticker;
      return a.mode < b.mode;
    });
  }

  template <typename PageT, typename T>
  static PageT Page(const std::vector<T>& hits, int limit, int64_t offset) {
    PageT page;
    page.total = static_cast<int64_t>(hits.size());
    page.limit = limit;
    page.offset = offset;
    for (int64_t i = offset; i < page.total && i < offset + limit; ++i) page.items.push_back(hits[i]);
    return page;
  }

  std::mutex mu_;
  std::map<std::string, RunSummary> runs_;
  std::vector<RegistryRow> rows_;
  std::map<std::string, BacktestSummaryRow> backtests_;
};

}  // namespace alphalab

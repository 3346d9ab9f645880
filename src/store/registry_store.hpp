// The model registry, the run index and the backtest index (docs/registry.md): one row per
// (run, ticker, mode) with the metrics of that run's test split, plus one summary row per
// run and per backtest. Filtering, sorting, counting and paging happen inside the store
// (SQL with indexes in SQLite and PostgreSQL; a plain vector in the fake), and every
// implementation runs the same conformance suite (tests/store/registry_store_conformance.hpp).
//
// Ordering semantics, identical in every implementation:
//   - `sort` is a list of (numeric field, direction); an empty list means the default
//     precision_desc,lift_desc,buy_rate_asc,support_desc.
//   - NULL (missing metric) sorts LAST in both directions.
//   - Ties are broken by run_id ASC, ticker ASC, mode ASC, so pages never overlap or skip.
//   - Filters compare with >= / <=; a row whose metric is NULL never passes a filter on it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

// ---------------------------------------------------------------------------------------------
// Registry rows

// The numeric (sortable, filterable) columns of a registry row.
enum class RegistryField {
  kLabelHorizonDays,
  kLabelThreshold,
  kPrecision,
  kRecall,
  kF1,
  kAccuracy,
  kBuyRate,
  kPositiveRate,
  kLift,
  kTp,
  kFp,
  kTn,
  kFn,
  kSupport,
};

struct RegistryFieldInfo {
  RegistryField field;
  std::string_view name;  // the column name in SQL, JSON, CSV
  bool is_integer;
};

inline constexpr std::array<RegistryFieldInfo, 14> kRegistryNumericFields = {{
    {RegistryField::kLabelHorizonDays, "label_horizon_days", true},
    {RegistryField::kLabelThreshold, "label_threshold", false},
    {RegistryField::kPrecision, "precision", false},
    {RegistryField::kRecall, "recall", false},
    {RegistryField::kF1, "f1", false},
    {RegistryField::kAccuracy, "accuracy", false},
    {RegistryField::kBuyRate, "buy_rate", false},
    {RegistryField::kPositiveRate, "positive_rate", false},
    {RegistryField::kLift, "lift", false},
    {RegistryField::kTp, "tp", true},
    {RegistryField::kFp, "fp", true},
    {RegistryField::kTn, "tn", true},
    {RegistryField::kFn, "fn", true},
    {RegistryField::kSupport, "support", true},
}};

inline const RegistryFieldInfo& FieldInfo(RegistryField f) {
  return kRegistryNumericFields[static_cast<size_t>(f)];
}

inline std::optional<RegistryField> ParseRegistryField(std::string_view name) {
  for (const auto& info : kRegistryNumericFields) {
    if (info.name == name) return info.field;
  }
  return std::nullopt;
}

// One registry row. Numeric metrics are optional: a metric that the run did not report
// (or that is undefined, e.g. precision with no predicted positives) is NULL.
struct RegistryRow {
  std::string ticker;
  std::string run_id;
  std::string mode;     // "base" | "finetune" | whatever the run declares
  std::string project;  // from metrics.json "project" (may be empty)
  std::optional<int64_t> label_horizon_days;
  std::optional<double> label_threshold;
  std::optional<double> precision;
  std::optional<double> recall;
  std::optional<double> f1;
  std::optional<double> accuracy;
  std::optional<double> buy_rate;
  std::optional<double> positive_rate;
  std::optional<double> lift;
  std::optional<int64_t> tp;
  std::optional<int64_t> fp;
  std::optional<int64_t> tn;
  std::optional<int64_t> fn;
  std::optional<int64_t> support;
  std::string model_final_path;  // workspace-relative
  std::string config_path;
  std::string metrics_path;      // the file the metrics came from (metrics.json or metrics_eval_<mode>.json)
  std::string manifest_path;
  std::string start_time;        // ISO-8601 as written by the run
  std::string end_time;
  std::string status;            // "success", "failed", ... as written by the run

  friend bool operator==(const RegistryRow&, const RegistryRow&) = default;
};

// A numeric column of a row as a double (integers widen exactly up to 2^53).
inline std::optional<double> NumericValue(const RegistryRow& r, RegistryField f) {
  auto widen = [](const std::optional<int64_t>& v) {
    return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
  };
  switch (f) {
    case RegistryField::kLabelHorizonDays: return widen(r.label_horizon_days);
    case RegistryField::kLabelThreshold: return r.label_threshold;
    case RegistryField::kPrecision: return r.precision;
    case RegistryField::kRecall: return r.recall;
    case RegistryField::kF1: return r.f1;
    case RegistryField::kAccuracy: return r.accuracy;
    case RegistryField::kBuyRate: return r.buy_rate;
    case RegistryField::kPositiveRate: return r.positive_rate;
    case RegistryField::kLift: return r.lift;
    case RegistryField::kTp: return widen(r.tp);
    case RegistryField::kFp: return widen(r.fp);
    case RegistryField::kTn: return widen(r.tn);
    case RegistryField::kFn: return widen(r.fn);
    case RegistryField::kSupport: return widen(r.support);
  }
  return std::nullopt;
}

struct RegistrySortKey {
  RegistryField field;
  bool descending;
  friend bool operator==(const RegistrySortKey&, const RegistrySortKey&) = default;
};

inline constexpr std::string_view kDefaultRegistrySort = "precision_desc,lift_desc,buy_rate_asc,support_desc";
inline constexpr int kMaxRegistryLimit = 1000;

// "precision_desc,lift_desc" -> keys. Unknown field, missing or unknown direction, an empty
// element or a field named twice -> InvalidArgument naming the offending part.
inline Result<std::vector<RegistrySortKey>> ParseRegistrySort(std::string_view spec) {
  std::vector<RegistrySortKey> keys;
  if (spec.empty()) spec = kDefaultRegistrySort;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view part = spec.substr(start, comma - start);
    const std::string shown(part.substr(0, 64));
    auto bad = [&](std::string why) {
      return Status::InvalidArgument("invalid sort '" + shown + "': " + why,
                                     {{"param", "sort"}, {"value", shown}});
    };
    if (part.empty()) return bad("empty sort element");
    size_t us = part.rfind('_');
    if (us == std::string_view::npos) return bad("expected <field>_asc or <field>_desc");
    std::string_view field_name = part.substr(0, us);
    std::string_view dir = part.substr(us + 1);
    if (dir != "asc" && dir != "desc") return bad("direction must be asc or desc");
    auto field = ParseRegistryField(field_name);
    if (!field) {
      std::string allowed;
      for (const auto& info : kRegistryNumericFields) {
        if (!allowed.empty()) allowed += ", ";
        allowed += info.name;
      }
      return bad("unknown sort field '" + std::string(field_name.substr(0, 64)) + "' (sortable: " + allowed + ")");
    }
    for (const auto& k : keys) {
      if (k.field == *field) return bad("field sorted twice");
    }
    keys.push_back({*field, dir == "desc"});
    start = comma + 1;
    if (comma == spec.size()) break;
  }
  return keys;
}

inline std::string FormatRegistrySort(const std::vector<RegistrySortKey>& keys) {
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += ',';
    out += std::string(FieldInfo(k.field).name) + (k.descending ? "_desc" : "_asc");
  }
  return out;
}

struct RegistryQuery {
  std::vector<std::string> tickers;  // empty = any; several = IN
  std::vector<std::string> run_ids;  // empty = any; several = IN (compare)
  std::optional<std::string> mode;
  std::optional<std::string> project;
  std::optional<std::string> status;
  std::optional<double> min_lift;
  std::optional<double> min_precision;
  std::optional<int64_t> min_support;
  std::optional<double> max_buy_rate;
  std::vector<RegistrySortKey> sort;  // empty = default
  int limit = 50;                     // 0..1000; 0 returns only the total
  int64_t offset = 0;                 // >= 0
};

struct RegistryPage {
  std::vector<RegistryRow> items;
  int64_t total = 0;  // rows matching the filters, ignoring limit/offset
  int limit = 0;
  int64_t offset = 0;
};

// The checks every store applies before touching data (so a bad query is refused the same
// way everywhere): limit in [0, 1000], offset >= 0, finite thresholds, at most 1000 values
// in an IN list, no empty values.
inline Status ValidateRegistryQuery(const RegistryQuery& q) {
  if (q.limit < 0 || q.limit > kMaxRegistryLimit) {
    return Status::InvalidArgument("limit must be between 0 and 1000, got " + std::to_string(q.limit),
                                   {{"param", "limit"}});
  }
  if (q.offset < 0) {
    return Status::InvalidArgument("offset must be >= 0, got " + std::to_string(q.offset), {{"param", "offset"}});
  }
  auto finite = [](const std::optional<double>& v, const char* name) -> Status {
    if (v && !(*v == *v && *v - *v == 0)) {
      return Status::InvalidArgument(std::string(name) + " must be a finite number", {{"param", name}});
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(finite(q.min_lift, "min_lift"));
  RETURN_IF_ERROR(finite(q.min_precision, "min_precision"));
  RETURN_IF_ERROR(finite(q.max_buy_rate, "max_buy_rate"));
  auto list = [](const std::vector<std::string>& values, const char* name) -> Status {
    if (values.size() > 1000) {
      return Status::InvalidArgument(std::string(name) + " lists at most 1000 values", {{"param", name}});
    }
    for (const auto& v : values) {
      if (v.empty()) return Status::InvalidArgument(std::string(name) + " contains an empty value", {{"param", name}});
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(list(q.tickers, "ticker"));
  RETURN_IF_ERROR(list(q.run_ids, "run_ids"));
  for (size_t i = 0; i < q.sort.size(); ++i) {
    for (size_t j = i + 1; j < q.sort.size(); ++j) {
      if (q.sort[i].field == q.sort[j].field) {
        return Status::InvalidArgument("sort names field '" + std::string(FieldInfo(q.sort[i].field).name) + "' twice",
                                       {{"param", "sort"}});
      }
    }
  }
  return Status::Ok();
}

inline std::vector<RegistrySortKey> EffectiveRegistrySort(const std::vector<RegistrySortKey>& sort) {
  if (!sort.empty()) return sort;
  return ParseRegistrySort(kDefaultRegistrySort).value();
}

// ---------------------------------------------------------------------------------------------
// Runs

// One row per run directory (what GET /api/runs lists).
struct RunSummary {
  std::string run_id;
  std::string project;
  std::string mode;
  std::string status;
  std::string start_time;
  std::string end_time;
  std::string dataset;
  std::string config_path;
  std::vector<std::string> tickers;  // sorted
  std::vector<std::string> eval_modes;  // modes re-evaluated by eval-metrics (metrics_eval_<mode>.json)
  std::string indexed_at;            // ISO-8601, when the indexer last read it

  friend bool operator==(const RunSummary&, const RunSummary&) = default;
};

struct IndexedRun {
  RunSummary run;
  std::vector<RegistryRow> rows;  // replaces every row of run.run_id
};

// What GET /api/runs?sort= may order by (each with run_id as the tie-breaker).
enum class RunSortField { kStartTime, kRunId, kProject, kDataset, kStatus, kMode };

struct RunSortKey {
  RunSortField field = RunSortField::kStartTime;
  bool descending = true;
};

// "start_time_desc" style names; nullopt for anything else.
inline std::optional<RunSortKey> ParseRunSort(std::string_view text) {
  static const std::pair<std::string_view, RunSortField> kFields[] = {
      {"start_time", RunSortField::kStartTime}, {"run_id", RunSortField::kRunId},   {"project", RunSortField::kProject},
      {"dataset", RunSortField::kDataset},      {"status", RunSortField::kStatus}, {"mode", RunSortField::kMode}};
  for (const auto& [name, field] : kFields) {
    for (const bool desc : {false, true}) {
      if (text == std::string(name) + (desc ? "_desc" : "_asc")) return RunSortKey{field, desc};
    }
  }
  return std::nullopt;
}

struct RunQuery {
  std::optional<std::string> project;
  std::optional<std::string> status;
  std::optional<std::string> ticker;
  // ASCII case-insensitive substring of run_id, project, dataset, config_path or a ticker.
  std::optional<std::string> text;
  RunSortKey sort;       // default: newest first (start_time DESC, run_id DESC)
  int limit = 50;        // 0..1000
  int64_t offset = 0;
};

inline std::string RunAsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// RunQuery::text's rule, for stores that filter in memory (SQLite does the same in SQL).
inline bool RunTextMatches(const RunSummary& r, std::string_view text) {
  if (text.empty()) return true;
  const std::string needle = RunAsciiLower(text);
  auto has = [&](std::string_view field) { return RunAsciiLower(field).find(needle) != std::string::npos; };
  if (has(r.run_id) || has(r.project) || has(r.dataset) || has(r.config_path)) return true;
  for (const auto& t : r.tickers) {
    if (has(t)) return true;
  }
  return false;
}

inline const std::string& RunSortValue(const RunSummary& r, RunSortField f) {
  switch (f) {
    case RunSortField::kStartTime: return r.start_time;
    case RunSortField::kRunId: return r.run_id;
    case RunSortField::kProject: return r.project;
    case RunSortField::kDataset: return r.dataset;
    case RunSortField::kStatus: return r.status;
    case RunSortField::kMode: return r.mode;
  }
  return r.run_id;
}

struct RunPage {
  std::vector<RunSummary> items;
  int64_t total = 0;
  int limit = 0;
  int64_t offset = 0;
};

// ---------------------------------------------------------------------------------------------
// Backtests

struct BacktestSummaryRow {
  std::string bt_run_id;
  std::string created_at;     // ISO-8601
  std::string strategy_type;  // "sma_cross", "signal", "topn", ...
  std::string dataset;
  std::vector<std::string> tickers;  // sorted
  std::string start;
  std::string end;
  std::string model_run_id;   // empty when the strategy needs no model
  std::string model_path;
  std::string config_path;
  std::optional<double> cagr;
  std::optional<double> max_drawdown;
  std::optional<double> sharpe;
  std::optional<double> sortino;
  std::optional<double> volatility;
  std::optional<double> total_return;
  std::optional<int64_t> trades;
  std::optional<double> win_rate;
  std::optional<double> exposure;
  std::optional<double> final_equity;
  std::optional<double> initial_cash;
  std::string summary_json;   // the whole summary.json (strategy params, statistics, ...)
  std::string indexed_at;

  friend bool operator==(const BacktestSummaryRow&, const BacktestSummaryRow&) = default;
};

struct BacktestQuery {
  std::optional<std::string> ticker;        // backtests that traded this ticker
  std::optional<std::string> strategy;      // strategy_type
  std::optional<std::string> model_run_id;
  int limit = 50;                           // 0..1000
  int64_t offset = 0;                       // newest first: created_at DESC, bt_run_id DESC
};

struct BacktestPage {
  std::vector<BacktestSummaryRow> items;
  int64_t total = 0;
  int limit = 0;
  int64_t offset = 0;
};

inline Status ValidatePaging(int limit, int64_t offset) {
  if (limit < 0 || limit > kMaxRegistryLimit) {
    return Status::InvalidArgument("limit must be between 0 and 1000, got " + std::to_string(limit),
                                   {{"param", "limit"}});
  }
  if (offset < 0) {
    return Status::InvalidArgument("offset must be >= 0, got " + std::to_string(offset), {{"param", "offset"}});
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  // Replaces, for each run, its summary and ALL its registry rows (rows of that run that are
  // not in the new set disappear). The whole batch is one transaction: all or nothing.
  // Rows whose run_id differs from their run's id are refused (InvalidArgument).
  virtual Status ReplaceRuns(const std::vector<IndexedRun>& runs) = 0;
  // Removes a run's summary and rows; OK (no-op) when the run is unknown.
  virtual Status DeleteRun(const std::string& run_id) = 0;
  // Every indexed run id, sorted (the indexer uses it to drop runs whose directory vanished).
  virtual Result<std::vector<std::string>> ListRunIds() = 0;

  // Filtered, sorted page of registry rows and the total count (see the header comment).
  virtual Result<RegistryPage> QueryModels(const RegistryQuery& query) = 0;
  // The first row per ticker under `sort` (empty = default), tickers ascending; at most `limit`.
  virtual Result<std::vector<RegistryRow>> BestModelPerTicker(const std::vector<RegistrySortKey>& sort,
                                                              int limit) = 0;
  // Every row in the default order (default sort + tie-breakers), streamed: the exports use it
  // so writing N rows costs one ordered scan, not N/1000 pages with growing OFFSETs. Stops at
  // (and returns) the first error `fn` returns.
  virtual Status ScanModels(const std::function<Status(const RegistryRow&)>& fn) = 0;
  // Distinct tickers with at least one row, ascending.
  virtual Result<std::vector<std::string>> ListTickers() = 0;

  virtual Result<RunPage> ListRuns(const RunQuery& query) = 0;
  // NotFound for an unknown run.
  virtual Result<RunSummary> GetRun(const std::string& run_id) = 0;

  // Inserts or replaces backtest summaries (by bt_run_id), all in one transaction.
  virtual Status UpsertBacktests(const std::vector<BacktestSummaryRow>& backtests) = 0;
  virtual Status DeleteBacktest(const std::string& bt_run_id) = 0;
  virtual Result<std::vector<std::string>> ListBacktestIds() = 0;
  virtual Result<BacktestPage> ListBacktests(const BacktestQuery& query) = 0;
  virtual Result<BacktestSummaryRow> GetBacktest(const std::string& bt_run_id) = 0;
};

}  // namespace alphalab

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

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "core/list_query.hpp"
#include "core/status.hpp"

namespace alphalab {

// ---------------------------------------------------------------------------------------------
// Registry rows

// The numeric (sortable, filterable) columns of a registry row: the one list. Each entry is
// X(enumerator, column name, C++ type); it declares the RegistryField enumerators and the
// RegistryRow members, fills kRegistryNumericFields, and through that list the SQL columns
// (store/sqlite), the JSON and CSV exports (registry/registry_json) and — checked by a test
// against src/http/openapi.json — the UI's generated types. Add a metric here (and a SQL
// migration adding its column) and every one of those follows.
#define ALPHALAB_REGISTRY_NUMERIC_FIELDS(X)          \
  X(kLabelHorizonDays, label_horizon_days, int64_t) \
  X(kLabelThreshold, label_threshold, double)       \
  X(kPrecision, precision, double)                  \
  X(kRecall, recall, double)                        \
  X(kF1, f1, double)                                \
  X(kAccuracy, accuracy, double)                    \
  X(kBuyRate, buy_rate, double)                     \
  X(kPositiveRate, positive_rate, double)           \
  X(kLift, lift, double)                            \
  X(kTp, tp, int64_t)                               \
  X(kFp, fp, int64_t)                               \
  X(kTn, tn, int64_t)                               \
  X(kFn, fn, int64_t)                               \
  X(kSupport, support, int64_t)

enum class RegistryField {
#define ALPHALAB_REGISTRY_ENUMERATOR(e, name, type) e,
  ALPHALAB_REGISTRY_NUMERIC_FIELDS(ALPHALAB_REGISTRY_ENUMERATOR)
#undef ALPHALAB_REGISTRY_ENUMERATOR
};

// One registry row. Numeric metrics are optional: a metric that the run did not report
// (or that is undefined, e.g. precision with no predicted positives) is NULL.
struct RegistryRow {
  std::string ticker;
  std::string run_id;
  std::string mode;     // "base" | "finetune" | whatever the run declares
  std::string project;  // from metrics.json "project" (may be empty)
#define ALPHALAB_REGISTRY_MEMBER(e, name, type) std::optional<type> name;
  ALPHALAB_REGISTRY_NUMERIC_FIELDS(ALPHALAB_REGISTRY_MEMBER)
#undef ALPHALAB_REGISTRY_MEMBER
  std::string model_final_path;  // workspace-relative
  std::string config_path;
  std::string metrics_path;      // the file the metrics came from (metrics.json or metrics_eval_<mode>.json)
  std::string manifest_path;
  std::string start_time;        // ISO-8601 as written by the run
  std::string end_time;
  std::string status;            // "success", "failed", ... as written by the run

  friend bool operator==(const RegistryRow&, const RegistryRow&) = default;
};

struct RegistryFieldInfo {
  RegistryField field;
  std::string_view name;  // the column name in SQL, JSON, CSV
  bool is_integer;
  // The row's member: exactly one of the two is set (by is_integer).
  std::optional<int64_t> RegistryRow::*integer_member;
  std::optional<double> RegistryRow::*real_member;
};

namespace registry_detail {
template <typename T>
constexpr RegistryFieldInfo MakeFieldInfo(RegistryField f, std::string_view name, std::optional<T> RegistryRow::*m) {
  if constexpr (std::is_same_v<T, int64_t>) {
    return RegistryFieldInfo{f, name, true, m, nullptr};
  } else {
    return RegistryFieldInfo{f, name, false, nullptr, m};
  }
}
}  // namespace registry_detail

inline constexpr RegistryFieldInfo kRegistryNumericFields[] = {
#define ALPHALAB_REGISTRY_INFO(e, name, type) \
  registry_detail::MakeFieldInfo<type>(RegistryField::e, #name, &RegistryRow::name),
    ALPHALAB_REGISTRY_NUMERIC_FIELDS(ALPHALAB_REGISTRY_INFO)
#undef ALPHALAB_REGISTRY_INFO
};

inline const RegistryFieldInfo& FieldInfo(RegistryField f) {
  return kRegistryNumericFields[static_cast<size_t>(f)];
}

inline std::optional<RegistryField> ParseRegistryField(std::string_view name) {
  for (const auto& info : kRegistryNumericFields) {
    if (info.name == name) return info.field;
  }
  return std::nullopt;
}

// A numeric column of a row as a double (integers widen exactly up to 2^53).
inline std::optional<double> NumericValue(const RegistryRow& r, RegistryField f) {
  const RegistryFieldInfo& info = FieldInfo(f);
  if (info.is_integer) {
    const std::optional<int64_t>& v = r.*info.integer_member;
    return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
  }
  return r.*info.real_member;
}

struct RegistrySortKey {
  RegistryField field;
  bool descending;
  friend bool operator==(const RegistrySortKey&, const RegistrySortKey&) = default;
};

inline constexpr std::string_view kDefaultRegistrySort = "precision_desc,lift_desc,buy_rate_asc,support_desc";
inline constexpr int kMaxRegistryLimit = 1000;

// "precision_desc,lift_desc" -> keys (an empty spec is the default order).
inline Result<std::vector<RegistrySortKey>> ParseRegistrySort(std::string_view spec) {
  if (spec.empty()) spec = kDefaultRegistrySort;
  ASSIGN_OR_RETURN(auto keys, ParseSortSpec(spec, kRegistryNumericFields));
  std::vector<RegistrySortKey> out;
  for (const auto& [field, desc] : keys) out.push_back({field, desc});
  return out;
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
  std::vector<std::string> modes;     // empty = any; several = IN
  std::vector<std::string> projects;  // empty = any; several = IN
  std::vector<std::string> statuses;  // empty = any; several = IN
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
                                   {{"parameter", "limit"}});
  }
  if (q.offset < 0) {
    return Status::InvalidArgument("offset must be >= 0, got " + std::to_string(q.offset), {{"parameter", "offset"}});
  }
  auto finite = [](const std::optional<double>& v, const char* name) -> Status {
    if (v && !(*v == *v && *v - *v == 0)) {
      return Status::InvalidArgument(std::string(name) + " must be a finite number", {{"parameter", name}});
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(finite(q.min_lift, "min_lift"));
  RETURN_IF_ERROR(finite(q.min_precision, "min_precision"));
  RETURN_IF_ERROR(finite(q.max_buy_rate, "max_buy_rate"));
  auto list = [](const std::vector<std::string>& values, const char* name) -> Status {
    if (values.size() > 1000) {
      return Status::InvalidArgument(std::string(name) + " lists at most 1000 values", {{"parameter", name}});
    }
    for (const auto& v : values) {
      if (v.empty()) return Status::InvalidArgument(std::string(name) + " contains an empty value", {{"parameter", name}});
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(list(q.tickers, "ticker"));
  RETURN_IF_ERROR(list(q.run_ids, "run_ids"));
  RETURN_IF_ERROR(list(q.modes, "mode"));
  RETURN_IF_ERROR(list(q.projects, "project"));
  RETURN_IF_ERROR(list(q.statuses, "status"));
  for (size_t i = 0; i < q.sort.size(); ++i) {
    for (size_t j = i + 1; j < q.sort.size(); ++j) {
      if (q.sort[i].field == q.sort[j].field) {
        return Status::InvalidArgument("sort names field '" + std::string(FieldInfo(q.sort[i].field).name) + "' twice",
                                       {{"parameter", "sort"}});
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
  // The scalar (number, string, boolean) entries of model.params in the run's config.yaml, as a
  // JSON object ({} without one): the runs list's parameter columns and `param.<name>` sorts.
  Json model_params = Json::object();

  friend bool operator==(const RunSummary&, const RunSummary&) = default;
};

struct IndexedRun {
  RunSummary run;
  std::vector<RegistryRow> rows;  // replaces every row of run.run_id
};

// What GET /api/runs?sort= may order by (each with run_id as the tie-breaker, in the same
// direction). kParam: the numeric value of model_params[param]; runs where it is absent or not
// a number (a string, a boolean) come last in both directions, ordered by run_id among
// themselves like any tie.
enum class RunSortField { kStartTime, kRunId, kProject, kDataset, kStatus, kMode, kParam };

struct RunSortKey {
  RunSortKey() = default;
  RunSortKey(RunSortField f, bool desc, std::string p = {}) : field(f), descending(desc), param(std::move(p)) {}
  RunSortField field = RunSortField::kStartTime;
  bool descending = true;
  std::string param;  // kParam only: a name of 1..64 characters [A-Za-z0-9_-]
};

inline bool IsRunParamName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// "start_time_desc" style names, or "param.<name>_asc|_desc"; nullopt for anything else.
inline std::optional<RunSortKey> ParseRunSort(std::string_view text) {
  static const std::pair<std::string_view, RunSortField> kFields[] = {
      {"start_time", RunSortField::kStartTime}, {"run_id", RunSortField::kRunId},   {"project", RunSortField::kProject},
      {"dataset", RunSortField::kDataset},      {"status", RunSortField::kStatus}, {"mode", RunSortField::kMode}};
  for (const bool desc : {false, true}) {
    const std::string_view suffix = desc ? "_desc" : "_asc";
    if (text.size() <= suffix.size() || text.substr(text.size() - suffix.size()) != suffix) continue;
    const std::string_view name = text.substr(0, text.size() - suffix.size());
    if (name.starts_with("param.") && IsRunParamName(name.substr(6))) {
      return RunSortKey{RunSortField::kParam, desc, std::string(name.substr(6))};
    }
    for (const auto& [field_name, field] : kFields) {
      if (name == field_name) return RunSortKey{field, desc, {}};
    }
  }
  return std::nullopt;
}

// A run's numeric model param (nullopt when absent or not a number).
inline std::optional<double> RunParamNumber(const RunSummary& r, const std::string& name) {
  const auto it = r.model_params.find(name);
  if (it == r.model_params.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

struct RunQuery {
  std::vector<std::string> projects;  // empty = any; several = IN
  std::vector<std::string> statuses;  // empty = any; several = IN
  std::vector<std::string> tickers;   // runs with a model of one of these; empty = any
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
    case RunSortField::kParam: return r.run_id;  // ordered by RunBefore
  }
  return r.run_id;
}

// RunQuery's order, for stores that sort in memory.
inline bool RunBefore(const RunSummary& a, const RunSummary& b, const RunSortKey& key) {
  if (key.field == RunSortField::kParam) {
    const std::optional<double> va = RunParamNumber(a, key.param), vb = RunParamNumber(b, key.param);
    if (va.has_value() != vb.has_value()) return va.has_value();
    if (va && *va != *vb) return key.descending ? *va > *vb : *va < *vb;
  } else {
    const std::string& va = RunSortValue(a, key.field);
    const std::string& vb = RunSortValue(b, key.field);
    if (va != vb) return key.descending ? va > vb : va < vb;
  }
  return key.descending ? a.run_id > b.run_id : a.run_id < b.run_id;
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

// The numeric (sortable, filterable) columns of a backtest summary; `name` is the column in
// SQL, JSON and the query (`sort=sharpe_desc`, `min_sharpe=`, `max_max_drawdown=`).
enum class BacktestField {
  kCagr,
  kMaxDrawdown,
  kSharpe,
  kSortino,
  kVolatility,
  kTotalReturn,
  kTrades,
  kWinRate,
  kExposure,
  kFinalEquity,
  kInitialCash,
};

struct BacktestFieldInfo {
  BacktestField field;
  std::string_view name;
  bool is_integer;
};

inline constexpr BacktestFieldInfo kBacktestNumericFields[] = {
    {BacktestField::kCagr, "cagr", false},
    {BacktestField::kMaxDrawdown, "max_drawdown", false},
    {BacktestField::kSharpe, "sharpe", false},
    {BacktestField::kSortino, "sortino", false},
    {BacktestField::kVolatility, "volatility", false},
    {BacktestField::kTotalReturn, "total_return", false},
    {BacktestField::kTrades, "trades", true},
    {BacktestField::kWinRate, "win_rate", false},
    {BacktestField::kExposure, "exposure", false},
    {BacktestField::kFinalEquity, "final_equity", false},
    {BacktestField::kInitialCash, "initial_cash", false},
};

inline const BacktestFieldInfo& FieldInfo(BacktestField f) { return kBacktestNumericFields[static_cast<size_t>(f)]; }

inline std::optional<double> NumericValue(const BacktestSummaryRow& b, BacktestField f) {
  switch (f) {
    case BacktestField::kCagr: return b.cagr;
    case BacktestField::kMaxDrawdown: return b.max_drawdown;
    case BacktestField::kSharpe: return b.sharpe;
    case BacktestField::kSortino: return b.sortino;
    case BacktestField::kVolatility: return b.volatility;
    case BacktestField::kTotalReturn: return b.total_return;
    case BacktestField::kTrades: return b.trades ? std::optional<double>(static_cast<double>(*b.trades)) : std::nullopt;
    case BacktestField::kWinRate: return b.win_rate;
    case BacktestField::kExposure: return b.exposure;
    case BacktestField::kFinalEquity: return b.final_equity;
    case BacktestField::kInitialCash: return b.initial_cash;
  }
  return std::nullopt;
}

struct BacktestSortKey {
  BacktestField field;
  bool descending;
  friend bool operator==(const BacktestSortKey&, const BacktestSortKey&) = default;
};

// A numeric bound: field >= min and/or field <= max; a NULL metric never passes.
struct BacktestBound {
  BacktestField field;
  std::optional<double> min, max;
};

// "sharpe_desc,cagr_asc" -> keys, with the same rules (and messages) as ParseRegistrySort.
inline Result<std::vector<BacktestSortKey>> ParseBacktestSort(std::string_view spec) {
  ASSIGN_OR_RETURN(auto keys, ParseSortSpec(spec, kBacktestNumericFields));
  std::vector<BacktestSortKey> out;
  for (const auto& [field, desc] : keys) out.push_back({field, desc});
  return out;
}

// Ordering semantics, identical in every implementation: the `sort` keys (NULL last in both
// directions), then newest first (created_at DESC, bt_run_id DESC), which is also the default.
struct BacktestQuery {
  std::vector<std::string> tickers;        // backtests that traded one of these; empty = any
  std::vector<std::string> strategies;     // strategy_type IN; empty = any
  std::vector<std::string> model_run_ids;  // IN; empty = any
  std::vector<BacktestBound> bounds;       // every one must hold
  std::vector<BacktestSortKey> sort;       // empty = newest first
  int limit = 50;                          // 0..1000
  int64_t offset = 0;
};

// Does `b` pass the bounds and equality filters of `q` (for stores that filter in memory)?
inline bool BacktestMatches(const BacktestSummaryRow& b, const BacktestQuery& q) {
  auto in = [](const std::vector<std::string>& set, const std::string& v) {
    return set.empty() || std::find(set.begin(), set.end(), v) != set.end();
  };
  if (!in(q.strategies, b.strategy_type) || !in(q.model_run_ids, b.model_run_id)) return false;
  if (!q.tickers.empty() && std::none_of(b.tickers.begin(), b.tickers.end(),
                                         [&](const std::string& t) { return in(q.tickers, t); })) {
    return false;
  }
  for (const BacktestBound& bound : q.bounds) {
    const std::optional<double> v = NumericValue(b, bound.field);
    if (!v || (bound.min && *v < *bound.min) || (bound.max && *v > *bound.max)) return false;
  }
  return true;
}

// The order of BacktestQuery::sort followed by the default order.
inline bool BacktestBefore(const BacktestSummaryRow& a, const BacktestSummaryRow& b,
                           const std::vector<BacktestSortKey>& sort) {
  for (const BacktestSortKey& k : sort) {
    const std::optional<double> va = NumericValue(a, k.field), vb = NumericValue(b, k.field);
    if (va.has_value() != vb.has_value()) return va.has_value();  // NULL last
    if (va && *va != *vb) return k.descending ? *va > *vb : *va < *vb;
  }
  if (a.created_at != b.created_at) return a.created_at > b.created_at;
  return a.bt_run_id > b.bt_run_id;
}

struct BacktestPage {
  std::vector<BacktestSummaryRow> items;
  int64_t total = 0;
  int limit = 0;
  int64_t offset = 0;
};

inline Status ValidatePaging(int limit, int64_t offset) {
  if (limit < 0 || limit > kMaxRegistryLimit) {
    return Status::InvalidArgument("limit must be between 0 and 1000, got " + std::to_string(limit),
                                   {{"parameter", "limit"}});
  }
  if (offset < 0) {
    return Status::InvalidArgument("offset must be >= 0, got " + std::to_string(offset), {{"parameter", "offset"}});
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

// The SQL side of the registry shared by the SQL registry stores (SQLite, PostgreSQL): the
// column lists, JSON list columns, the models filter and order, and the models page and total
// queries (BuildModelsSql). Both dialects take these statements ("?" parameters, aliased
// subqueries), apart from the two differences SqlDialect names; each store binds and reads them
// with its own statement type.
// Internal to src/store.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/json.hpp"
#include "store/registry_store.hpp"

namespace alphalab::registry_sql {

using Value = std::variant<std::string, double, int64_t>;

// The registry_models columns in read/write order: the four keys, the numeric fields in the
// order of kRegistryNumericFields, then the paths and times.
inline constexpr int kModelKeyColumns = 4;  // ticker, run_id, mode, project
inline constexpr int kModelNumericColumns = static_cast<int>(std::size(kRegistryNumericFields));
inline constexpr int kModelColumnCount = kModelKeyColumns + kModelNumericColumns + 7;

inline const std::string kModelColumns = [] {
  std::string out = "ticker, run_id, mode, project";
  for (const auto& info : kRegistryNumericFields) out += ", " + std::string(info.name);
  return out + ", model_final_path, config_path, metrics_path, manifest_path, start_time, end_time, status";
}();

inline constexpr std::string_view kRunColumns =
    "run_id, project, mode, status, start_time, end_time, dataset, config_path, tickers, eval_modes, indexed_at,"
    " model_params";

inline constexpr std::string_view kBacktestColumns =
    "bt_run_id, created_at, strategy_type, dataset, tickers, start, \"end\", model_run_id, model_path, "
    "config_path, cagr, max_drawdown, sharpe, sortino, volatility, total_return, trades, win_rate, exposure, "
    "final_equity, initial_cash, summary_json, indexed_at";

inline std::string JoinJson(const std::vector<std::string>& values) { return Json(values).dump(); }

inline std::vector<std::string> SplitJson(const std::string& text) {
  std::vector<std::string> out;
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// NaN cannot be stored meaningfully (SQLite would turn it into NULL): store NULL in both stores.
inline std::optional<double> Finite(const std::optional<double>& v) {
  if (v && !(*v == *v && *v - *v == 0)) return std::nullopt;
  return v;
}

inline std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ",?";
  return out;
}

// Where the two dialects' statements differ (both take the rest as it is):
// - "ascending, missing values last": PostgreSQL writes `x ASC NULLS LAST`, its ascending index
//   order. SQLite orders NULL first in an ascending index and cannot serve NULLS LAST from it, so
//   a sort by (precision, lift, buy_rate ASC, ...) sorted every run of equal (precision, lift) — a
//   sorter flush per row when the values are distinct; it writes `(x IS NULL), x ASC`, which its
//   expression indexes carry (migration 6). DESC NULLS LAST is both dialects' descending order.
// - keeping a page off the (project, mode, status, support) index (migration 6, for the totals):
//   SQLite's planner does not weigh LIMIT and would read a whole project (400,000 rows at 1M) to
//   sort it, so its pages write `+project` (no index); PostgreSQL's costs the LIMIT (and has no
//   unary plus for text).
enum class SqlDialect { kSqlite, kPostgres };

struct Where {
  std::string sql;  // "" or " WHERE ..."
  std::vector<Value> values;

  void Add(const std::string& clause) { sql += (sql.empty() ? " WHERE " : " AND ") + clause; }
  // column = ? for one value, column IN (?, ...) for several, nothing for none.
  void AddIn(const std::string& column, const std::vector<std::string>& list) {
    if (list.empty()) return;
    Add(column + (list.size() == 1 ? " = ?" : " IN (" + Placeholders(list.size()) + ")"));
    for (const auto& v : list) values.emplace_back(v);
  }
};

// `page`: for a page's rows (ordered by a sort index) rather than a count (see SqlDialect).
inline Where ModelsWhere(const RegistryQuery& q, SqlDialect dialect, bool page) {
  Where w;
  const std::string no_index = page && dialect == SqlDialect::kSqlite ? "+" : "";
  if (q.tickers.size() == 1) {
    w.Add("ticker = ?");
    w.values.emplace_back(q.tickers[0]);
  } else if (!q.tickers.empty()) {
    w.Add("ticker IN (" + Placeholders(q.tickers.size()) + ")");
    for (const auto& t : q.tickers) w.values.emplace_back(t);
  }
  if (q.run_ids.size() == 1) {
    w.Add("run_id = ?");
    w.values.emplace_back(q.run_ids[0]);
  } else if (!q.run_ids.empty()) {
    w.Add("run_id IN (" + Placeholders(q.run_ids.size()) + ")");
    for (const auto& r : q.run_ids) w.values.emplace_back(r);
  }
  w.AddIn(no_index + "mode", q.modes);
  w.AddIn(no_index + "project", q.projects);
  w.AddIn(no_index + "status", q.statuses);
  // A comparison with NULL is never true, so rows missing the metric drop out (documented).
  if (q.min_precision) { w.Add("precision >= ?"); w.values.emplace_back(*q.min_precision); }
  if (q.min_lift) { w.Add("lift >= ?"); w.values.emplace_back(*q.min_lift); }
  // "+support": the pages' order comes from the (ticker +) sort indexes; the support indexes
  // (migration 4) are for the totals only, and a planner that took one here would sort every
  // match of the ticker instead of reading the first rows of the ordered range.
  if (q.min_support) { w.Add("+support >= ?"); w.values.emplace_back(*q.min_support); }
  if (q.max_buy_rate) { w.Add("buy_rate <= ?"); w.values.emplace_back(*q.max_buy_rate); }
  return w;
}

// `prefix`: a table alias and dot ("m."), or empty. `over_keys`: the ORDER BY of a compound
// SELECT, which may name only its result columns: SQLite's `(x IS NULL)` is then the column
// `x_is_null` that KeyColumns adds.
inline std::string OrderBy(const std::vector<RegistrySortKey>& sort, SqlDialect dialect,
                           const std::string& prefix = "", bool over_keys = false) {
  std::string out = " ORDER BY ";
  for (const auto& k : sort) {
    const std::string column = prefix + std::string(FieldInfo(k.field).name);
    if (k.descending) {
      out += column + " DESC NULLS LAST, ";
    } else if (dialect == SqlDialect::kSqlite) {
      out += (over_keys ? column + "_is_null, " : "(" + column + " IS NULL), ") + column + " ASC, ";
    } else {
      out += column + " ASC NULLS LAST, ";
    }
  }
  out += prefix + "run_id ASC, " + prefix + "ticker ASC, " + prefix + "mode ASC";
  return out;
}

// The keys and the sort columns of a page's rows (all in the sort indexes): what a page past
// the first rows, or of several tickers, reads before it reads its own rows by primary key.
inline std::string KeyColumns(const std::vector<RegistrySortKey>& sort, SqlDialect dialect) {
  std::string keys = "run_id, ticker, mode";
  for (const auto& k : sort) {
    const std::string name(FieldInfo(k.field).name);
    if (name == "run_id" || name == "ticker" || name == "mode") continue;
    keys += ", " + name;
    if (!k.descending && dialect == SqlDialect::kSqlite) keys += ", (" + name + " IS NULL) AS " + name + "_is_null";
  }
  return keys;
}

struct ModelsSql {
  std::string items;
  std::vector<Value> items_values;  // including LIMIT and OFFSET
  std::string count;
  std::vector<Value> count_values;
  // When set, run first: it counts at most kCountProbe matches, and is the total when it
  // counts fewer; `count` is run only otherwise.
  std::string count_probe;
  std::vector<Value> count_probe_values;
};

// How many matches the probe of a min_support page counts before the total is taken from the
// per-ticker totals instead (BuildModelsSql).
inline constexpr int64_t kCountProbe = 4096;

// Up to this many tickers a page merges per-ticker index ranges (below); past it, one IN list
// sorted as a whole (SQLite allows 500 SELECTs in a compound; the API up to 1,000 tickers).
inline constexpr size_t kMaxMergedTickers = 64;

inline ModelsSql BuildModelsSql(const RegistryQuery& q, SqlDialect dialect) {
  ModelsSql out;
  const std::vector<RegistrySortKey> sort = EffectiveRegistrySort(q.sort);
  const std::string order = OrderBy(sort, dialect);
  const std::string select = "SELECT " + kModelColumns + " FROM registry_models";
  // Pages past the first rows read only the keys and the sort columns of the rows they skip
  // (from the sort index, no table row), then the page's own rows by primary key: at 1M rows,
  // offset 500 read 550 full rows for 50.
  const std::string keys = KeyColumns(sort, dialect);
  const auto page_of_keys = [&](const std::string& keys_page) {
    std::string columns = "m." + kModelColumns;
    for (size_t at = columns.find(", "); at != std::string::npos; at = columns.find(", ", at + 4)) {
      columns.replace(at, 2, ", m.");
    }
    return "SELECT " + columns + " FROM (" + keys_page + ") AS k JOIN registry_models AS m" +
           " ON m.run_id = k.run_id AND m.ticker = k.ticker AND m.mode = k.mode" + OrderBy(sort, dialect, "m.");
  };
  if (q.tickers.size() > 1 && q.tickers.size() <= kMaxMergedTickers) {
    // ticker IN (a, b, c): each ticker's matches are an ordered range of the (ticker + sort)
    // index, so the page is a merge of those ranges: a UNION ALL of one SELECT per ticker with
    // the ORDER BY on the whole, which SQLite runs as a lazy merge ("MERGE (UNION ALL)") that
    // stops after offset + limit keys (PostgreSQL can run it as a Merge Append). At 1M rows, three
    // tickers at offset 500: 0.8 ms, against 3.3 ms for the per-ticker top-550 lists merged and
    // sorted before. A sort no index carries sorts each ticker's matches instead.
    std::string merged;
    RegistryQuery one = q;
    for (size_t i = 0; i < q.tickers.size(); ++i) {
      one.tickers = {q.tickers[i]};
      Where w = ModelsWhere(one, dialect, /*page=*/true);
      if (i != 0) merged += " UNION ALL ";
      merged += "SELECT " + keys + " FROM registry_models" + w.sql;
      out.items_values.insert(out.items_values.end(), w.values.begin(), w.values.end());
    }
    out.items = page_of_keys(merged + OrderBy(sort, dialect, "", /*over_keys=*/true) + " LIMIT ? OFFSET ?");
  } else if (q.offset > 0) {
    Where w = ModelsWhere(q, dialect, /*page=*/true);
    out.items = page_of_keys("SELECT " + keys + " FROM registry_models" + w.sql + order + " LIMIT ? OFFSET ?");
    out.items_values = w.values;
  } else {
    Where w = ModelsWhere(q, dialect, /*page=*/true);
    out.items = select + w.sql + order + " LIMIT ? OFFSET ?";
    out.items_values = w.values;
  }
  out.items_values.emplace_back(static_cast<int64_t>(q.limit));
  out.items_values.emplace_back(q.offset);

  // Equality filters on ticker, project, mode and status only (besides min_support): the totals
  // come from the counts the triggers keep (migrations 2 and 5), not from a COUNT over the
  // matches (390,000 rows for one project at 1M rows: seconds, a table scan).
  const bool only_groups = q.run_ids.empty() && !q.min_lift && !q.min_precision && !q.max_buy_rate;
  const bool only_tickers = only_groups && q.modes.empty() && q.projects.empty() && q.statuses.empty();
  Where t;  // the ticker (and project, mode, status) filters alone
  t.AddIn("ticker", q.tickers);
  t.AddIn("project", q.projects);
  t.AddIn("mode", q.modes);
  t.AddIn("status", q.statuses);
  const auto tickers_and = [&](const std::string& clause) {
    return (t.sql.empty() ? " WHERE " : t.sql + " AND ") + clause;
  };
  // Per ticker (one row each) when only tickers are filtered; per (ticker, project, mode,
  // status) otherwise.
  const std::string kept_totals = std::string("SELECT COALESCE(SUM(n), 0) FROM ") +
                                  (only_tickers ? "registry_model_counts" : "registry_model_group_counts") + t.sql;
  if (only_groups && !q.min_support) {
    // Totals kept by triggers: no COUNT over the index for the common pages.
    out.count = kept_totals;
    out.count_values = t.values;
  } else if (only_groups) {
    // With min_support (the API's default page: min_support=30), counting the matches walks
    // every one of them (30,000 index entries for three tickers at 1M rows). The probe counts
    // up to kCountProbe of them ((ticker, support) or (support, project, mode, status) index
    // range, migrations 4 and 5); past that, the total is the kept total minus the rows below
    // the bound or without support (an index range each; usually few).
    out.count_probe = "SELECT COUNT(*) FROM (SELECT 1 FROM registry_models" + tickers_and("support >= ?") +
                      " LIMIT ?) AS probe";
    out.count_probe_values = t.values;
    out.count_probe_values.emplace_back(*q.min_support);
    out.count_probe_values.emplace_back(kCountProbe);
    out.count = "SELECT (" + kept_totals + ") - (SELECT COUNT(*) FROM registry_models" +
                tickers_and("support IS NULL") + ") - (SELECT COUNT(*) FROM registry_models" +
                tickers_and("support < ?") + ")";
    for (int i = 0; i < 3; ++i) out.count_values.insert(out.count_values.end(), t.values.begin(), t.values.end());
    out.count_values.emplace_back(*q.min_support);
  } else {
    Where w = ModelsWhere(q, dialect, /*page=*/false);
    out.count = "SELECT COUNT(*) FROM registry_models" + w.sql;
    out.count_values = w.values;
  }
  return out;
}

}  // namespace alphalab::registry_sql

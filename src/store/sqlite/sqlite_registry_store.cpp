#include "store/sqlite/sqlite_registry_store.hpp"

#include <iterator>
#include <variant>

#include "core/json.hpp"
#include "store/registry_sql.hpp"

namespace alphalab {

namespace {

using namespace registry_sql;  // the shared registry SQL (registry_sql.hpp)

Status BindValues(SqliteStatement& stmt, const std::vector<Value>& values, int first = 1) {
  int index = first;
  for (const auto& v : values) {
    Status s = std::visit([&](const auto& x) { return stmt.Bind(index, x); }, v);
    RETURN_IF_ERROR(s);
    ++index;
  }
  return Status::Ok();
}

RegistryRow ReadModelRow(const SqliteStatement& s) {
  RegistryRow r;
  r.ticker = s.ColumnText(0);
  r.run_id = s.ColumnText(1);
  r.mode = s.ColumnText(2);
  r.project = s.ColumnText(3);
  int col = kModelKeyColumns;
  for (const auto& info : kRegistryNumericFields) {
    if (info.is_integer) {
      r.*info.integer_member = s.ColumnOptionalInt64(col++);
    } else {
      r.*info.real_member = s.ColumnOptionalDouble(col++);
    }
  }
  r.model_final_path = s.ColumnText(col++);
  r.config_path = s.ColumnText(col++);
  r.metrics_path = s.ColumnText(col++);
  r.manifest_path = s.ColumnText(col++);
  r.start_time = s.ColumnText(col++);
  r.end_time = s.ColumnText(col++);
  r.status = s.ColumnText(col++);
  return r;
}

RunSummary ReadRun(const SqliteStatement& s) {
  RunSummary r;
  r.run_id = s.ColumnText(0);
  r.project = s.ColumnText(1);
  r.mode = s.ColumnText(2);
  r.status = s.ColumnText(3);
  r.start_time = s.ColumnText(4);
  r.end_time = s.ColumnText(5);
  r.dataset = s.ColumnText(6);
  r.config_path = s.ColumnText(7);
  r.tickers = SplitJson(s.ColumnText(8));
  r.eval_modes = SplitJson(s.ColumnText(9));
  r.indexed_at = s.ColumnText(10);
  Result<Json> params = ParseJson(s.ColumnText(11));
  r.model_params = params.ok() && params->is_object() ? *std::move(params) : Json::object();
  return r;
}

BacktestSummaryRow ReadBacktest(const SqliteStatement& s) {
  BacktestSummaryRow b;
  b.bt_run_id = s.ColumnText(0);
  b.created_at = s.ColumnText(1);
  b.strategy_type = s.ColumnText(2);
  b.dataset = s.ColumnText(3);
  b.tickers = SplitJson(s.ColumnText(4));
  b.start = s.ColumnText(5);
  b.end = s.ColumnText(6);
  b.model_run_id = s.ColumnText(7);
  b.model_path = s.ColumnText(8);
  b.config_path = s.ColumnText(9);
  b.cagr = s.ColumnOptionalDouble(10);
  b.max_drawdown = s.ColumnOptionalDouble(11);
  b.sharpe = s.ColumnOptionalDouble(12);
  b.sortino = s.ColumnOptionalDouble(13);
  b.volatility = s.ColumnOptionalDouble(14);
  b.total_return = s.ColumnOptionalDouble(15);
  b.trades = s.ColumnOptionalInt64(16);
  b.win_rate = s.ColumnOptionalDouble(17);
  b.exposure = s.ColumnOptionalDouble(18);
  b.final_equity = s.ColumnOptionalDouble(19);
  b.initial_cash = s.ColumnOptionalDouble(20);
  b.summary_json = s.ColumnText(21);
  b.indexed_at = s.ColumnText(22);
  return b;
}

Status InsertModelRow(SqliteConnection& c, const RegistryRow& r) {
  // An upsert, not INSERT OR REPLACE: REPLACE's implicit delete would bypass the count trigger.
  static const std::string sql = [] {
    std::string q = "INSERT INTO registry_models (" + kModelColumns + ") VALUES (" + Placeholders(kModelColumnCount) +
                    ") ON CONFLICT (run_id, ticker, mode) DO UPDATE SET ";
    std::string cols = kModelColumns;
    bool first = true;
    size_t start = 0;
    while (start < cols.size()) {
      size_t comma = cols.find(',', start);
      if (comma == std::string::npos) comma = cols.size();
      std::string c = cols.substr(start, comma - start);
      c.erase(0, c.find_first_not_of(' '));
      if (c != "ticker" && c != "run_id" && c != "mode") {
        q += (first ? "" : ", ") + c + " = excluded." + c;
        first = false;
      }
      start = comma + 1;
    }
    return q;
  }();
  ASSIGN_OR_RETURN(SqliteStatement stmt, c.Prepare(sql));
  RETURN_IF_ERROR(stmt.BindAll(r.ticker, r.run_id, r.mode, r.project));
  int index = kModelKeyColumns;
  for (const auto& info : kRegistryNumericFields) {
    RETURN_IF_ERROR(info.is_integer ? stmt.Bind(++index, r.*info.integer_member)
                                    : stmt.Bind(++index, Finite(r.*info.real_member)));
  }
  for (const std::string* text : {&r.model_final_path, &r.config_path, &r.metrics_path, &r.manifest_path,
                                  &r.start_time, &r.end_time, &r.status}) {
    RETURN_IF_ERROR(stmt.Bind(++index, *text));
  }
  return stmt.Run();
}

}  // namespace

const std::vector<std::string>& SqliteRegistryMigrations() {
  static const std::vector<std::string> migrations = {
      // 1: registry rows, runs and backtests.
      R"sql(
CREATE TABLE registry_runs (
  run_id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time TEXT NOT NULL,
  end_time TEXT NOT NULL,
  dataset TEXT NOT NULL,
  config_path TEXT NOT NULL,
  tickers TEXT NOT NULL,
  eval_modes TEXT NOT NULL,
  indexed_at TEXT NOT NULL
);
CREATE INDEX registry_runs_newest ON registry_runs (start_time DESC, run_id DESC);
CREATE TABLE registry_models (
  ticker TEXT NOT NULL,
  run_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  project TEXT NOT NULL,
  label_horizon_days INTEGER,
  label_threshold REAL,
  precision REAL,
  recall REAL,
  f1 REAL,
  accuracy REAL,
  buy_rate REAL,
  positive_rate REAL,
  lift REAL,
  tp INTEGER,
  fp INTEGER,
  tn INTEGER,
  fn INTEGER,
  support INTEGER,
  model_final_path TEXT NOT NULL,
  config_path TEXT NOT NULL,
  metrics_path TEXT NOT NULL,
  manifest_path TEXT NOT NULL,
  start_time TEXT NOT NULL,
  end_time TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (run_id, ticker, mode)
);
-- ticker filter + default sort (precision_desc,lift_desc,buy_rate_asc,support_desc + tie-breakers)
CREATE INDEX registry_models_ticker_default
  ON registry_models (ticker, precision DESC, lift DESC, buy_rate ASC, support DESC, run_id, mode);
-- default sort without a ticker filter
CREATE INDEX registry_models_default
  ON registry_models (precision DESC, lift DESC, buy_rate ASC, support DESC, run_id, ticker, mode);
-- ticker filter + the lift-first sort the UI offers
CREATE INDEX registry_models_ticker_lift
  ON registry_models (ticker, lift DESC, precision DESC, buy_rate ASC, support DESC);
CREATE TABLE registry_backtests (
  bt_run_id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  strategy_type TEXT NOT NULL,
  dataset TEXT NOT NULL,
  tickers TEXT NOT NULL,
  start TEXT NOT NULL,
  "end" TEXT NOT NULL,
  model_run_id TEXT NOT NULL,
  model_path TEXT NOT NULL,
  config_path TEXT NOT NULL,
  cagr REAL,
  max_drawdown REAL,
  sharpe REAL,
  sortino REAL,
  volatility REAL,
  total_return REAL,
  trades INTEGER,
  win_rate REAL,
  exposure REAL,
  final_equity REAL,
  initial_cash REAL,
  summary_json TEXT NOT NULL,
  indexed_at TEXT NOT NULL
);
CREATE INDEX registry_backtests_newest ON registry_backtests (created_at DESC, bt_run_id DESC);
CREATE INDEX registry_backtests_strategy ON registry_backtests (strategy_type, created_at DESC, bt_run_id DESC);
CREATE INDEX registry_backtests_model ON registry_backtests (model_run_id, created_at DESC, bt_run_id DESC);
CREATE TABLE registry_backtest_tickers (
  ticker TEXT NOT NULL,
  bt_run_id TEXT NOT NULL REFERENCES registry_backtests (bt_run_id) ON DELETE CASCADE,
  PRIMARY KEY (ticker, bt_run_id)
) WITHOUT ROWID;
CREATE INDEX registry_backtest_tickers_bt ON registry_backtest_tickers (bt_run_id);
)sql",
      // 2: row counts per ticker kept by triggers, so the total of an unfiltered or
      // ticker-only query is a lookup instead of a COUNT over the index.
      R"sql(
CREATE TABLE registry_model_counts (ticker TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO registry_model_counts (ticker, n) SELECT ticker, COUNT(*) FROM registry_models GROUP BY ticker;
CREATE TRIGGER registry_models_count_insert AFTER INSERT ON registry_models BEGIN
  INSERT INTO registry_model_counts (ticker, n) VALUES (NEW.ticker, 1)
    ON CONFLICT (ticker) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER registry_models_count_delete AFTER DELETE ON registry_models BEGIN
  UPDATE registry_model_counts SET n = n - 1 WHERE ticker = OLD.ticker;
  DELETE FROM registry_model_counts WHERE ticker = OLD.ticker AND n <= 0;
END;
)sql",
      // 3: a run's scalar model params (RunSummary::model_params, a JSON object) for the
      // param.<name> sorts. Runs indexed before it read {} until the indexer reads them again
      // (every start with registry.index_on_start, `alphalab index`).
      R"sql(
ALTER TABLE registry_runs ADD COLUMN model_params TEXT NOT NULL DEFAULT '{}';
)sql",
      // 4: the totals of pages bounded by min_support (the API's default bound is 30): with
      // these, BuildModelsSql counts the rows below the bound instead of every match.
      R"sql(
CREATE INDEX registry_models_ticker_support ON registry_models (ticker, support);
CREATE INDEX registry_models_support ON registry_models (support);
)sql",
      // 5: totals of pages filtered by project, mode or status (with or without tickers): row
      // counts per (ticker, project, mode, status) kept by triggers, and the rows below a
      // min_support bound counted from the support index alone (it carries the three columns).
      R"sql(
CREATE TABLE registry_model_group_counts (
  ticker TEXT NOT NULL, project TEXT NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (ticker, project, mode, status)
) WITHOUT ROWID;
INSERT INTO registry_model_group_counts (ticker, project, mode, status, n)
  SELECT ticker, project, mode, status, COUNT(*) FROM registry_models GROUP BY ticker, project, mode, status;
CREATE TRIGGER registry_models_group_count_insert AFTER INSERT ON registry_models BEGIN
  INSERT INTO registry_model_group_counts (ticker, project, mode, status, n)
    VALUES (NEW.ticker, NEW.project, NEW.mode, NEW.status, 1)
    ON CONFLICT (ticker, project, mode, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER registry_models_group_count_delete AFTER DELETE ON registry_models BEGIN
  UPDATE registry_model_group_counts SET n = n - 1
    WHERE ticker = OLD.ticker AND project = OLD.project AND mode = OLD.mode AND status = OLD.status;
  DELETE FROM registry_model_group_counts
    WHERE ticker = OLD.ticker AND project = OLD.project AND mode = OLD.mode AND status = OLD.status AND n <= 0;
END;
-- the upsert of a row indexed again may change its project or status: move it between groups
CREATE TRIGGER registry_models_group_count_update AFTER UPDATE OF ticker, project, mode, status ON registry_models
  WHEN OLD.ticker IS NOT NEW.ticker OR OLD.project IS NOT NEW.project OR OLD.mode IS NOT NEW.mode
    OR OLD.status IS NOT NEW.status BEGIN
  UPDATE registry_model_group_counts SET n = n - 1
    WHERE ticker = OLD.ticker AND project = OLD.project AND mode = OLD.mode AND status = OLD.status;
  DELETE FROM registry_model_group_counts
    WHERE ticker = OLD.ticker AND project = OLD.project AND mode = OLD.mode AND status = OLD.status AND n <= 0;
  INSERT INTO registry_model_group_counts (ticker, project, mode, status, n)
    VALUES (NEW.ticker, NEW.project, NEW.mode, NEW.status, 1)
    ON CONFLICT (ticker, project, mode, status) DO UPDATE SET n = n + 1;
END;
DROP INDEX registry_models_support;
CREATE INDEX registry_models_support ON registry_models (support, project, mode, status);
)sql",
      // 6: (a) the sort indexes order buy_rate as the queries do, missing values last:
      // `(buy_rate IS NULL), buy_rate` (registry_sql.hpp, SqlDialect), so the default sort is one
      // index range instead of a sort of every run of equal (precision, lift) — 1.5 -> 0.5 ms for
      // the first 550 rows of a ticker at 1M rows; (b) the rows of a project, mode and status
      // below a min_support bound, an index range (10,000 entries instead of 25,000 filtered);
      // (c) the lift-first index carries the keys too, as the default one does, so either serves
      // the per-ticker key ranges of a several-ticker page alone (without statistics the planner
      // took the covering one and sorted a whole ticker for sort=lift_desc). Rebuilding the three
      // indexes takes ~10 s at 1M rows, once.
      R"sql(
DROP INDEX registry_models_ticker_default;
CREATE INDEX registry_models_ticker_default
  ON registry_models (ticker, precision DESC, lift DESC, (buy_rate IS NULL), buy_rate ASC, support DESC, run_id, mode);
DROP INDEX registry_models_default;
CREATE INDEX registry_models_default
  ON registry_models (precision DESC, lift DESC, (buy_rate IS NULL), buy_rate ASC, support DESC, run_id, ticker, mode);
DROP INDEX registry_models_ticker_lift;
CREATE INDEX registry_models_ticker_lift
  ON registry_models (ticker, lift DESC, precision DESC, (buy_rate IS NULL), buy_rate ASC, support DESC, run_id, mode);
CREATE INDEX registry_models_group_support ON registry_models (project, mode, status, support);
)sql",
  };
  return migrations;
}

Result<std::unique_ptr<SqliteRegistryStore>> SqliteRegistryStore::Open(SqliteDb& db) {
  RETURN_IF_ERROR(db.Migrate("registry", SqliteRegistryMigrations()));
  // Re-indexing writes rows into three secondary indexes in random key order; SQLite's default
  // 2 MB page cache makes that seek-bound. 32 MB on the writer connection (memory, not disk).
  RETURN_IF_ERROR(db.WithWriter([](SqliteConnection& c) { return c.Exec("PRAGMA cache_size = -32768"); }));
  return std::unique_ptr<SqliteRegistryStore>(new SqliteRegistryStore(db));
}

Status SqliteRegistryStore::ReplaceRuns(const std::vector<IndexedRun>& runs) {
  for (const auto& r : runs) {
    if (r.run.run_id.empty()) return Status::InvalidArgument("run without run_id");
    for (const auto& row : r.rows) {
      if (row.run_id != r.run.run_id) {
        return Status::InvalidArgument("row of run '" + row.run_id + "' given for run '" + r.run.run_id + "'");
      }
    }
  }
  if (runs.empty()) return Status::Ok();
  return db_.InTransaction([&](SqliteConnection& c) -> Status {
    for (const auto& r : runs) {
      const RunSummary& s = r.run;
      RETURN_IF_ERROR(c.Execute("DELETE FROM registry_models WHERE run_id = ?", s.run_id));
      RETURN_IF_ERROR(c.Execute("INSERT OR REPLACE INTO registry_runs (" + std::string(kRunColumns) +
                                    ") VALUES (" + Placeholders(12) + ")",
                                s.run_id, s.project, s.mode, s.status, s.start_time, s.end_time, s.dataset,
                                s.config_path, JoinJson(s.tickers), JoinJson(s.eval_modes), s.indexed_at,
                                DumpJson(s.model_params.is_object() ? s.model_params : Json::object())));
      for (const auto& row : r.rows) RETURN_IF_ERROR(InsertModelRow(c, row));
    }
    return Status::Ok();
  });
}

Status SqliteRegistryStore::DeleteRun(const std::string& run_id) {
  return db_.InTransaction([&](SqliteConnection& c) -> Status {
    RETURN_IF_ERROR(c.Execute("DELETE FROM registry_models WHERE run_id = ?", run_id));
    return c.Execute("DELETE FROM registry_runs WHERE run_id = ?", run_id);
  });
}

Result<std::vector<std::string>> SqliteRegistryStore::ListRunIds() {
  return db_.WithReader([&](SqliteConnection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    RETURN_IF_ERROR(c.Query("SELECT run_id FROM registry_runs ORDER BY run_id",
                            [&](SqliteStatement& s) { ids.push_back(s.ColumnText(0)); }));
    return ids;
  });
}

namespace {

// One page of `table` rows matching `w`, newest first by `order_by`, with the total count,
// read in one snapshot (a read transaction) so items and total agree.
template <typename Page, typename ReadRow>
Result<Page> QueryPage(SqliteDb& db, std::string_view columns, std::string_view table, const Where& w,
                       std::string_view order_by, int limit, int64_t offset, ReadRow read_row) {
  const std::string items_sql = "SELECT " + std::string(columns) + " FROM " + std::string(table) + w.sql +
                                " ORDER BY " + std::string(order_by) + " LIMIT ? OFFSET ?";
  const std::string count_sql = "SELECT COUNT(*) FROM " + std::string(table) + w.sql;
  return db.WithReader([&](SqliteConnection& c) -> Result<Page> {
    ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::Begin(c, /*immediate=*/false));
    Page page;
    page.limit = limit;
    page.offset = offset;
    {
      ASSIGN_OR_RETURN(SqliteStatement count, c.Prepare(count_sql));
      RETURN_IF_ERROR(BindValues(count, w.values));
      ASSIGN_OR_RETURN(bool has, count.Step());
      page.total = has ? count.ColumnInt64(0) : 0;
    }
    ASSIGN_OR_RETURN(SqliteStatement stmt, c.Prepare(items_sql));
    RETURN_IF_ERROR(BindValues(stmt, w.values));
    RETURN_IF_ERROR(stmt.Bind(static_cast<int>(w.values.size()) + 1, static_cast<int64_t>(limit)));
    RETURN_IF_ERROR(stmt.Bind(static_cast<int>(w.values.size()) + 2, offset));
    while (true) {
      ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) break;
      page.items.push_back(read_row(stmt));
    }
    RETURN_IF_ERROR(tx.Commit());
    return page;
  });
}

}  // namespace

std::pair<std::string, std::string> SqliteRegistryStore::ModelsSqlForTesting(const RegistryQuery& q) {
  ModelsSql sql = BuildModelsSql(q, SqlDialect::kSqlite);
  return {sql.items, sql.count};
}

Result<RegistryPage> SqliteRegistryStore::QueryModels(const RegistryQuery& q) {
  RETURN_IF_ERROR(ValidateRegistryQuery(q));
  const ModelsSql sql = BuildModelsSql(q, SqlDialect::kSqlite);
  return db_.WithReader([&](SqliteConnection& c) -> Result<RegistryPage> {
    // One read transaction so items and total come from the same snapshot.
    ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::Begin(c, /*immediate=*/false));
    RegistryPage page;
    page.limit = q.limit;
    page.offset = q.offset;
    page.total = -1;
    if (!sql.count_probe.empty()) {
      ASSIGN_OR_RETURN(SqliteStatement probe, c.Prepare(sql.count_probe));
      RETURN_IF_ERROR(BindValues(probe, sql.count_probe_values));
      ASSIGN_OR_RETURN(bool has, probe.Step());
      const int64_t counted = has ? probe.ColumnInt64(0) : 0;
      if (counted < kCountProbe) page.total = counted;
    }
    if (page.total < 0) {
      ASSIGN_OR_RETURN(SqliteStatement count, c.Prepare(sql.count));
      RETURN_IF_ERROR(BindValues(count, sql.count_values));
      ASSIGN_OR_RETURN(bool has, count.Step());
      page.total = has ? count.ColumnInt64(0) : 0;
    }
    if (q.limit > 0 && q.offset < page.total) {
      ASSIGN_OR_RETURN(SqliteStatement stmt, c.Prepare(sql.items));
      RETURN_IF_ERROR(BindValues(stmt, sql.items_values));
      while (true) {
        ASSIGN_OR_RETURN(bool has_row, stmt.Step());
        if (!has_row) break;
        page.items.push_back(ReadModelRow(stmt));
      }
    }
    RETURN_IF_ERROR(tx.Commit());
    return page;
  });
}

Result<std::vector<std::string>> SqliteRegistryStore::ExplainModelsQuery(const RegistryQuery& q, bool count) {
  const ModelsSql sql = BuildModelsSql(q, SqlDialect::kSqlite);
  return db_.WithReader([&](SqliteConnection& c) -> Result<std::vector<std::string>> {
    ASSIGN_OR_RETURN(SqliteStatement stmt, c.Prepare("EXPLAIN QUERY PLAN " + (count ? sql.count : sql.items)));
    RETURN_IF_ERROR(BindValues(stmt, count ? sql.count_values : sql.items_values));
    std::vector<std::string> lines;
    while (true) {
      ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) break;
      lines.push_back(stmt.ColumnText(3));
    }
    return lines;
  });
}

Result<std::vector<RegistryRow>> SqliteRegistryStore::BestModelPerTicker(const std::vector<RegistrySortKey>& sort,
                                                                         int limit) {
  RETURN_IF_ERROR(ValidatePaging(limit, 0));
  // One index probe per ticker (ticker + sort index, LIMIT 1) instead of a window over the table.
  const std::string sql = "SELECT " + kModelColumns + " FROM registry_models WHERE ticker = ?" +
                          OrderBy(EffectiveRegistrySort(sort), SqlDialect::kSqlite) + " LIMIT 1";
  return db_.WithReader([&](SqliteConnection& c) -> Result<std::vector<RegistryRow>> {
    ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::Begin(c, /*immediate=*/false));
    std::vector<std::string> tickers;
    RETURN_IF_ERROR(c.Query("SELECT ticker FROM registry_model_counts WHERE n > 0 ORDER BY ticker LIMIT ?",
                            [&](SqliteStatement& s) { tickers.push_back(s.ColumnText(0)); },
                            static_cast<int64_t>(limit)));
    std::vector<RegistryRow> out;
    for (const auto& t : tickers) {
      RETURN_IF_ERROR(c.Query(sql, [&](SqliteStatement& s) { out.push_back(ReadModelRow(s)); }, t));
    }
    RETURN_IF_ERROR(tx.Commit());
    return out;
  });
}

Status SqliteRegistryStore::ScanModels(const std::function<Status(const RegistryRow&)>& fn) {
  const std::string sql = "SELECT " + kModelColumns + " FROM registry_models" + OrderBy(EffectiveRegistrySort({}), SqlDialect::kSqlite);
  return db_.WithReader([&](SqliteConnection& c) -> Status {
    ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::Begin(c, /*immediate=*/false));
    RETURN_IF_ERROR(c.Query(sql, [&](SqliteStatement& s) -> Status { return fn(ReadModelRow(s)); }));
    return tx.Commit();
  });
}

Result<std::vector<std::string>> SqliteRegistryStore::ListTickers() {
  return db_.WithReader([&](SqliteConnection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> tickers;
    RETURN_IF_ERROR(c.Query("SELECT ticker FROM registry_model_counts WHERE n > 0 ORDER BY ticker",
                            [&](SqliteStatement& s) { tickers.push_back(s.ColumnText(0)); }));
    return tickers;
  });
}

Result<RunPage> SqliteRegistryStore::ListRuns(const RunQuery& q) {
  RETURN_IF_ERROR(ValidatePaging(q.limit, q.offset));
  Where w;
  w.AddIn("project", q.projects);
  w.AddIn("status", q.statuses);
  if (!q.tickers.empty()) {
    w.Add("run_id IN (SELECT run_id FROM registry_models WHERE ticker " +
          std::string(q.tickers.size() == 1 ? "= ?" : "IN (" + Placeholders(q.tickers.size()) + ")") + ")");
    for (const auto& t : q.tickers) w.values.emplace_back(t);
  }
  if (q.text && !q.text->empty()) {
    // RunTextMatches in SQL: lower() folds ASCII only; tickers is a JSON list of the names.
    const std::string needle = RunAsciiLower(*q.text);
    w.Add("(instr(lower(run_id), ?) > 0 OR instr(lower(project), ?) > 0 OR instr(lower(dataset), ?) > 0"
          " OR instr(lower(config_path), ?) > 0 OR EXISTS (SELECT 1 FROM json_each(registry_runs.tickers)"
          " WHERE instr(lower(json_each.value), ?) > 0))");
    for (int i = 0; i < 5; ++i) w.values.emplace_back(needle);
  }
  static constexpr std::string_view kSortColumns[] = {"start_time", "run_id", "project", "dataset", "status", "mode"};
  const std::string dir = q.sort.descending ? " DESC" : " ASC";
  std::string order;
  if (q.sort.field == RunSortField::kParam) {
    // RunBefore in SQL: numbers first by value, then the rest (absent, text, boolean) as ties.
    // The name is [A-Za-z0-9_-] (ParseRunSort), so it is safe inside the quoted JSON path.
    if (!IsRunParamName(q.sort.param)) return Status::InvalidArgument("bad run param name '" + q.sort.param + "'");
    const std::string path = "'$.\"" + q.sort.param + "\"'";
    const std::string numeric = "IFNULL(json_type(model_params, " + path + "), '') IN ('integer', 'real')";
    order = "(" + numeric + ") DESC, CASE WHEN " + numeric + " THEN json_extract(model_params, " + path + ") END" +
            dir + ", run_id" + dir;
  } else {
    order = std::string(kSortColumns[static_cast<int>(q.sort.field)]) + dir + ", run_id" + dir;
  }
  return QueryPage<RunPage>(db_, kRunColumns, "registry_runs", w, order, q.limit, q.offset,
                            [](SqliteStatement& s) { return ReadRun(s); });
}

Result<RunSummary> SqliteRegistryStore::GetRun(const std::string& run_id) {
  return db_.WithReader([&](SqliteConnection& c) -> Result<RunSummary> {
    std::optional<RunSummary> found;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kRunColumns) + " FROM registry_runs WHERE run_id = ?",
                            [&](SqliteStatement& s) { found = ReadRun(s); }, run_id));
    if (!found) return Status::NotFound("run '" + run_id + "' is not indexed");
    return *found;
  });
}

Status SqliteRegistryStore::UpsertBacktests(const std::vector<BacktestSummaryRow>& backtests) {
  for (const auto& b : backtests) {
    if (b.bt_run_id.empty()) return Status::InvalidArgument("backtest without bt_run_id");
  }
  if (backtests.empty()) return Status::Ok();
  const std::string insert = "INSERT OR REPLACE INTO registry_backtests (" + std::string(kBacktestColumns) +
                             ") VALUES (" + Placeholders(23) + ")";
  return db_.InTransaction([&](SqliteConnection& c) -> Status {
    for (const auto& b : backtests) {
      RETURN_IF_ERROR(c.Execute("DELETE FROM registry_backtest_tickers WHERE bt_run_id = ?", b.bt_run_id));
      RETURN_IF_ERROR(c.Execute(insert, b.bt_run_id, b.created_at, b.strategy_type, b.dataset, JoinJson(b.tickers),
                                b.start, b.end, b.model_run_id, b.model_path, b.config_path, Finite(b.cagr),
                                Finite(b.max_drawdown), Finite(b.sharpe), Finite(b.sortino), Finite(b.volatility),
                                Finite(b.total_return), b.trades, Finite(b.win_rate), Finite(b.exposure),
                                Finite(b.final_equity), Finite(b.initial_cash), b.summary_json, b.indexed_at));
      for (const auto& t : b.tickers) {
        RETURN_IF_ERROR(c.Execute("INSERT OR IGNORE INTO registry_backtest_tickers (ticker, bt_run_id) VALUES (?, ?)",
                                  t, b.bt_run_id));
      }
    }
    return Status::Ok();
  });
}

Status SqliteRegistryStore::DeleteBacktest(const std::string& bt_run_id) {
  return db_.InTransaction([&](SqliteConnection& c) -> Status {
    RETURN_IF_ERROR(c.Execute("DELETE FROM registry_backtest_tickers WHERE bt_run_id = ?", bt_run_id));
    return c.Execute("DELETE FROM registry_backtests WHERE bt_run_id = ?", bt_run_id);
  });
}

Result<std::vector<std::string>> SqliteRegistryStore::ListBacktestIds() {
  return db_.WithReader([&](SqliteConnection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    RETURN_IF_ERROR(c.Query("SELECT bt_run_id FROM registry_backtests ORDER BY bt_run_id",
                            [&](SqliteStatement& s) { ids.push_back(s.ColumnText(0)); }));
    return ids;
  });
}

Result<BacktestPage> SqliteRegistryStore::ListBacktests(const BacktestQuery& q) {
  RETURN_IF_ERROR(ValidatePaging(q.limit, q.offset));
  Where w;
  w.AddIn("strategy_type", q.strategies);
  w.AddIn("model_run_id", q.model_run_ids);
  if (!q.tickers.empty()) {
    w.Add("bt_run_id IN (SELECT bt_run_id FROM registry_backtest_tickers WHERE ticker " +
          std::string(q.tickers.size() == 1 ? "= ?" : "IN (" + Placeholders(q.tickers.size()) + ")") + ")");
    for (const auto& t : q.tickers) w.values.emplace_back(t);
  }
  // A comparison with NULL is never true, so backtests missing the metric drop out.
  for (const BacktestBound& b : q.bounds) {
    const std::string column(FieldInfo(b.field).name);
    if (b.min) { w.Add(column + " >= ?"); w.values.emplace_back(*b.min); }
    if (b.max) { w.Add(column + " <= ?"); w.values.emplace_back(*b.max); }
  }
  std::string order;
  for (const BacktestSortKey& k : q.sort) {
    order += std::string(FieldInfo(k.field).name) + (k.descending ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
  }
  order += "created_at DESC, bt_run_id DESC";
  return QueryPage<BacktestPage>(db_, kBacktestColumns, "registry_backtests", w, order, q.limit, q.offset,
                                 [](SqliteStatement& s) { return ReadBacktest(s); });
}

Result<BacktestSummaryRow> SqliteRegistryStore::GetBacktest(const std::string& bt_run_id) {
  return db_.WithReader([&](SqliteConnection& c) -> Result<BacktestSummaryRow> {
    std::optional<BacktestSummaryRow> found;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kBacktestColumns) + " FROM registry_backtests WHERE bt_run_id = ?",
                            [&](SqliteStatement& s) { found = ReadBacktest(s); }, bt_run_id));
    if (!found) return Status::NotFound("backtest '" + bt_run_id + "' is not indexed");
    return *found;
  });
}

}  // namespace alphalab

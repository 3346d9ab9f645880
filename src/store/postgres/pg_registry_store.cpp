#include "store/postgres/pg_registry_store.hpp"

#include <iterator>
#include <variant>

#include "core/json.hpp"
#include "store/registry_sql.hpp"

namespace alphalab {

namespace {

using namespace registry_sql;  // the shared registry SQL (registry_sql.hpp)

// "col = excluded.col" for every registry_runs column but the key (the upsert of ReplaceRuns).
const std::string kRunUpdate =
    " project = excluded.project, mode = excluded.mode, status = excluded.status,"
    " start_time = excluded.start_time, end_time = excluded.end_time, dataset = excluded.dataset,"
    " config_path = excluded.config_path, tickers = excluded.tickers, eval_modes = excluded.eval_modes,"
    " indexed_at = excluded.indexed_at, model_params = excluded.model_params";

Status BindValues(PgStatement& stmt, const std::vector<Value>& values, int first = 1) {
  int index = first;
  for (const auto& v : values) {
    Status s = std::visit([&](const auto& x) { return stmt.Bind(index, x); }, v);
    RETURN_IF_ERROR(s);
    ++index;
  }
  return Status::Ok();
}

RegistryRow ReadModelRow(const PgStatement& s) {
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

RunSummary ReadRun(const PgStatement& s) {
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

BacktestSummaryRow ReadBacktest(const PgStatement& s) {
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

Status InsertModelRow(PgConnection& c, const RegistryRow& r) {
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
  ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(sql));
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

const std::vector<std::string>& PostgresRegistryMigrations() {
  static const std::vector<std::string> migrations = {
      // 1: registry rows, runs and backtests.
      R"sql(
-- DESC index columns are NULLS LAST, as the queries order them (PostgreSQL's DESC default is
-- NULLS FIRST, which would make every page a full sort).
CREATE TABLE registry_runs (
  run_id TEXT COLLATE "C" PRIMARY KEY,
  project TEXT COLLATE "C" NOT NULL,
  mode TEXT COLLATE "C" NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  start_time TEXT COLLATE "C" NOT NULL,
  end_time TEXT COLLATE "C" NOT NULL,
  dataset TEXT COLLATE "C" NOT NULL,
  config_path TEXT COLLATE "C" NOT NULL,
  tickers TEXT COLLATE "C" NOT NULL,
  eval_modes TEXT COLLATE "C" NOT NULL,
  indexed_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX registry_runs_newest ON registry_runs (start_time DESC, run_id DESC);
CREATE TABLE registry_models (
  ticker TEXT COLLATE "C" NOT NULL,
  run_id TEXT COLLATE "C" NOT NULL,
  mode TEXT COLLATE "C" NOT NULL,
  project TEXT COLLATE "C" NOT NULL,
  label_horizon_days BIGINT,
  label_threshold DOUBLE PRECISION,
  precision DOUBLE PRECISION,
  recall DOUBLE PRECISION,
  f1 DOUBLE PRECISION,
  accuracy DOUBLE PRECISION,
  buy_rate DOUBLE PRECISION,
  positive_rate DOUBLE PRECISION,
  lift DOUBLE PRECISION,
  tp BIGINT,
  fp BIGINT,
  tn BIGINT,
  fn BIGINT,
  support BIGINT,
  model_final_path TEXT COLLATE "C" NOT NULL,
  config_path TEXT COLLATE "C" NOT NULL,
  metrics_path TEXT COLLATE "C" NOT NULL,
  manifest_path TEXT COLLATE "C" NOT NULL,
  start_time TEXT COLLATE "C" NOT NULL,
  end_time TEXT COLLATE "C" NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (run_id, ticker, mode)
);
-- ticker filter + default sort (precision_desc,lift_desc,buy_rate_asc,support_desc + tie-breakers)
CREATE INDEX registry_models_ticker_default
  ON registry_models (ticker, precision DESC NULLS LAST, lift DESC NULLS LAST, buy_rate ASC, support DESC NULLS LAST, run_id, mode);
-- default sort without a ticker filter
CREATE INDEX registry_models_default
  ON registry_models (precision DESC NULLS LAST, lift DESC NULLS LAST, buy_rate ASC, support DESC NULLS LAST, run_id, ticker, mode);
-- ticker filter + the lift-first sort the UI offers
CREATE INDEX registry_models_ticker_lift
  ON registry_models (ticker, lift DESC NULLS LAST, precision DESC NULLS LAST, buy_rate ASC, support DESC NULLS LAST);
CREATE TABLE registry_backtests (
  bt_run_id TEXT COLLATE "C" PRIMARY KEY,
  created_at TEXT COLLATE "C" NOT NULL,
  strategy_type TEXT COLLATE "C" NOT NULL,
  dataset TEXT COLLATE "C" NOT NULL,
  tickers TEXT COLLATE "C" NOT NULL,
  start TEXT COLLATE "C" NOT NULL,
  "end" TEXT COLLATE "C" NOT NULL,
  model_run_id TEXT COLLATE "C" NOT NULL,
  model_path TEXT COLLATE "C" NOT NULL,
  config_path TEXT COLLATE "C" NOT NULL,
  cagr DOUBLE PRECISION,
  max_drawdown DOUBLE PRECISION,
  sharpe DOUBLE PRECISION,
  sortino DOUBLE PRECISION,
  volatility DOUBLE PRECISION,
  total_return DOUBLE PRECISION,
  trades BIGINT,
  win_rate DOUBLE PRECISION,
  exposure DOUBLE PRECISION,
  final_equity DOUBLE PRECISION,
  initial_cash DOUBLE PRECISION,
  summary_json TEXT COLLATE "C" NOT NULL,
  indexed_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX registry_backtests_newest ON registry_backtests (created_at DESC, bt_run_id DESC);
CREATE INDEX registry_backtests_strategy ON registry_backtests (strategy_type, created_at DESC, bt_run_id DESC);
CREATE INDEX registry_backtests_model ON registry_backtests (model_run_id, created_at DESC, bt_run_id DESC);
CREATE TABLE registry_backtest_tickers (
  ticker TEXT COLLATE "C" NOT NULL,
  bt_run_id TEXT COLLATE "C" NOT NULL REFERENCES registry_backtests (bt_run_id) ON DELETE CASCADE,
  PRIMARY KEY (ticker, bt_run_id)
);
CREATE INDEX registry_backtest_tickers_bt ON registry_backtest_tickers (bt_run_id);
)sql",
      // 2: row counts per ticker kept by triggers, so the total of an unfiltered or
      // ticker-only query is a lookup instead of a COUNT over the index.
      R"sql(
CREATE TABLE registry_model_counts (ticker TEXT COLLATE "C" PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO registry_model_counts (ticker, n) SELECT ticker, COUNT(*) FROM registry_models GROUP BY ticker;
CREATE FUNCTION registry_models_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO registry_model_counts (ticker, n) VALUES (NEW.ticker, 1)
      ON CONFLICT (ticker) DO UPDATE SET n = registry_model_counts.n + 1;
    RETURN NEW;
  END IF;
  UPDATE registry_model_counts SET n = n - 1 WHERE ticker = OLD.ticker;
  DELETE FROM registry_model_counts WHERE ticker = OLD.ticker AND n <= 0;
  RETURN OLD;
END $$;
CREATE TRIGGER registry_models_count_insert AFTER INSERT ON registry_models
  FOR EACH ROW EXECUTE FUNCTION registry_models_count();
CREATE TRIGGER registry_models_count_delete AFTER DELETE ON registry_models
  FOR EACH ROW EXECUTE FUNCTION registry_models_count();
)sql",
      // 3: a run's scalar model params (RunSummary::model_params, a JSON object) for the
      // param.<name> sorts; as SQLite's migration 3.
      R"sql(
ALTER TABLE registry_runs ADD COLUMN model_params TEXT NOT NULL DEFAULT '{}';
)sql",
      // 4: the totals of pages bounded by min_support; as SQLite's migration 4.
      R"sql(
CREATE INDEX registry_models_ticker_support ON registry_models (ticker, support);
CREATE INDEX registry_models_support ON registry_models (support);
)sql",
      // 5: totals of pages filtered by project, mode or status; as SQLite's migration 5.
      R"sql(
CREATE TABLE registry_model_group_counts (
  ticker TEXT COLLATE "C" NOT NULL, project TEXT COLLATE "C" NOT NULL, mode TEXT COLLATE "C" NOT NULL,
  status TEXT COLLATE "C" NOT NULL, n BIGINT NOT NULL,
  PRIMARY KEY (ticker, project, mode, status)
);
INSERT INTO registry_model_group_counts (ticker, project, mode, status, n)
  SELECT ticker, project, mode, status, COUNT(*) FROM registry_models GROUP BY ticker, project, mode, status;
CREATE FUNCTION registry_models_group_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- An UPDATE (the upsert of a row indexed again may change its project or status) moves the
  -- row from its old group to its new one.
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE registry_model_group_counts SET n = n - 1
      WHERE ticker = OLD.ticker AND project = OLD.project AND mode = OLD.mode AND status = OLD.status;
    DELETE FROM registry_model_group_counts
      WHERE ticker = OLD.ticker AND project = OLD.project AND mode = OLD.mode AND status = OLD.status AND n <= 0;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO registry_model_group_counts (ticker, project, mode, status, n)
      VALUES (NEW.ticker, NEW.project, NEW.mode, NEW.status, 1)
      ON CONFLICT (ticker, project, mode, status) DO UPDATE SET n = registry_model_group_counts.n + 1;
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER registry_models_group_count_insert AFTER INSERT ON registry_models
  FOR EACH ROW EXECUTE FUNCTION registry_models_group_count();
CREATE TRIGGER registry_models_group_count_delete AFTER DELETE ON registry_models
  FOR EACH ROW EXECUTE FUNCTION registry_models_group_count();
CREATE TRIGGER registry_models_group_count_update AFTER UPDATE OF ticker, project, mode, status ON registry_models
  FOR EACH ROW WHEN (OLD.ticker IS DISTINCT FROM NEW.ticker OR OLD.project IS DISTINCT FROM NEW.project
                     OR OLD.mode IS DISTINCT FROM NEW.mode OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION registry_models_group_count();
DROP INDEX registry_models_support;
CREATE INDEX registry_models_support ON registry_models (support, project, mode, status);
)sql",
      // 6: the rows of a project, mode and status below a min_support bound, an index range
      // (SQLite's migration 6; PostgreSQL's ascending order was already NULLS LAST).
      R"sql(
CREATE INDEX registry_models_group_support ON registry_models (project, mode, status, support);
)sql",
  };
  return migrations;
}

Result<std::unique_ptr<PostgresRegistryStore>> PostgresRegistryStore::Open(PgDb& db) {
  RETURN_IF_ERROR(db.Migrate("registry", PostgresRegistryMigrations()));
  return std::unique_ptr<PostgresRegistryStore>(new PostgresRegistryStore(db));
}

Status PostgresRegistryStore::ReplaceRuns(const std::vector<IndexedRun>& runs) {
  for (const auto& r : runs) {
    if (r.run.run_id.empty()) return Status::InvalidArgument("run without run_id");
    for (const auto& row : r.rows) {
      if (row.run_id != r.run.run_id) {
        return Status::InvalidArgument("row of run '" + row.run_id + "' given for run '" + r.run.run_id + "'");
      }
    }
  }
  if (runs.empty()) return Status::Ok();
  return db_.InTransaction([&](PgConnection& c) -> Status {
    for (const auto& r : runs) {
      const RunSummary& s = r.run;
      RETURN_IF_ERROR(c.Execute("DELETE FROM registry_models WHERE run_id = ?", s.run_id));
      RETURN_IF_ERROR(c.Execute("INSERT INTO registry_runs (" + std::string(kRunColumns) + ") VALUES (" +
                                    Placeholders(12) + ") ON CONFLICT (run_id) DO UPDATE SET" + kRunUpdate,
                                s.run_id, s.project, s.mode, s.status, s.start_time, s.end_time, s.dataset,
                                s.config_path, JoinJson(s.tickers), JoinJson(s.eval_modes), s.indexed_at,
                                DumpJson(s.model_params.is_object() ? s.model_params : Json::object())));
      for (const auto& row : r.rows) RETURN_IF_ERROR(InsertModelRow(c, row));
    }
    return Status::Ok();
  });
}

Status PostgresRegistryStore::DeleteRun(const std::string& run_id) {
  return db_.InTransaction([&](PgConnection& c) -> Status {
    RETURN_IF_ERROR(c.Execute("DELETE FROM registry_models WHERE run_id = ?", run_id));
    return c.Execute("DELETE FROM registry_runs WHERE run_id = ?", run_id);
  });
}

Result<std::vector<std::string>> PostgresRegistryStore::ListRunIds() {
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    RETURN_IF_ERROR(c.Query("SELECT run_id FROM registry_runs ORDER BY run_id",
                            [&](PgStatement& s) { ids.push_back(s.ColumnText(0)); }));
    return ids;
  });
}

namespace {

// One page of `table` rows matching `w`, newest first by `order_by`, with the total count,
// read in one snapshot (a read transaction) so items and total agree.
template <typename Page, typename ReadRow>
Result<Page> QueryPage(PgDb& db, std::string_view columns, std::string_view table, const Where& w,
                       std::string_view order_by, int limit, int64_t offset, ReadRow read_row) {
  const std::string items_sql = "SELECT " + std::string(columns) + " FROM " + std::string(table) + w.sql +
                                " ORDER BY " + std::string(order_by) + " LIMIT ? OFFSET ?";
  const std::string count_sql = "SELECT COUNT(*) FROM " + std::string(table) + w.sql;
  return db.WithReader([&](PgConnection& c) -> Result<Page> {
    ASSIGN_OR_RETURN(PgTransaction tx, PgTransaction::Begin(c, /*immediate=*/false));
    Page page;
    page.limit = limit;
    page.offset = offset;
    {
      ASSIGN_OR_RETURN(PgStatement count, c.Prepare(count_sql));
      RETURN_IF_ERROR(BindValues(count, w.values));
      ASSIGN_OR_RETURN(bool has, count.Step());
      page.total = has ? count.ColumnInt64(0) : 0;
    }
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(items_sql));
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

std::pair<std::string, std::string> PostgresRegistryStore::ModelsSqlForTesting(const RegistryQuery& q) {
  ModelsSql sql = BuildModelsSql(q, SqlDialect::kPostgres);
  return {sql.items, sql.count};
}

Result<RegistryPage> PostgresRegistryStore::QueryModels(const RegistryQuery& q) {
  RETURN_IF_ERROR(ValidateRegistryQuery(q));
  const ModelsSql sql = BuildModelsSql(q, SqlDialect::kPostgres);
  return db_.WithReader([&](PgConnection& c) -> Result<RegistryPage> {
    // One read transaction so items and total come from the same snapshot.
    ASSIGN_OR_RETURN(PgTransaction tx, PgTransaction::Begin(c, /*immediate=*/false));
    RegistryPage page;
    page.limit = q.limit;
    page.offset = q.offset;
    page.total = -1;
    if (!sql.count_probe.empty()) {
      ASSIGN_OR_RETURN(PgStatement probe, c.Prepare(sql.count_probe));
      RETURN_IF_ERROR(BindValues(probe, sql.count_probe_values));
      ASSIGN_OR_RETURN(bool has, probe.Step());
      const int64_t counted = has ? probe.ColumnInt64(0) : 0;
      if (counted < kCountProbe) page.total = counted;
    }
    if (page.total < 0) {
      ASSIGN_OR_RETURN(PgStatement count, c.Prepare(sql.count));
      RETURN_IF_ERROR(BindValues(count, sql.count_values));
      ASSIGN_OR_RETURN(bool has, count.Step());
      page.total = has ? count.ColumnInt64(0) : 0;
    }
    if (q.limit > 0 && q.offset < page.total) {
      ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(sql.items));
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

Result<std::vector<std::string>> PostgresRegistryStore::ExplainModelsQuery(const RegistryQuery& q, bool count) {
  const ModelsSql sql = BuildModelsSql(q, SqlDialect::kPostgres);
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<std::string>> {
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare("EXPLAIN " + (count ? sql.count : sql.items)));
    RETURN_IF_ERROR(BindValues(stmt, count ? sql.count_values : sql.items_values));
    std::vector<std::string> lines;
    while (true) {
      ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) break;
      lines.push_back(stmt.ColumnText(0));
    }
    return lines;
  });
}

Result<std::vector<RegistryRow>> PostgresRegistryStore::BestModelPerTicker(const std::vector<RegistrySortKey>& sort,
                                                                         int limit) {
  RETURN_IF_ERROR(ValidatePaging(limit, 0));
  // One index probe per ticker (ticker + sort index, LIMIT 1) instead of a window over the table.
  const std::string sql = "SELECT " + kModelColumns + " FROM registry_models WHERE ticker = ?" +
                          OrderBy(EffectiveRegistrySort(sort), SqlDialect::kPostgres) + " LIMIT 1";
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<RegistryRow>> {
    ASSIGN_OR_RETURN(PgTransaction tx, PgTransaction::Begin(c, /*immediate=*/false));
    std::vector<std::string> tickers;
    RETURN_IF_ERROR(c.Query("SELECT ticker FROM registry_model_counts WHERE n > 0 ORDER BY ticker LIMIT ?",
                            [&](PgStatement& s) { tickers.push_back(s.ColumnText(0)); },
                            static_cast<int64_t>(limit)));
    std::vector<RegistryRow> out;
    for (const auto& t : tickers) {
      RETURN_IF_ERROR(c.Query(sql, [&](PgStatement& s) { out.push_back(ReadModelRow(s)); }, t));
    }
    RETURN_IF_ERROR(tx.Commit());
    return out;
  });
}

Status PostgresRegistryStore::ScanModels(const std::function<Status(const RegistryRow&)>& fn) {
  const std::string sql = "SELECT " + kModelColumns + " FROM registry_models" + OrderBy(EffectiveRegistrySort({}), SqlDialect::kPostgres);
  return db_.WithReader([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgTransaction tx, PgTransaction::Begin(c, /*immediate=*/false));
    RETURN_IF_ERROR(c.Query(sql, [&](PgStatement& s) -> Status { return fn(ReadModelRow(s)); }));
    return tx.Commit();
  });
}

Result<std::vector<std::string>> PostgresRegistryStore::ListTickers() {
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> tickers;
    RETURN_IF_ERROR(c.Query("SELECT ticker FROM registry_model_counts WHERE n > 0 ORDER BY ticker",
                            [&](PgStatement& s) { tickers.push_back(s.ColumnText(0)); }));
    return tickers;
  });
}

Result<RunPage> PostgresRegistryStore::ListRuns(const RunQuery& q) {
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
    w.Add("(strpos(lower(run_id), ?) > 0 OR strpos(lower(project), ?) > 0 OR strpos(lower(dataset), ?) > 0"
          " OR strpos(lower(config_path), ?) > 0 OR EXISTS (SELECT 1 FROM"
          " json_array_elements_text(registry_runs.tickers::json) AS t(value) WHERE strpos(lower(t.value), ?) > 0))");
    for (int i = 0; i < 5; ++i) w.values.emplace_back(needle);
  }
  static constexpr std::string_view kSortColumns[] = {"start_time", "run_id", "project", "dataset", "status", "mode"};
  const std::string dir = q.sort.descending ? " DESC" : " ASC";
  std::string order;
  if (q.sort.field == RunSortField::kParam) {
    // RunBefore in SQL: numbers first by value, then the rest (absent, text, boolean) as ties.
    // The name is [A-Za-z0-9_-] (ParseRunSort), so it is safe inside the quoted literal.
    if (!IsRunParamName(q.sort.param)) return Status::InvalidArgument("bad run param name '" + q.sort.param + "'");
    const std::string value = "(model_params::jsonb -> '" + q.sort.param + "')";
    const std::string numeric = "COALESCE(jsonb_typeof" + value + " = 'number', false)";
    order = numeric + " DESC, CASE WHEN " + numeric + " THEN (model_params::jsonb ->> '" + q.sort.param +
            "')::double precision END" + dir + " NULLS LAST, run_id" + dir;
  } else {
    order = std::string(kSortColumns[static_cast<int>(q.sort.field)]) + dir + ", run_id" + dir;
  }
  return QueryPage<RunPage>(db_, kRunColumns, "registry_runs", w, order, q.limit, q.offset,
                            [](PgStatement& s) { return ReadRun(s); });
}

Result<RunSummary> PostgresRegistryStore::GetRun(const std::string& run_id) {
  return db_.WithReader([&](PgConnection& c) -> Result<RunSummary> {
    std::optional<RunSummary> found;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kRunColumns) + " FROM registry_runs WHERE run_id = ?",
                            [&](PgStatement& s) { found = ReadRun(s); }, run_id));
    if (!found) return Status::NotFound("run '" + run_id + "' is not indexed");
    return *found;
  });
}

Status PostgresRegistryStore::UpsertBacktests(const std::vector<BacktestSummaryRow>& backtests) {
  for (const auto& b : backtests) {
    if (b.bt_run_id.empty()) return Status::InvalidArgument("backtest without bt_run_id");
  }
  if (backtests.empty()) return Status::Ok();
  // INSERT OR REPLACE: the old row (and its tickers) go, the new one comes.
  const std::string insert = "INSERT INTO registry_backtests (" + std::string(kBacktestColumns) +
                             ") VALUES (" + Placeholders(23) + ")";
  return db_.InTransaction([&](PgConnection& c) -> Status {
    for (const auto& b : backtests) {
      RETURN_IF_ERROR(c.Execute("DELETE FROM registry_backtest_tickers WHERE bt_run_id = ?", b.bt_run_id));
      RETURN_IF_ERROR(c.Execute("DELETE FROM registry_backtests WHERE bt_run_id = ?", b.bt_run_id));
      RETURN_IF_ERROR(c.Execute(insert, b.bt_run_id, b.created_at, b.strategy_type, b.dataset, JoinJson(b.tickers),
                                b.start, b.end, b.model_run_id, b.model_path, b.config_path, Finite(b.cagr),
                                Finite(b.max_drawdown), Finite(b.sharpe), Finite(b.sortino), Finite(b.volatility),
                                Finite(b.total_return), b.trades, Finite(b.win_rate), Finite(b.exposure),
                                Finite(b.final_equity), Finite(b.initial_cash), b.summary_json, b.indexed_at));
      for (const auto& t : b.tickers) {
        RETURN_IF_ERROR(c.Execute("INSERT INTO registry_backtest_tickers (ticker, bt_run_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                  t, b.bt_run_id));
      }
    }
    return Status::Ok();
  });
}

Status PostgresRegistryStore::DeleteBacktest(const std::string& bt_run_id) {
  return db_.InTransaction([&](PgConnection& c) -> Status {
    RETURN_IF_ERROR(c.Execute("DELETE FROM registry_backtest_tickers WHERE bt_run_id = ?", bt_run_id));
    return c.Execute("DELETE FROM registry_backtests WHERE bt_run_id = ?", bt_run_id);
  });
}

Result<std::vector<std::string>> PostgresRegistryStore::ListBacktestIds() {
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    RETURN_IF_ERROR(c.Query("SELECT bt_run_id FROM registry_backtests ORDER BY bt_run_id",
                            [&](PgStatement& s) { ids.push_back(s.ColumnText(0)); }));
    return ids;
  });
}

Result<BacktestPage> PostgresRegistryStore::ListBacktests(const BacktestQuery& q) {
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
                                 [](PgStatement& s) { return ReadBacktest(s); });
}

Result<BacktestSummaryRow> PostgresRegistryStore::GetBacktest(const std::string& bt_run_id) {
  return db_.WithReader([&](PgConnection& c) -> Result<BacktestSummaryRow> {
    std::optional<BacktestSummaryRow> found;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kBacktestColumns) + " FROM registry_backtests WHERE bt_run_id = ?",
                            [&](PgStatement& s) { found = ReadBacktest(s); }, bt_run_id));
    if (!found) return Status::NotFound("backtest '" + bt_run_id + "' is not indexed");
    return *found;
  });
}

}  // namespace alphalab

#include "registry/registry_json.hpp"

namespace alphalab::registry {

namespace {

template <typename T>
Json Opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

std::string CsvCell(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  }
  return v.dump();  // numbers: shortest representation that round-trips
}

}  // namespace

// ticker, run_id, mode, the numeric fields in the order of kRegistryNumericFields, the paths
// and times, project.
const std::vector<std::string>& RegistryColumns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> out = {"ticker", "run_id", "mode"};
    for (const auto& info : kRegistryNumericFields) out.emplace_back(info.name);
    out.insert(out.end(), {"model_final_path", "config_path", "metrics_path", "manifest_path", "start_time",
                           "end_time", "status", "project"});
    return out;
  }();
  return columns;
}

Json RegistryRowToJson(const RegistryRow& r) {
  Json j = Json::object();
  j["ticker"] = r.ticker;
  j["run_id"] = r.run_id;
  j["mode"] = r.mode;
  for (const auto& info : kRegistryNumericFields) {
    j[std::string(info.name)] = info.is_integer ? Opt(r.*info.integer_member) : Opt(r.*info.real_member);
  }
  j["model_final_path"] = r.model_final_path;
  j["config_path"] = r.config_path;
  j["metrics_path"] = r.metrics_path;
  j["manifest_path"] = r.manifest_path;
  j["start_time"] = r.start_time;
  j["end_time"] = r.end_time;
  j["status"] = r.status;
  j["project"] = r.project;
  return j;
}

Json RunSummaryToJson(const RunSummary& r) {
  return Json{{"run_id", r.run_id},
              {"project", r.project},
              {"mode", r.mode},
              {"status", r.status},
              {"start_time", r.start_time},
              {"end_time", r.end_time},
              {"dataset", r.dataset},
              {"config_path", r.config_path},
              {"tickers", r.tickers},
              {"eval_modes", r.eval_modes},
              {"indexed_at", r.indexed_at}};
}

Json BacktestSummaryToJson(const BacktestSummaryRow& b) {
  Json j{{"bt_run_id", b.bt_run_id},
         {"created_at", b.created_at},
         {"strategy", b.strategy_type},
         {"dataset", b.dataset},
         {"tickers", b.tickers},
         {"start", b.start},
         {"end", b.end},
         {"model_run_id", b.model_run_id.empty() ? Json(nullptr) : Json(b.model_run_id)},
         {"model_path", b.model_path.empty() ? Json(nullptr) : Json(b.model_path)},
         {"config_path", b.config_path},
         {"cagr", Opt(b.cagr)},
         {"max_drawdown", Opt(b.max_drawdown)},
         {"sharpe", Opt(b.sharpe)},
         {"sortino", Opt(b.sortino)},
         {"volatility", Opt(b.volatility)},
         {"total_return", Opt(b.total_return)},
         {"trades", Opt(b.trades)},
         {"win_rate", Opt(b.win_rate)},
         {"exposure", Opt(b.exposure)},
         {"final_equity", Opt(b.final_equity)},
         {"initial_cash", Opt(b.initial_cash)},
         {"indexed_at", b.indexed_at}};
  return j;
}

std::string RegistryRowsToCsv(const std::vector<RegistryRow>& rows) {
  std::string out;
  const auto& columns = RegistryColumns();
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i];
  out += "\n";
  for (const auto& row : rows) {
    const Json j = RegistryRowToJson(row);
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i) out += ',';
      out += CsvCell(j.at(columns[i]));
    }
    out += "\n";
  }
  return out;
}

}  // namespace alphalab::registry

// Wire forms of registry rows, runs and backtests: the JSON the API returns and the CSV /
// JSON exports in reports/registry/. One column list, so the API, models.csv and
// models.json always use the same names (docs/registry.md: one set of field names).
#pragma once

#include <string>
#include <vector>

#include "core/json.hpp"
#include "store/registry_store.hpp"

namespace alphalab::registry {

// Column order of models.csv and of the keys in every API row (docs/registry.md).
const std::vector<std::string>& RegistryColumns();

Json RegistryRowToJson(const RegistryRow& row);
Json RunSummaryToJson(const RunSummary& run);
// The indexed summary with the full summary.json under "summary" (parsed).
Json BacktestSummaryToJson(const BacktestSummaryRow& bt);

// RFC 4180 CSV: header + one line per row; NULL metrics are empty cells.
std::string RegistryRowsToCsv(const std::vector<RegistryRow>& rows);

}  // namespace alphalab::registry

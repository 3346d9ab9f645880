// `alphalab data synth --out data/synthetic --instruments N --years Y --seed S [--start D]
//   [--symbols A,B]` writes a seeded synthetic universe (one CSV per instrument);
// `alphalab data validate --dataset NAME` lists every problem in a dataset (or says OK);
// `alphalab data list --dataset NAME` prints its instruments.
#include <iostream>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "core/clock.hpp"
#include "core/text.hpp"
#include "core/workspace.hpp"
#include "engine/data/dataset.hpp"
#include "engine/data/synth.hpp"

namespace alphalab::cli {
namespace {

struct DataOptions {
  std::string workspace = ".";
  std::string out = "data/synthetic";
  int instruments = 50;
  int years = 15;
  uint64_t seed = 42;
  std::string start = "2005-01-03";
  std::string symbols;
  std::string dataset;
};

int Fail(const Status& s) {
  std::cerr << "error: " << s.message() << std::endl;
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound ? 2 : 1;
}

int RunSynth(const DataOptions& o) {
  auto ws = Workspace::Open(o.workspace);
  if (!ws.ok()) return Fail(ws.status());
  auto out = ws->Resolve(o.out, PathMust::kAny);
  if (!out.ok()) return Fail(out.status().WithContext("--out"));
  if (o.instruments < 0 || o.instruments > 100000) {
    return Fail(Status::InvalidArgument("--instruments must be between 0 and 100000"));
  }
  if (o.years < 1 || o.years > 100) return Fail(Status::InvalidArgument("--years must be between 1 and 100"));
  auto start = ParseDate(o.start);
  if (!start.ok()) return Fail(Status::InvalidArgument("--start must be a date YYYY-MM-DD"));
  engine::SynthOptions options;
  options.instruments = o.instruments;
  options.years = o.years;
  options.seed = o.seed;
  options.start = *start;
  for (const std::string& sym : SplitCommaList(o.symbols)) {
    for (char c : sym) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) {
        return Fail(Status::InvalidArgument("--symbols: '" + sym + "' is not a valid symbol"));
      }
    }
    options.symbols.push_back(sym);
  }
  const auto universe = engine::MakeSyntheticUniverse(options);
  if (auto s = engine::WriteUniverseCsv(universe, *out); !s.ok()) return Fail(s);
  std::cout << "wrote " << universe.series.size() << " instruments x " << universe.calendar.size()
            << " bars (" << FormatDate(universe.calendar.front()) << " .. "
            << FormatDate(universe.calendar.back()) << ") to " << ws->Relative(*out) << std::endl;
  return 0;
}

int RunValidate(const DataOptions& o) {
  auto ws = Workspace::Open(o.workspace);
  if (!ws.ok()) return Fail(ws.status());
  auto ds = engine::ResolveDataset(*ws, o.dataset);
  if (!ds.ok()) return Fail(ds.status());
  auto problems = engine::ValidateDataset(*ws, *ds);
  if (!problems.ok()) return Fail(problems.status());
  auto symbols = engine::ListSymbols(*ds);
  if (problems->empty()) {
    std::cout << "OK: dataset '" << ds->name << "' (" << ds->format << ", "
              << ws->Relative(ds->path) << "): " << (symbols.ok() ? symbols->size() : 0)
              << " instruments valid" << std::endl;
    return 0;
  }
  for (const auto& p : *problems) std::cout << p << "\n";
  std::cout << problems->size() << " problem(s) in dataset '" << ds->name << "'" << std::endl;
  return 1;
}

int RunList(const DataOptions& o) {
  auto ws = Workspace::Open(o.workspace);
  if (!ws.ok()) return Fail(ws.status());
  auto ds = engine::ResolveDataset(*ws, o.dataset);
  if (!ds.ok()) return Fail(ds.status());
  auto symbols = engine::ListSymbols(*ds);
  if (!symbols.ok()) return Fail(symbols.status());
  for (const auto& s : *symbols) std::cout << s << "\n";
  return 0;
}

void SetupDataCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DataOptions>();
  CLI::App* data = app.add_subcommand("data", "datasets: synthetic generator, validation, listing");
  data->require_subcommand(1);
  CLI::App* synth = data->add_subcommand("synth", "write a seeded synthetic universe (SYN0001.., SYNMKT, SYNBOND, SYNGOLD)");
  synth->add_option("--out", o->out, "output folder inside the workspace (default: data/synthetic)");
  synth->add_option("--instruments", o->instruments, "equity-like instruments (default 50)");
  synth->add_option("--years", o->years, "years of business days (default 15)");
  synth->add_option("--seed", o->seed, "random seed (default 42)");
  synth->add_option("--start", o->start, "first date (default 2005-01-03)");
  synth->add_option("--symbols", o->symbols, "explicit names for the first instruments, e.g. TSM,ACME");
  synth->add_option("--workspace", o->workspace, "workspace directory (default: .)");
  synth->callback([o, &exit_code] { exit_code = RunSynth(*o); });
  CLI::App* validate = data->add_subcommand("validate", "check a dataset and print every problem");
  validate->add_option("--dataset", o->dataset, "dataset name (alphalab.yaml datasets:)")->required();
  validate->add_option("--workspace", o->workspace, "workspace directory (default: .)");
  validate->callback([o, &exit_code] { exit_code = RunValidate(*o); });
  CLI::App* list = data->add_subcommand("list", "print a dataset's instruments");
  list->add_option("--dataset", o->dataset, "dataset name")->required();
  list->add_option("--workspace", o->workspace, "workspace directory (default: .)");
  list->callback([o, &exit_code] { exit_code = RunList(*o); });
}

}  // namespace

ALPHALAB_REGISTER_COMMAND(45, SetupDataCommand);

}  // namespace alphalab::cli

// DatasetService on real files: CSV datasets like `demo` and `synthetic`, a small generated Qlib
// folder, instrument uploads with good and bad symbols, the default, delete refused while a job
// uses the dataset, and the engine's resolver reading what the API wrote.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "config/workspace_config.hpp"
#include "datasets/dataset_service.hpp"
#include "engine/data/layout_check.hpp"
#include "engine/data/dataset.hpp"
#include "exec/fake_executor.hpp"
#include "jobs/job_service.hpp"
#include "store/fake_job_store.hpp"

namespace alphalab::datasets {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class DatasetServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("datasets_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(std::random_device{}()));
    // Like the example workspace: demo (SPX) and synthetic (SYN0001.., SYNMKT).
    for (const char* sym : {"SPX"}) Csv("data/demo", sym);
    for (const char* sym : {"SYN0001", "SYN0002", "SYN0003", "SYNMKT"}) Csv("data/synthetic", sym);
    std::ofstream(root_ / "alphalab.yaml") << "datasets:\n"
                                              "  demo: {format: csv, path: data/demo, default: true}\n"
                                              "  synthetic: {format: csv, path: data/synthetic, description: generated}\n"
                                              "job_types:\n"
                                              "  agent:\n"
                                              "    argv: [agent]\n"
                                              "    params:\n"
                                              "      dataset_ids: {type: list}\n";
    ws_ = std::make_unique<Workspace>(*Workspace::Open(root_));
    catalog_ = std::make_unique<JobCatalog>(*ws_, "/usr/bin/alphalab");
    ASSERT_TRUE(catalog_->AddUserTypes(*LoadWorkspaceConfig(*ws_)).ok());
    exec_ = std::make_unique<FakeExecutor>(4);
    jobs_ = std::make_unique<JobService>(store_, *exec_, *catalog_, *ws_, SystemClock::Instance());
    service_ = std::make_unique<DatasetService>(*ws_, jobs_.get());
  }
  void TearDown() override {
    jobs_.reset();
    fs::remove_all(root_);
  }
  void Csv(const std::string& dir, const std::string& sym) {
    fs::create_directories(root_ / dir);
    std::ofstream(root_ / dir / (sym + ".csv")) << "date,open,high,low,close,volume\n"
                                                   "2020-01-02,10,11,9,10.5,1000\n"
                                                   "2020-01-03,10.5,11.5,10,11,1200\n";
  }
  void Qlib(const std::string& dir, const std::vector<std::string>& listed, const std::vector<std::string>& with_features) {
    fs::create_directories(root_ / dir / "calendars");
    fs::create_directories(root_ / dir / "instruments");
    std::ofstream(root_ / dir / "calendars" / "day.txt") << "2020-01-02\n2020-01-03\n2020-01-06\n";
    std::ofstream all(root_ / dir / "instruments" / "all.txt");
    for (const auto& s : listed) all << s << "\t2020-01-02\t2020-01-06\n";
    for (const auto& s : with_features) {
      std::string lower = s;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      fs::create_directories(root_ / dir / "features" / lower);
      std::ofstream(root_ / dir / "features" / lower / "close.day.bin", std::ios::binary) << std::string(16, '\0');
    }
  }
  Json Find(const std::string& name) {
    auto list = service_->List();
    EXPECT_TRUE(list.ok());
    for (const Json& d : (*list)["items"]) {
      if (d["name"] == name) return d;
    }
    return Json();
  }

  fs::path root_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<JobCatalog> catalog_;
  FakeJobStore store_;
  std::unique_ptr<FakeExecutor> exec_;
  std::unique_ptr<JobService> jobs_;
  std::unique_ptr<DatasetService> service_;
};

TEST_F(DatasetServiceTest, ListsAlphalabYamlDatasetsReadOnlyWithTheirDefault) {
  auto list = service_->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ((*list)["default"], "demo");
  const Json syn = Find("synthetic");
  EXPECT_EQ(syn["readonly"], true);
  EXPECT_EQ(syn["source"], "alphalab.yaml");
  EXPECT_EQ(syn["description"], "generated");
  EXPECT_EQ(syn["format"], "csv");
}

TEST_F(DatasetServiceTest, UploadOfGoodSymbolsMakesARestrictedDatasetTheEngineResolves) {
  auto made = service_->UploadInstruments(
      Json{{"name", "syn_two"}, {"dataset", "synthetic"}, {"content", "# my picks\nsyn0002\n\nSYN0001\tx\n"}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ((*made)["instruments"], Json({"SYN0002", "SYN0001"}));
  EXPECT_EQ((*made)["readonly"], false);
  EXPECT_EQ((*made)["source"], "datasets/syn_two.yaml");
  EXPECT_EQ((*made)["path"], "data/synthetic");
  EXPECT_TRUE((*made)["validation"]["ok"].get<bool>()) << made->dump();
  // One definition: the engine's `dataset: syn_two` reads the file the API wrote.
  auto ref = engine::ResolveDataset(*ws_, "syn_two");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  auto symbols = engine::ListSymbols(*ref);
  ASSERT_TRUE(symbols.ok());
  EXPECT_EQ(*symbols, (std::vector<std::string>{"SYN0001", "SYN0002"}));
  auto universe = engine::LoadUniverse(*ws_, *ref, {});
  ASSERT_TRUE(universe.ok()) << universe.status().ToString();
  EXPECT_EQ(universe->series.size(), 2u);
  EXPECT_FALSE(engine::LoadUniverse(*ws_, *ref, {"SYN0003"}).ok());  // outside the list
  // The same name again: 409.
  auto again = service_->UploadInstruments(Json{{"name", "syn_two"}, {"dataset", "synthetic"}, {"content", "SYN0001"}});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(DatasetServiceTest, EachBadOrUnknownSymbolIsReportedWithItsLineAndNothingIsWritten) {
  auto refused = service_->UploadInstruments(Json{
      {"name", "mixed"}, {"dataset", "synthetic"}, {"content", "SYN0001\nNOPE\n$$$\nSYN0001\nSPX\n"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  const Json& d = refused.status().details();
  EXPECT_EQ(d["field"], "content");
  ASSERT_EQ(d["problems"].size(), 4u) << d.dump();
  EXPECT_EQ(d["problems"][0], (Json{{"line", 2}, {"symbol", "NOPE"}, {"problem", "not in dataset 'synthetic'"}}));
  EXPECT_EQ(d["problems"][1]["line"], 3);
  EXPECT_EQ(d["problems"][1]["problem"], "not a valid symbol");
  EXPECT_EQ(d["problems"][2]["problem"], "listed twice");
  EXPECT_EQ(d["problems"][3]["symbol"], "SPX");  // demo's, not synthetic's
  EXPECT_FALSE(fs::exists(root_ / "datasets"));
  EXPECT_EQ(service_->UploadInstruments(Json{{"name", "x"}, {"dataset", "nope"}, {"content", "A"}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->UploadInstruments(Json{{"name", "../x"}, {"dataset", "demo"}, {"content", "SPX"}})
                .status()
                .details()["field"],
            "name");
  EXPECT_EQ(service_->UploadInstruments(Json{{"name", "y"}, {"dataset", "demo"}, {"content", "SPX"}, {"extra", 1}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(DatasetServiceTest, QlibLayoutValidationOnASmallGeneratedFolder) {
  Qlib("data/qlib_ok", {"SH600000", "SZ000001"}, {"SH600000", "SZ000001"});
  Qlib("data/qlib_holes", {"SH600000", "SZ000001", "SZ000002"}, {"SH600000"});
  auto ok = service_->Create(Json{{"name", "cn"}, {"format", "qlib"}, {"provider_uri", "data/qlib_ok"},
                                  {"description", "two stocks"}, {"default", true}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)["validation"]["calendar_days"], 3);
  EXPECT_EQ((*ok)["validation"]["instruments"], 2);
  EXPECT_EQ((*ok)["default"], true);
  EXPECT_EQ((*service_->List())["default"], "cn");
  auto holes = service_->Create(Json{{"name", "cn2"}, {"format", "qlib"}, {"path", "data/qlib_holes"}});
  ASSERT_FALSE(holes.ok());
  const Json report = holes.status().details()["report"];
  EXPECT_EQ(report["missing"], Json({"SZ000001", "SZ000002"}));
  EXPECT_NE(report["problems"][0].get<std::string>().find("features/sz000001/"), std::string::npos) << report.dump();
  EXPECT_EQ(holes.status().details()["field"], "path");
  fs::remove(root_ / "data/qlib_ok/calendars/day.txt");
  auto broken = service_->Validate("cn");
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE((*broken)["ok"].get<bool>());
  EXPECT_EQ((*broken)["problems"][0], "calendars/day.txt is missing");
  const engine::LayoutReport none = engine::CheckLayout(root_ / "data" / "nothing", "", "qlib");
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(service_->Create(Json{{"name", "out"}, {"format", "csv"}, {"path", "../"}}).status().details()["field"],
            "path");
}

// A Qlib provider_uri inside a root declared under `roots:` (an RD-Agent checkout's data): accepted,
// stored absolute, resolved by the engine; outside every root, through a symlink out of the root
// or climbing out with '..': 400 naming the field, nothing written.
TEST_F(DatasetServiceTest, AProviderUriInsideADeclaredRootIsAcceptedAndConfinedLikeConfigFiles) {
  const fs::path ext = root_.string() + "_ext";
  const fs::path outside = root_.string() + "_outside";
  fs::create_directories(ext);
  Qlib("../" + ext.filename().string() + "/qlib_data/cn_data", {"SH600000"}, {"SH600000"});
  Qlib("../" + outside.filename().string() + "/cn_data", {"SH600000"}, {"SH600000"});
  fs::create_directory_symlink(outside / "cn_data", ext / "escape");
  std::ofstream(root_ / "alphalab.yaml", std::ios::app) << "roots:\n  qlibdata: " << ext.string() << "\n";
  const std::string inside = (ext / "qlib_data" / "cn_data").string();

  auto made = service_->Create(Json{{"name", "rd_cn"}, {"format", "qlib"}, {"provider_uri", inside}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ((*made)["validation"]["instruments"], 1);
  std::ifstream stored(root_ / "datasets" / "rd_cn.yaml");
  const std::string yaml((std::istreambuf_iterator<char>(stored)), std::istreambuf_iterator<char>());
  EXPECT_NE(yaml.find(fs::canonical(inside).string()), std::string::npos) << yaml;
  auto ref = engine::ResolveDataset(*ws_, "rd_cn");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->path, fs::canonical(inside));
  EXPECT_EQ(ref->format, "qlib");
  // An instruments upload over it keeps pointing into the root.
  auto sub = service_->UploadInstruments(Json{{"name", "rd_one"}, {"dataset", "rd_cn"}, {"content", "SH600000\n"}});
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  EXPECT_EQ(engine::ResolveDataset(*ws_, "rd_one")->path, fs::canonical(inside));

  for (const std::string& bad : {(outside / "cn_data").string(), (ext / "escape").string(),
                                 (ext / ".." / outside.filename() / "cn_data").string(), std::string("/etc")}) {
    auto r = service_->Create(Json{{"name", "bad"}, {"format", "qlib"}, {"provider_uri", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().details()["field"], "provider_uri") << bad;
    EXPECT_NE(r.status().message().find("roots: (qlibdata)"), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(fs::exists(root_ / "datasets" / "bad.yaml"));
  fs::remove_all(ext);
  fs::remove_all(outside);
}

TEST_F(DatasetServiceTest, DeleteIsRefusedWhileAQueuedOrRunningJobUsesItAndForAlphalabYamlDatasets) {
  ASSERT_TRUE(service_->UploadInstruments(Json{{"name", "picks"}, {"dataset", "synthetic"}, {"content", "SYN0003"}}).ok());
  ASSERT_TRUE(service_->SetDefault("picks").ok());
  auto job = jobs_->Submit("agent", Json{{"dataset_ids", {"demo", "picks"}}});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_TRUE(exec_->WaitForSubmits(1));
  auto refused = service_->Delete("picks");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().details()["job_ids"], Json({job->job_id.str()}));
  EXPECT_EQ(service_->Delete("synthetic").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(exec_->FinishWithExitCode(job->job_id, 0).ok());
  ASSERT_TRUE(jobs_->WaitIdle(5s));
  auto deleted = service_->Delete("picks");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_FALSE(fs::exists(root_ / "datasets" / "picks.yaml"));
  EXPECT_FALSE(fs::exists(root_ / "datasets" / "picks.instruments.txt"));
  EXPECT_EQ((*service_->List())["default"], "demo");  // back to alphalab.yaml's
  EXPECT_EQ(service_->Delete("picks").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace alphalab::datasets

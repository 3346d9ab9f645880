// configs/config_service.hpp on a copy of the example RD-Agent stand-in: list, read (masked),
// write (validation, 409 on a stale base, backup naming, history rows), drift, diff, rollback,
// and the atomic write under kill -9.
#include "configs/config_service.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <thread>

#include "configs/configs_fixture.hpp"
#include "core/dotenv.hpp"
#include "core/ids.hpp"

namespace alphalab::testing {
namespace {

using configs::ConfigService;

class ConfigServiceTest : public ConfigsFixture {};

TEST_F(ConfigServiceTest, ListsEveryManagedFileWithHashSizeMtimeAndDrift) {
  auto list = svc_->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  const Json& tool = (*list)["tools"][0];
  EXPECT_EQ(tool["name"], "rdagent");
  EXPECT_EQ(tool["root"], "rdagent");
  ASSERT_EQ(tool["files"].size(), 9u);
  const Json& env = tool["files"][0];
  EXPECT_EQ(env["path"], kEnv);
  EXPECT_EQ(env["kind"], "env");
  EXPECT_EQ(env["sha256"], Sha256Hex(Slurp(Disk(kEnv))));
  EXPECT_EQ(env["size"], static_cast<int64_t>(Slurp(Disk(kEnv)).size()));
  EXPECT_FALSE(env["drift"].get<bool>());
  EXPECT_TRUE(env["mtime"].is_string());
  EXPECT_TRUE(tool["files"][6]["readonly"].get<bool>());
  EXPECT_EQ(svc_->List(std::string("nope")).status().code(), StatusCode::kNotFound);
}

// The list keeps hashes and history counts between calls (docs/configs.md, "Listing cost") but
// never shows a stale one: new bytes with the same size and mtime are seen (the ctime changed),
// and a row another server appended to the shared database is counted on the next call.
TEST_F(ConfigServiceTest, TheListReusesHashesAndCountsOnlyWhileNothingChanged) {
  configs::ConfigServiceOptions options;
  options.racy_margin = std::chrono::milliseconds(0);  // trust just-written files (the test's own edits)
  options.counts_max_age = std::chrono::hours(1);      // only LastId() may invalidate the counts
  Rebuild(nullptr, options);
  auto file_of = [](const Json& list, const std::string& path) {
    for (const Json& f : list["tools"][0]["files"]) {
      if (f["path"] == path) return f;
    }
    return Json();
  };
  auto first = svc_->List();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const fs::path p = Disk(kBaseline);
  std::string v = Slurp(p);
  EXPECT_EQ(file_of(*first, kBaseline)["sha256"], Sha256Hex(v));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the file system's timestamp tick
  const auto mtime = fs::last_write_time(p);
  v[0] = v[0] == '#' ? '%' : '#';  // same size
  { std::ofstream(p, std::ios::binary | std::ios::trunc) << v; }
  fs::last_write_time(p, mtime);  // same mtime too: only the ctime tells
  auto second = svc_->List();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(file_of(*second, kBaseline)["sha256"], Sha256Hex(v));
  EXPECT_TRUE(file_of(*second, kBaseline)["drift"].get<bool>());
  const int64_t before = file_of(*second, kEnv)["history_count"];
  ConfigHistoryRecord row;
  row.tool = "rdagent";
  row.path = ".env";
  row.history_path = "history/20261203/1_manual_.env";
  row.operator_name = "other-server";
  row.sha256 = std::string(64, 'a');
  row.event = "write";
  ASSERT_TRUE(store_.Append(row).ok());
  EXPECT_EQ(file_of(*svc_->List(), kEnv)["history_count"], before + 1);
  EXPECT_EQ((*svc_->History(kEnv, 10, 0))["total"], before + 1);
}

TEST_F(ConfigServiceTest, ReadMasksSecretsAndWritingTheMaskBackKeepsThem) {
  auto read = svc_->Read(kEnv);
  ASSERT_TRUE(read.ok());
  const std::string shown = (*read)["content"];
  EXPECT_EQ(shown.find("sk-chat-key"), std::string::npos);
  std::string edited = shown;
  edited.replace(edited.find("MAX_RETRY=10"), 12, "MAX_RETRY=12");
  auto w = Write(kEnv, edited, (*read)["sha256"]);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const std::string disk = Slurp(Disk(kEnv));
  EXPECT_NE(disk.find("OPENAI_API_KEY=\"sk-chat-key\""), std::string::npos);
  EXPECT_NE(disk.find("LITELLM_PROXY_API_KEY=\"sk-embedding-service-key\""), std::string::npos);
  EXPECT_NE(disk.find("MAX_RETRY=12"), std::string::npos);
  // History and diff never show the secret either.
  auto diff = svc_->Diff(kEnv, std::to_string((*w)["history_id"].get<int64_t>()), "current");
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ((*diff)["diff"].get<std::string>().find("sk-"), std::string::npos);
  EXPECT_NE((*diff)["diff"].get<std::string>().find("+MAX_RETRY=12"), std::string::npos);
}

// Managed YAML files mask their secret-looking keys like .env does (core/yaml_secrets.hpp);
// the five real templates have none and are shown exactly as they are.
TEST_F(ConfigServiceTest, YamlSecretsAreMaskedInReadAndDiffAndKeptWhenTheMaskIsWrittenBack) {
  for (const char* tpl : {kBaseline, kModelTpl}) {
    auto r = svc_->Read(tpl);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["content"].get<std::string>(), Slurp(Disk(tpl))) << tpl;
  }
  const std::string v1 = Slurp(Disk(kBaseline));
  auto w1 = Write(kBaseline, v1 + "llm:\n  api_key: sk-yaml-secret  # ours\n  password: \"pw-1\"\n");
  ASSERT_TRUE(w1.ok()) << w1.status().ToString();
  const std::string with_secret = Slurp(Disk(kBaseline));
  auto read = svc_->Read(kBaseline);
  ASSERT_TRUE(read.ok());
  const std::string shown = (*read)["content"];
  EXPECT_EQ(shown.find("sk-yaml-secret"), std::string::npos);
  EXPECT_EQ(shown.find("pw-1"), std::string::npos);
  EXPECT_NE(shown.find("  api_key: \"********\"  # ours\n"), std::string::npos) << shown;
  // Writing the masked text back with one edit keeps both secrets, the rest byte for byte.
  std::string edited = shown;
  edited.replace(edited.find("# ours"), 6, "# mine");
  auto w2 = Write(kBaseline, edited, (*read)["sha256"]);
  ASSERT_TRUE(w2.ok()) << w2.status().ToString();
  std::string expected = with_secret;
  expected.replace(expected.find("# ours"), 6, "# mine");
  EXPECT_EQ(Slurp(Disk(kBaseline)), expected);
  // The diff between the two versions shows neither secret.
  auto diff = svc_->Diff(kBaseline, std::to_string((*w2)["history_id"].get<int64_t>()), "current");
  ASSERT_TRUE(diff.ok());
  const std::string d = (*diff)["diff"];
  EXPECT_EQ(d.find("sk-yaml"), std::string::npos) << d;
  EXPECT_NE(d.find("+  api_key: \"********\"  # mine"), std::string::npos) << d;
  // A mask where nothing is stored: 400 naming the key, nothing written.
  auto bad = Write(kBaseline, edited + "other_token: ********\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().details()["key"], "other_token");
  EXPECT_EQ(bad.status().details()["field"], "content");
  EXPECT_EQ(Slurp(Disk(kBaseline)), expected);
}

TEST_F(ConfigServiceTest, UnchangedFilesRoundTripByteForByte) {
  const std::string before = Slurp(Disk(kEnv));
  auto read = svc_->Read(kEnv);
  auto w = Write(kEnv, (*read)["content"], (*read)["sha256"]);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_FALSE((*w)["changed"].get<bool>());
  EXPECT_TRUE((*w)["history_id"].is_null());
  EXPECT_EQ(Slurp(Disk(kEnv)), before);
}

TEST_F(ConfigServiceTest, AStaleBaseIsRefusedNamingTheCurrentHash) {
  const std::string base = Sha(kBaseline);
  ASSERT_TRUE(Write(kBaseline, Slurp(Disk(kBaseline)) + "# one\n", base).ok());
  const std::string after_first = Slurp(Disk(kBaseline));
  auto stale = Write(kBaseline, Slurp(Disk(kBaseline)) + "# two\n", base);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.status().details()["current_sha256"], Sha256Hex(after_first));
  EXPECT_NE(stale.status().message().find(Sha256Hex(after_first)), std::string::npos);
  EXPECT_EQ(Slurp(Disk(kBaseline)), after_first);
}

TEST_F(ConfigServiceTest, ValidationErrorsNameTheLineAndWriteNothing) {
  const std::string env_before = Slurp(Disk(kEnv));
  auto bad_env = Write(kEnv, "A=1\nnot a pair\n");
  ASSERT_FALSE(bad_env.ok());
  EXPECT_EQ(bad_env.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_env.status().details()["line"], 2);
  EXPECT_EQ(bad_env.status().details()["field"], "content");
  const std::string yaml_before = Slurp(Disk(kBaseline));
  auto bad_yaml = Write(kBaseline, "a: [1, 2\nb: 3\n");
  ASSERT_FALSE(bad_yaml.ok());
  EXPECT_EQ(bad_yaml.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(bad_yaml.status().details().contains("line"));
  EXPECT_EQ(Slurp(Disk(kEnv)), env_before);
  EXPECT_EQ(Slurp(Disk(kBaseline)), yaml_before);
  EXPECT_TRUE(store_.List("rdagent", ".env", 10, 0)->empty());
  EXPECT_FALSE(fs::exists(ws_ / "history"));
  // Read-only files are never written.
  auto ro = Write(kPrompts, "x: 1\n");
  EXPECT_EQ(ro.status().code(), StatusCode::kPermissionDenied);
  // Bad paths.
  EXPECT_EQ(Write("rdagent:../alphalab.yaml", "x", "y").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(svc_->Read("no-colon").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ConfigServiceTest, TheRealTemplatesAreValidYamlDespiteTheirJinja) {
  for (const char* p : {kBaseline, kModelTpl}) {
    auto w = Write(p, Slurp(Disk(p)) + "# edited\n");
    EXPECT_TRUE(w.ok()) << p << ": " << w.status().ToString();
  }
}

TEST_F(ConfigServiceTest, BackupsAreNamedByDayMillisecondTaskAndFileAndRowsRecordThem) {
  const std::string v1 = Slurp(Disk(kBaseline));
  configs::WriteRequest w;
  w.path = kBaseline;
  w.content = v1 + "# v2\n";
  w.base_sha256 = Sha256Hex(v1);
  w.note = "tune";
  w.operator_name = "alice";
  w.task_id = "job_42";
  auto r = svc_->Write(w);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = store_.List("rdagent", "rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml", 10, 0);
  ASSERT_EQ(rows->size(), 1u);
  const ConfigHistoryRecord& row = rows->front();
  EXPECT_TRUE(std::regex_match(row.history_path, std::regex(R"(history/20261202/\d{13}_job_42_conf_baseline\.yaml)")))
      << row.history_path;
  EXPECT_EQ(row.operator_name, "alice");
  EXPECT_EQ(row.task_id, "job_42");
  EXPECT_EQ(row.note, "tune");
  EXPECT_EQ(row.event, "write");
  EXPECT_EQ(row.sha256, Sha256Hex(v1));
  EXPECT_EQ(Slurp(ws_ / row.history_path), v1);
  // A manual write.
  ASSERT_TRUE(Write(kBaseline, v1 + "# v3\n").ok());
  auto rows2 = store_.List("rdagent", row.path, 10, 0);
  EXPECT_NE(rows2->front().history_path.find("_manual_conf_baseline.yaml"), std::string::npos);
}

TEST_F(ConfigServiceTest, SameNamedFilesGetAParentSuffixAndCollisionsNeverOverwrite) {
  clock_.step_ms_ = 0;  // every backup in the same millisecond
  // Make two prompts.yaml writable to exercise their names (readonly ones are only backed up on
  // drift; the naming rule is the same).
  for (auto& t : config_.configs) {
    for (auto& f : t.files) f.readonly = false;
  }
  Rebuild();
  const std::string a = "rdagent:rdagent/scenarios/qlib/experiment/prompts.yaml";
  const std::string b = "rdagent:rdagent/scenarios/qlib/prompts.yaml";
  ASSERT_TRUE(Write(a, Slurp(Disk(a)) + "# 1\n").ok());
  ASSERT_TRUE(Write(a, Slurp(Disk(a)) + "# 2\n").ok());
  ASSERT_TRUE(Write(b, Slurp(Disk(b)) + "# 1\n").ok());
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(ws_ / "history")) {
    if (e.is_regular_file()) names.insert(e.path().filename().string());
  }
  ASSERT_EQ(names.size(), 3u);
  int experiment = 0, qlib = 0, suffixed = 0;
  for (const auto& n : names) {
    if (n.find("_manual_") != std::string::npos && n.find("prompts_experiment.yaml") != std::string::npos) ++experiment;
    if (n.find("_manual_prompts_qlib.yaml") != std::string::npos) ++qlib;
    if (n.find("_manual_1-prompts_experiment.yaml") != std::string::npos) ++suffixed;
  }
  EXPECT_EQ(experiment, 2);
  EXPECT_EQ(qlib, 1);
  EXPECT_EQ(suffixed, 1);
}

TEST_F(ConfigServiceTest, DriftIsShownAndTheUnknownVersionIsBackedUpOnTheNextWrite) {
  const std::string v1 = Slurp(Disk(kBaseline));
  ASSERT_FALSE((*svc_->Read(kBaseline))["drift"].get<bool>());  // first sight: known
  const std::string outside = v1 + "# edited by hand\n";
  Spit(Disk(kBaseline), outside);
  auto read = svc_->Read(kBaseline);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE((*read)["drift"].get<bool>());
  auto w = Write(kBaseline, outside + "# by alphalab\n", Sha256Hex(outside));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_FALSE((*w)["drift_history_id"].is_null());
  auto entry = store_.Get((*w)["drift_history_id"].get<int64_t>());
  EXPECT_EQ(entry->event, "drift");
  EXPECT_NE(entry->note.find("changed outside alphalab"), std::string::npos);
  EXPECT_EQ(Slurp(ws_ / entry->history_path), outside);
  EXPECT_FALSE((*svc_->Read(kBaseline))["drift"].get<bool>());
}

TEST_F(ConfigServiceTest, HistoryDiffAndRollbackWhichIsItselfAHistoryEntry) {
  const std::string v1 = Slurp(Disk(kModelTpl));
  std::string v2 = v1;
  v2.replace(v2.find("market: &market csi300"), 22, "market: &market csi500");
  auto w1 = Write(kModelTpl, v2);
  ASSERT_TRUE(w1.ok());
  const int64_t id_v1 = (*w1)["history_id"];
  const std::string v3 = v2 + "# v3\n";
  ASSERT_TRUE(Write(kModelTpl, v3).ok());

  auto hist = svc_->History(kModelTpl, 10, 0);
  ASSERT_TRUE(hist.ok());
  EXPECT_EQ((*hist)["total"], 2);
  EXPECT_EQ((*hist)["items"][1]["id"], id_v1);
  EXPECT_EQ((*hist)["items"][1]["sha256"], Sha256Hex(v1));

  auto diff = svc_->Diff(kModelTpl, std::to_string(id_v1), "current");
  ASSERT_TRUE(diff.ok());
  const std::string d = (*diff)["diff"];
  EXPECT_NE(d.find("-market: &market csi300\n+market: &market csi500\n"), std::string::npos) << d;
  EXPECT_NE(d.find("+# v3\n"), std::string::npos);
  EXPECT_EQ((*diff)["added"], 2);
  EXPECT_EQ(svc_->Diff(kModelTpl, "banana", "current").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc_->Diff(kModelTpl, "999", "current").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(svc_->Diff(kBaseline, std::to_string(id_v1), "current").status().code(), StatusCode::kNotFound);

  auto rb = svc_->Rollback(kModelTpl, id_v1, "bob", "undo");
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_EQ(Slurp(Disk(kModelTpl)), v1);
  auto hist2 = svc_->History(kModelTpl, 10, 0);
  EXPECT_EQ((*hist2)["total"], 3);
  const Json& top = (*hist2)["items"][0];
  EXPECT_EQ(top["event"], "rollback");
  EXPECT_EQ(top["operator"], "bob");
  EXPECT_EQ(top["sha256"], Sha256Hex(v3));  // the version rolled away from is kept
  EXPECT_NE(top["note"].get<std::string>().find("rollback to #" + std::to_string(id_v1)), std::string::npos);
  EXPECT_EQ(svc_->Rollback(kModelTpl, 999, "bob", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(svc_->Rollback(kBaseline, id_v1, "bob", "").status().code(), StatusCode::kNotFound);
}

// A child process replaces the file in a loop with two versions and is killed with SIGKILL at
// a random moment, many times: the file always parses and is exactly one of the versions.
TEST_F(ConfigServiceTest, AtomicWriteSurvivesKillDashNineAtAnyInstant) {
  const std::string v1 = Slurp(Disk(kModelTpl));
  const std::string v2 = v1 + std::string(200000, '#') + "\n";  // big enough to take a while
  auto roots = ConfinedRoots::Resolve(ws_, {{"rdagent", "tools/rdagent", 1}});
  ASSERT_TRUE(roots.ok());
  const std::string rel = std::string(kModelTpl).substr(8);
  for (int round = 0; round < 20; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int i = 0;; ++i) (void)roots->WriteAtomic("rdagent", rel, (i % 2) ? v2 : v1);
    }
    ::usleep(static_cast<useconds_t>(2000 + (round * 1777) % 15000));
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    const std::string now = Slurp(Disk(kModelTpl));
    ASSERT_TRUE(now == v1 || now == v2) << "torn file after round " << round << " (" << now.size() << " bytes)";
    EXPECT_TRUE(configs::ValidateYaml(now).ok());
  }
}

}  // namespace
}  // namespace alphalab::testing

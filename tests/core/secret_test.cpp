#include "core/secret.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "core/audit_log.hpp"

namespace alphalab {
namespace {

TEST(SecretTest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SecretTest, RandomValuesHaveTheRightShapeAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = RandomBase64Url(32);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->size(), 43u);
    EXPECT_EQ(t->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(RandomBase64Url(1)->size(), 2u);
  EXPECT_EQ(RandomBase64Url(2)->size(), 3u);
  auto h = RandomHex(8);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 16u);
  EXPECT_EQ(h->find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SecretTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(AuditLogTest, AppendsOneJsonLinePerEventAndKeepsOldLines) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("audit_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
  FakeClock clock(TimePoint(std::chrono::seconds(1796083200)));
  AuditLog log(AuditLog::FileIn(dir), clock);
  AuditEvent e;
  e.action = "job.submit";
  e.actor = "alice";
  e.role = "user";
  e.target = "job_1";
  e.remote = "127.0.0.1:5000";
  ASSERT_TRUE(log.Append(e).ok());
  e.action = "job.cancel";
  e.outcome = "denied";
  ASSERT_TRUE(log.Append(e).ok());
  std::ifstream in(dir / "reports" / "audit.log");
  std::string line;
  std::vector<Json> lines;
  while (std::getline(in, line)) lines.push_back(ParseJson(line).value());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["action"], "job.submit");
  EXPECT_EQ(lines[0]["actor"], "alice");
  EXPECT_EQ(lines[0]["ts"], "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(lines[1]["action"], "job.cancel");
  EXPECT_EQ(lines[1]["outcome"], "denied");
  EXPECT_EQ(std::filesystem::status(dir / "reports" / "audit.log").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove_all(dir);
}

TEST(AuditLogTest, AMovedRemovedOrReplacedLogIsFollowedByThePath) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("audit_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
  FakeClock clock(TimePoint(std::chrono::seconds(1796083200)));
  AuditLog log(AuditLog::FileIn(dir), clock);
  const auto file = AuditLog::FileIn(dir);
  auto actions = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string line, out;
    while (std::getline(in, line)) out += ParseJson(line).value()["action"].get<std::string>() + ";";
    return out;
  };
  AuditEvent e;
  e.action = "a";
  ASSERT_TRUE(log.Append(e).ok());
  std::filesystem::rename(file, dir / "reports" / "audit.log.1");  // rotated
  e.action = "b";
  ASSERT_TRUE(log.Append(e).ok());
  e.action = "c";
  ASSERT_TRUE(log.Append(e).ok());
  EXPECT_EQ(actions(dir / "reports" / "audit.log.1"), "a;");
  EXPECT_EQ(actions(file), "b;c;");
  std::filesystem::remove(file);  // removed
  e.action = "d";
  ASSERT_TRUE(log.Append(e).ok());
  EXPECT_EQ(actions(file), "d;");
  std::ofstream(dir / "reports" / "new.log") << R"({"action":"x"})" << "\n";
  std::filesystem::rename(dir / "reports" / "new.log", file);  // replaced
  e.action = "e";
  ASSERT_TRUE(log.Append(e).ok());
  EXPECT_EQ(actions(file), "x;e;");
  {
    AuditLog other(file, clock);  // another writer (the CLI) appends to the same file
    e.action = "f";
    ASSERT_TRUE(other.Append(e).ok());
  }
  e.action = "g";
  ASSERT_TRUE(log.Append(e).ok());
  EXPECT_EQ(actions(file), "x;e;f;g;");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace alphalab

// core/dotenv.hpp: python-dotenv's grammar, secret keys, masking and unmasking.
#include "core/dotenv.hpp"

#include <gtest/gtest.h>

#include "configs/configs_fixture.hpp"  // Slurp

namespace alphalab {
namespace {

TEST(DotenvTest, ReadsWhatPythonDotenvReads) {
  const std::string text =
      "# comment\n"
      "\n"
      "A=plain value  # trailing comment\n"
      "export B=exported\n"
      "C='single # not a comment \\' q'\n"
      "D=\"double\\nline \\\"q\\\"\"\n"
      "E = spaced\n"
      "F=\n"
      "G=a#b\n"
      "H=\"multi\nline\"\n"
      "I=${A}-x\n"
      "J='${A}'\n"
      "K=${MISSING:-fallback}\n";
  auto entries = ParseDotenv(text);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  auto m = DotenvMap(*entries);
  EXPECT_EQ(m["A"], "plain value");
  EXPECT_EQ(m["B"], "exported");
  EXPECT_EQ(m["C"], "single # not a comment ' q");
  EXPECT_EQ(m["D"], "double\nline \"q\"");
  EXPECT_EQ(m["E"], "spaced");
  EXPECT_EQ(m["F"], "");
  EXPECT_EQ(m["G"], "a#b");
  EXPECT_EQ(m["H"], "multi\nline");
  EXPECT_EQ(m["I"], "plain value-x");
  EXPECT_EQ(m["J"], "${A}");
  EXPECT_EQ(m["K"], "fallback");
  EXPECT_EQ((*entries)[7].line, 10);  // H spans lines 10-11
  EXPECT_EQ((*entries)[8].line, 12);
}

TEST(DotenvTest, LinesThatAreNotKeyValueAreErrorsWithTheirLine) {
  for (const auto& [text, line] : std::vector<std::pair<std::string, int>>{
           {"A=1\njust words\n", 2}, {"A=1\n\n=value\n", 3}, {"A=\"unclosed\n", 1}, {"A='x' trailing\n", 1}}) {
    auto r = ParseDotenv(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().details()["line"], line) << text << " " << r.status().message();
    EXPECT_NE(r.status().message().find("line " + std::to_string(line)), std::string::npos);
  }
}

TEST(DotenvTest, SecretKeysAreWordParts) {
  for (const char* k : {"OPENAI_API_KEY", "github-token", "db.password", "AWS_SECRET_ACCESS_KEY", "MY_PASSWD",
                        "GOOGLE_CREDENTIALS", "apikey"}) {
    EXPECT_TRUE(IsSecretKey(k)) << k;
  }
  for (const char* k : {"KEYBOARD", "MONKEY_COUNT", "OPENAI_API_BASE", "CHAT_MODEL", "MAX_RETRY", "TOKENIZER"}) {
    EXPECT_FALSE(IsSecretKey(k)) << k;
  }
}

TEST(DotenvTest, MaskingRoundTripKeepsTheStoredSecretsByteForByte) {
  const std::string env = testing::Slurp(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools/rdagent/.env");
  const std::string masked = MaskDotenv(env);
  EXPECT_EQ(masked.find("sk-chat-key"), std::string::npos);
  EXPECT_EQ(masked.find("sk-embedding-service-key"), std::string::npos);
  EXPECT_NE(masked.find("OPENAI_API_KEY=\"********\""), std::string::npos);
  EXPECT_NE(masked.find("OPENAI_API_BASE=\"https://xxx-litellm.com/v1\""), std::string::npos);
  auto back = UnmaskDotenv(masked, env);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, env);
  // A changed non-secret line with the masks kept: secrets stay, the change lands.
  std::string edited = masked;
  edited.replace(edited.find("CHAT_MODEL='gpt-4o'"), 19, "CHAT_MODEL='gpt-4.1'");
  auto merged = UnmaskDotenv(edited, env);
  ASSERT_TRUE(merged.ok());
  EXPECT_NE(merged->find("OPENAI_API_KEY=\"sk-chat-key\""), std::string::npos);
  EXPECT_NE(merged->find("CHAT_MODEL='gpt-4.1'"), std::string::npos);
  // A masked key that has no stored value is refused.
  auto orphan = UnmaskDotenv("NEW_TOKEN=********\n", env);
  ASSERT_FALSE(orphan.ok());
  EXPECT_NE(orphan.status().message().find("NEW_TOKEN"), std::string::npos);
}

TEST(DotenvTest, TheRealRdagentEnvParses) {
  const std::string env = testing::Slurp(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools/rdagent/.env");
  auto entries = ParseDotenv(env);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  auto m = DotenvMap(*entries);
  EXPECT_EQ(m["CHAT_MODEL"], "gpt-4o");
  EXPECT_EQ(m["MAX_RETRY"], "10");
  EXPECT_EQ(m["EMBEDDING_MODEL"], "litellm_proxy/BAAI/bge-large-en-v1.5");
}

// RD-Agent's .env.example unchanged (tests/fixtures/rdagent/): its leading """ docstring is not
// KEY=VALUE, so a write of it is refused naming line 1, yet reading it still masks every key; the
// example workspace's .env is the same file without those nine lines.
TEST(DotenvTest, RdAgentEnvExampleDocstringIsRefusedButStillMasked) {
  const fs::path src(ALPHALAB_SOURCE_DIR);
  const std::string example = testing::Slurp(src / "tests/fixtures/rdagent/env.example");
  auto parsed = ParseDotenv(example);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().details().value("line", 0), 1);
  const std::string masked = MaskDotenv(example);
  EXPECT_EQ(masked.find("sk-chat-key"), std::string::npos);
  EXPECT_EQ(masked.find("sk-embedding-service-key"), std::string::npos);
  EXPECT_NE(masked.find("OPENAI_API_KEY=********"), std::string::npos);
  EXPECT_NE(masked.find("CHAT_MODEL='gpt-4o'"), std::string::npos);

  size_t after_docstring = 0;
  for (int i = 0; i < 9; ++i) after_docstring = example.find('\n', after_docstring) + 1;
  EXPECT_EQ(example.substr(after_docstring), testing::Slurp(src / "examples/workspace/tools/rdagent/.env"));
  auto rest = ParseDotenv(example.substr(after_docstring));
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
}

}  // namespace
}  // namespace alphalab

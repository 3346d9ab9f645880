// core/yaml_secrets.hpp: secret values of managed YAML files masked on the way out and kept,
// byte for byte, when ******** comes back.
#include "core/yaml_secrets.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace alphalab {
namespace {

const char* const kText =
    "# llm settings\r\n"
    "llm:\r\n"
    "  base_url: http://127.0.0.1:9/v1\r\n"
    "  api_key: sk-live-123   # rotate monthly\r\n"
    "  monkey_count: 3\r\n"
    "db:\n"
    "  password: 'p@ss''word'\n"
    "  token: \"tok\\\"en\"\n"
    "  empty_secret: \"\"\n"
    "  null_token: null\n"
    "private_key: |\n"
    "  -----BEGIN KEY-----\n"
    "  abc\n"
    "\n"
    "  def\n"
    "\n"
    "accounts:\n"
    "  - name: a\n"
    "    secret: first\n"
    "  - name: b\n"
    "    secret: second\n"
    "market: csi300\n";

TEST(YamlSecretsTest, MasksSecretValuesOnlyAndTheMaskedTextStillParses) {
  const std::string masked = MaskYamlSecrets(kText);
  for (const char* hidden : {"sk-live-123", "p@ss", "tok\\\"en", "BEGIN KEY", "abc", "def", "first", "second"}) {
    EXPECT_EQ(masked.find(hidden), std::string::npos) << hidden << "\n" << masked;
  }
  for (const char* kept : {"  api_key: \"********\"   # rotate monthly\r\n", "monkey_count: 3", "base_url: http://127.0.0.1:9/v1",
                           "  password: \"********\"\n", "empty_secret: \"\"", "null_token: null",
                           "private_key: \"********\"\n\naccounts:", "    secret: \"********\"\n  - name: b",
                           "market: csi300\n"}) {
    EXPECT_NE(masked.find(kept), std::string::npos) << kept << "\n" << masked;
  }
  const YAML::Node n = YAML::Load(masked);
  EXPECT_EQ(n["llm"]["api_key"].as<std::string>(), "********");
  EXPECT_EQ(n["accounts"][1]["secret"].as<std::string>(), "********");
  EXPECT_EQ(n["market"].as<std::string>(), "csi300");
  // Idempotent; a file without secrets is returned as it is.
  EXPECT_EQ(MaskYamlSecrets(masked), masked);
  EXPECT_EQ(MaskYamlSecrets("market: csi300\nsegments: {train: [2008-01-01, 2014-12-31]}\n"),
            "market: csi300\nsegments: {train: [2008-01-01, 2014-12-31]}\n");
}

TEST(YamlSecretsTest, WritingTheMaskBackKeepsEveryStoredValueByteForByte) {
  const std::string masked = MaskYamlSecrets(kText);
  auto back = UnmaskYamlSecrets(masked, kText);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, kText);
  // An edit elsewhere keeps the secrets; a bare ******** (as typed) works too; a changed secret
  // is taken as sent.
  std::string edited = masked;
  edited.replace(edited.find("market: csi300"), 14, "market: csi500");
  edited.replace(edited.find("  password: \"********\""), 22, "  password: ********");
  edited.replace(edited.find("    secret: \"********\"\n  - name: b"), 22, "    secret: changed");
  auto kept = UnmaskYamlSecrets(edited, kText);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  std::string expected = kText;
  expected.replace(expected.find("market: csi300"), 14, "market: csi500");
  expected.replace(expected.find("    secret: first"), 17, "    secret: changed");
  EXPECT_EQ(*kept, expected);
}

TEST(YamlSecretsTest, AMaskWithNoStoredValueIsRefusedNamingItsLineAndKey) {
  auto r = UnmaskYamlSecrets("llm:\n  base_url: x\n  new_token: \"********\"\n", kText);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().details()["line"], 3);
  EXPECT_EQ(r.status().details()["key"], "llm.new_token");
  auto other_path = UnmaskYamlSecrets(MaskYamlSecrets(kText) + "extra:\n  - secret: ********\n", kText);
  ASSERT_FALSE(other_path.ok());
  EXPECT_EQ(other_path.status().details()["key"], "extra.secret");
  // A third list item has no stored secret (occurrences pair up in order).
  auto missing = UnmaskYamlSecrets("accounts:\n  - secret: a\n  - secret: b\n  - secret: ********\n", kText);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().details()["key"], "accounts.secret");
}

}  // namespace
}  // namespace alphalab

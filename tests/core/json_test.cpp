#include "core/json.hpp"

#include <gtest/gtest.h>

namespace alphalab {
namespace {

TEST(JsonTest, ParseRejectsGarbageWithoutThrowing) {
  EXPECT_TRUE(ParseJson("{\"a\": 1}").ok());
  EXPECT_TRUE(ParseJson("{\"a\": ").status().IsInvalidArgument());
  EXPECT_TRUE(ParseJson("").status().IsInvalidArgument());
}

TEST(JsonTest, TypedGettersNameTheField) {
  const Json j = Json::parse(R"({"s": "x", "i": 3, "f": 2.5, "b": true, "n": null, "l": ["a", "b"]})");
  EXPECT_EQ(*GetString(j, "s"), "x");
  EXPECT_EQ(*GetInt(j, "i"), 3);
  EXPECT_DOUBLE_EQ(*GetDouble(j, "f"), 2.5);
  EXPECT_TRUE(*GetBool(j, "b"));
  EXPECT_FALSE(GetOptionalString(j, "n")->has_value());
  EXPECT_FALSE(GetOptionalString(j, "missing")->has_value());
  EXPECT_EQ(GetStringList(j, "l")->size(), 2u);
  EXPECT_EQ(*GetStringOr(j, "s", "d"), "x");
  EXPECT_EQ(*GetStringOr(j, "n", "d"), "d");
  EXPECT_EQ(*GetStringOr(j, "missing", "d"), "d");
  EXPECT_FALSE(GetStringOr(j, "i", "d").ok());  // present with the wrong type

  auto wrong = GetString(j, "i");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("'i'"), std::string::npos);
  auto missing = GetInt(j, "zzz");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing required field 'zzz'"), std::string::npos);
  EXPECT_FALSE(GetInt(j, "f").ok());  // 2.5 is not an integer
  EXPECT_FALSE(GetStringList(j, "s").ok());
}

TEST(JsonTest, UnknownKeysAreRefused) {
  const Json j = Json::parse(R"({"config_path": "a", "config_pth": "b"})");
  Status s = CheckKnownKeys(j, {"config_path", "overrides"});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("config_pth"), std::string::npos);
  EXPECT_TRUE(CheckKnownKeys(Json::parse(R"({"config_path": "a"})"), {"config_path"}).ok());
  EXPECT_FALSE(CheckKnownKeys(Json::array(), {"x"}).ok());
}

TEST(JsonTest, DumpReplacesInvalidUtf8) {
  const Json j = std::string("ok\xff");
  EXPECT_EQ(DumpJson(j), "\"ok\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace alphalab

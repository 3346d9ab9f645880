#include "core/json.hpp"

#include <gtest/gtest.h>

namespace alphalab {
namespace {

TEST(JsonTest, ParseRejectsGarbageWithoutThrowing) {
  EXPECT_TRUE(ParseJson("{\"a\": 1}").ok());
  EXPECT_TRUE(ParseJson("{\"a\": ").status().IsInvalidArgument());
  EXPECT_TRUE(ParseJson("").status().IsInvalidArgument());
}

std::string Nested(int depth, char open, char close, std::string_view leaf = "1") {
  std::string s(static_cast<size_t>(depth), open);
  s += leaf;
  s += std::string(static_cast<size_t>(depth), close);
  return s;
}

TEST(JsonTest, NestingDeeperThanTheLimitIsRefusedWhileParsing) {
  // 64 levels are fine, 65 are not; arrays and objects count alike.
  EXPECT_TRUE(ParseJson(Nested(kMaxJsonDepth, '[', ']')).ok());
  auto deep = ParseJson(Nested(kMaxJsonDepth + 1, '[', ']'));
  ASSERT_FALSE(deep.ok());
  EXPECT_TRUE(deep.status().IsInvalidArgument());
  EXPECT_NE(deep.status().message().find("nested deeper than 64"), std::string::npos);
  std::string objects;
  for (int i = 0; i < 70; ++i) objects += "{\"a\":";
  objects += "1" + std::string(70, '}');
  EXPECT_TRUE(ParseJson(objects).status().IsInvalidArgument());
  // Wide but shallow documents with many brackets still parse (the slow path is exact).
  std::string wide = "[";
  for (int i = 0; i < 500; ++i) wide += std::string(i ? "," : "") + "[{\"k\":[1]}]";
  wide += "]";
  auto w = ParseJson(wide);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->size(), 500u);
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJson("{\"s\":\"" + std::string(1000, '[') + "\"}").ok());
}

TEST(JsonTest, HugelyNestedBodyIsRefusedAndNothingRecurses) {
  // The shape that crashed the server: ~70,000 levels (~420 KB) inside a params object.
  std::string body = "{\"job_type\":\"train\",\"params\":" + Nested(70000, '[', ']') + "}";
  body += std::string(420000 - std::min<size_t>(body.size(), 420000), ' ');
  auto r = ParseJson(body);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  // Copying and dumping the error details must not recurse either.
  Json copy = r.status().details();
  EXPECT_EQ(copy["max_depth"], kMaxJsonDepth);
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

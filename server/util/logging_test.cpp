// Log field rendering: JSON values are valid JSON with every string escaped (quotes, control
// characters, invalid UTF-8), and text values are quoted exactly when logfmt needs it.
#include "server/util/logging.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using rootgate::server::AppendJsonString;
using rootgate::server::LogValue;

namespace {

std::string Json(const LogValue& v) {
  std::string s;
  v.AppendJson(&s);
  return s;
}

std::string Text(const LogValue& v) {
  std::string s;
  v.AppendText(&s);
  return s;
}

}  // namespace

TEST_CASE("logging: JSON values parse back to what went in") {
  const std::string tricky = "a\"b\\c\nd\x01 é";
  CHECK(nlohmann::json::parse(Json(LogValue(tricky))) == tricky);
  CHECK(Json(LogValue(42)) == "42");
  CHECK(Json(LogValue(size_t{7})) == "7");
  CHECK(Json(LogValue(true)) == "true");
  CHECK(nlohmann::json::parse(Json(LogValue(0.25))) == 0.25);
  const std::vector<std::string_view> rules = {"rootUser", "privileged"};
  CHECK(nlohmann::json::parse(Json(LogValue(rules))) == nlohmann::json({"rootUser", "privileged"}));
}

TEST_CASE("logging: invalid UTF-8 is replaced, never passed through") {
  std::string s;
  AppendJsonString(&s, std::string("ok\xff\xc3(end"));
  const auto parsed = nlohmann::json::parse(s);  // throws on invalid UTF-8
  CHECK(parsed == "ok\xEF\xBF\xBD\xEF\xBF\xBD(end");
}

TEST_CASE("logging: text values are quoted only when needed") {
  CHECK(Text(LogValue("plain")) == "plain");
  CHECK(Text(LogValue("two words")) == "\"two words\"");
  CHECK(Text(LogValue("")) == "\"\"");
  CHECK(Text(LogValue("a=b")) == "\"a=b\"");
  const std::vector<std::string_view> rules = {"rootUser", "privileged"};
  CHECK(Text(LogValue(rules)) == "rootUser,privileged");
  CHECK(Text(LogValue(3)) == "3");
}

TEST_CASE("logging: text values keep UTF-8 whole and replace what is not UTF-8") {
  CHECK(Text(LogValue("caf\xC3\xA9")) == "caf\xC3\xA9");
  CHECK(Text(LogValue("\xF0\x9F\x98\x80")) == "\xF0\x9F\x98\x80");
  CHECK(Text(LogValue("ok\xFF\xC3(end")) == "ok\xEF\xBF\xBD\xEF\xBF\xBD(end");
  CHECK(Text(LogValue("cut\xE2\x82")) == "cut\xEF\xBF\xBD");  // one U+FFFD for the cut sequence
}

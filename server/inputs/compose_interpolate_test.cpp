// Interpolate and ParseDotEnv against compose-spec 12-interpolation.md: each expected value is
// written from the specification's table of forms, not from the program's output.
#include "server/inputs/compose_interpolate.h"

#include <doctest/doctest.h>

#include <vector>

namespace {

using rootgate::server::compose::Environment;
using rootgate::server::compose::Interpolate;
using rootgate::server::compose::ParseDotEnv;

struct Row {
  const char* text;
  const char* expected;  // the value, or the start of the error after "!"
};

const Environment kEnv = {{"SET", "v"}, {"EMPTY", ""}, {"UID", "1001"}};

const std::vector<Row> kRows = {
    {"plain", "plain"},
    {"$SET", "v"},
    {"${SET}", "v"},
    {"a${SET}b$SET.c", "avbv.c"},  // an unbraced name ends at the first other character
    {"${UNSET}", ""},
    {"$UNSET", ""},
    {"${UNSET:-d}", "d"},
    {"${EMPTY:-d}", "d"},
    {"${SET:-d}", "v"},
    {"${UNSET-d}", "d"},
    {"${EMPTY-d}", ""},
    {"${UNSET:+alt}", ""},
    {"${EMPTY:+alt}", ""},
    {"${SET:+alt}", "alt"},
    {"${EMPTY+alt}", "alt"},
    {"${UNSET+alt}", ""},
    {"${UNSET:-${SET}}", "v"},
    {"${UNSET:-${ALSO:-${UID}}}", "1001"},
    {"$$", "$"},
    {"$${SET}", "${SET}"},
    {"${UNSET:-$$}", "$"},
    {"${SET:?needed}", "v"},
    {"${EMPTY?needed}", ""},
    {"${UNSET:?set it}", "!required variable UNSET is missing a value: set it"},
    {"${EMPTY:?set it}", "!required variable EMPTY is empty: set it"},
    {"${UNSET?}", "!required variable UNSET is missing a value"},
    {"cost $5", "!invalid interpolation in \"cost $5\""},
    {"end $", "!invalid interpolation"},
    {"${SET", "!invalid interpolation in \"${SET\": unterminated ${"},
    {"${}", "!invalid interpolation"},
    {"${SET:x}", "!invalid interpolation"},
};

}  // namespace

TEST_CASE("Interpolate: the forms of compose-spec 12-interpolation.md") {
  for (const Row& row : kRows) {
    CAPTURE(row.text);
    const auto got = Interpolate(row.text, kEnv);
    const std::string expected = row.expected;
    if (expected.starts_with("!")) {
      REQUIRE_FALSE(got.ok());
      CHECK(got.error().starts_with(expected.substr(1)));
    } else {
      REQUIRE_MESSAGE(got.ok(), got.error());
      CHECK(got.value() == expected);
    }
  }
}

TEST_CASE("ParseDotEnv: quoting, comments, export, references, and errors naming the line") {
  const auto env = ParseDotEnv(
      "# comment\n"
      "\n"
      "export A=1\n"
      "B = two words  # trailing comment\n"
      "C='${A} stays'\n"
      "D=\"${A}\\n$$x\\$y\"\n"
      "E=${A}${SHELL_ONLY:-z}\n"
      "FROM_SHELL\n"
      "NOT_IN_SHELL\n",
      {{"FROM_SHELL", "s"}});
  REQUIRE_MESSAGE(env.ok(), env.error());
  const Environment expected = {{"A", "1"},         {"B", "two words"}, {"C", "${A} stays"},
                                {"D", "1\n$x$y"},   {"E", "1z"},        {"FROM_SHELL", "s"}};
  CHECK(env.value() == expected);
  // The process environment comes first when a value refers to a variable.
  CHECK(ParseDotEnv("A=file\nB=${A}\n", {{"A", "shell"}}).value().at("B") == "shell");
  const auto bad = ParseDotEnv("A=1\n=2\n", {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "line 2: expected KEY=VALUE, got \"=2\"");
  const auto open = ParseDotEnv("A=1\nB=\"x\n", {});
  REQUIRE_FALSE(open.ok());
  CHECK(open.error() == "line 2: B: unterminated \" quote");
  CHECK_FALSE(ParseDotEnv("A=${B:?no B}\n", {}).ok());
}

// ParseGoDuration and FormatDuration against Go's time.ParseDuration and Duration.String
// (expected values written from Go's documentation).
#include "server/util/duration.h"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using rootgate::server::FormatDuration;
using rootgate::server::ParseGoDuration;

TEST_CASE("ParseGoDuration accepts what Go accepts") {
  CHECK(ParseGoDuration("10s") == 10s);
  CHECK(ParseGoDuration("2.5s") == 2500ms);
  CHECK(ParseGoDuration(".5s") == 500ms);
  CHECK(ParseGoDuration("1m30s") == 90s);
  CHECK(ParseGoDuration("1.5h") == 90min);
  CHECK(ParseGoDuration("300us") == 300us);
  CHECK(ParseGoDuration("300\xC2\xB5s") == 300us);
  CHECK(ParseGoDuration("7ns") == 7ns);
  CHECK(ParseGoDuration("-2s") == -2s);
  CHECK(ParseGoDuration("+2s") == 2s);
  CHECK(ParseGoDuration("0") == 0s);
}

TEST_CASE("ParseGoDuration refuses what Go refuses") {
  for (const char* bad : {"", "1", "s", "1x", "1.s.", "--1s", "1s ", " 1s", ".s", "9999999999999h"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseGoDuration(bad).has_value());
  }
}

TEST_CASE("FormatDuration") {
  CHECK(FormatDuration(10s) == "10s");
  CHECK(FormatDuration(2500ms) == "2.5s");
  CHECK(FormatDuration(500ms) == "500ms");
  CHECK(FormatDuration(750us) == "750us");
  CHECK(FormatDuration(0s) == "0s");
}

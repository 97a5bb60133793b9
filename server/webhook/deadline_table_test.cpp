// DeadlineTable: which sockets are past their deadline at a given time, paused entries never,
// each expired socket reported once, and a removed key never.
#include "server/webhook/deadline_table.h"

#include <doctest/doctest.h>

namespace {

using rootgate::server::DeadlineTable;
using namespace std::chrono_literals;

const DeadlineTable::TimePoint t0{std::chrono::seconds(1000)};

int a = 0, b = 0, c = 0;  // keys: their addresses

}  // namespace

TEST_CASE("deadline table: expired sockets, once each, in deadline order of none") {
  DeadlineTable table;
  CHECK(table.Add(&a, 10, t0 + 1s));
  CHECK(table.Add(&b, 11, t0 + 2s));
  CHECK_FALSE(table.Add(&a, 12, t0));  // tracked already: unchanged
  CHECK(table.Earliest() == t0 + 1s);
  CHECK(table.TakeExpired(t0).empty());
  CHECK(table.TakeExpired(t0 + 1s) == std::vector<int>{10});  // at the deadline counts
  CHECK(table.TakeExpired(t0 + 1s).empty());                  // reported once
  CHECK(table.size() == 1);
  CHECK(table.Earliest() == t0 + 2s);
  CHECK(table.TakeExpired(t0 + 5s) == std::vector<int>{11});
  CHECK_FALSE(table.Earliest().has_value());
}

TEST_CASE("deadline table: paused until set again; set moves the deadline; removed is gone") {
  DeadlineTable table;
  table.Add(&a, 10, t0 + 1s);
  table.Add(&b, 11, t0 + 1s);
  table.Add(&c, 12, t0 + 1s);
  table.Pause(&a);
  table.Set(&b, t0 + 10s);
  table.Remove(&c);
  table.Set(&c, t0);    // untracked: ignored
  table.Remove(&c);     // twice: ignored
  CHECK(table.Earliest() == t0 + 10s);
  CHECK(table.TakeExpired(t0 + 5s).empty());
  table.Set(&a, t0 + 6s);  // the paused one's reply went out: a new deadline
  CHECK(table.TakeExpired(t0 + 6s) == std::vector<int>{10});
  CHECK(table.TakeExpired(t0 + 60s) == std::vector<int>{11});
  CHECK(table.size() == 0);
}

#include "server/util/duration.h"

#include <cstdint>
#include <cstdio>
#include <limits>

namespace rootgate::server {

namespace {

constexpr int64_t kMaxNs = std::numeric_limits<int64_t>::max();

// The unit at the front of `s` and its length in nanoseconds; 0 when there is none.
int64_t TakeUnit(std::string_view* s) {
  static constexpr struct {
    std::string_view name;
    int64_t ns;
  } kUnits[] = {{"ns", 1},
                {"us", 1'000},
                {"\xC2\xB5s", 1'000},  // µ (micro sign)
                {"\xCE\xBCs", 1'000},  // μ (Greek mu)
                {"ms", 1'000'000},
                {"s", 1'000'000'000},
                {"m", 60'000'000'000},
                {"h", 3'600'000'000'000}};
  int64_t best = 0;
  size_t best_len = 0;
  for (const auto& u : kUnits) {
    // Longest match, so "ms" is not read as "m" followed by "s".
    if (s->substr(0, u.name.size()) == u.name && u.name.size() > best_len) {
      best = u.ns;
      best_len = u.name.size();
    }
  }
  s->remove_prefix(best_len);
  return best;
}

// One "<number><unit>" term in nanoseconds, consumed from the front of `s`.
std::optional<int64_t> TakeTerm(std::string_view* s) {
  uint64_t whole = 0, frac = 0, frac_scale = 1;
  size_t digits = 0;
  while (!s->empty() && (*s)[0] >= '0' && (*s)[0] <= '9') {
    if (whole > static_cast<uint64_t>(kMaxNs) / 10) return std::nullopt;
    whole = whole * 10 + static_cast<uint64_t>((*s)[0] - '0');
    s->remove_prefix(1);
    ++digits;
  }
  if (!s->empty() && (*s)[0] == '.') {
    s->remove_prefix(1);
    while (!s->empty() && (*s)[0] >= '0' && (*s)[0] <= '9') {
      if (frac_scale < 1'000'000'000'000'000ULL) {  // further digits are below a nanosecond
        frac = frac * 10 + static_cast<uint64_t>((*s)[0] - '0');
        frac_scale *= 10;
      }
      s->remove_prefix(1);
      ++digits;
    }
  }
  if (digits == 0) return std::nullopt;
  const int64_t unit = TakeUnit(s);
  if (unit == 0) return std::nullopt;
  if (whole > static_cast<uint64_t>(kMaxNs / unit)) return std::nullopt;
  const long double fraction = static_cast<long double>(frac) / frac_scale * unit;
  return static_cast<int64_t>(whole) * unit + static_cast<int64_t>(fraction);
}

}  // namespace

std::optional<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  while (!text.empty()) {
    auto term = TakeTerm(&text);
    if (!term || *term > kMaxNs - total) return std::nullopt;
    total += *term;
  }
  return std::chrono::nanoseconds(negative ? -total : total);
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  const int64_t abs = ns < 0 ? -ns : ns;
  char buf[48];
  if (abs == 0) return "0s";
  if (abs < 1'000) {
    std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  } else if (abs < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.6gus", static_cast<double>(ns) / 1e3);
  } else if (abs < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.6gms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.9gs", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

}  // namespace rootgate::server

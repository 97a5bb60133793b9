#include "server/util/byte_size.h"

#include <charconv>
#include <cstdint>
#include <map>
#include <string>

namespace rootgate::server {

Result<size_t> ParseByteSize(std::string_view text) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return Error{"expected a byte count such as 8Mi"};
  std::string_view suffix(end, static_cast<size_t>(text.data() + text.size() - end));
  if (!suffix.empty() && suffix.back() == 'B') suffix.remove_suffix(1);
  static const std::map<std::string_view, size_t> kScale = {
      {"", 1},          {"K", 1000},       {"Ki", 1024},      {"M", 1000'000},
      {"Mi", 1u << 20}, {"G", 1000'000'000}, {"Gi", 1u << 30}};
  auto it = kScale.find(suffix);
  if (it == kScale.end()) return Error{"unknown size suffix \"" + std::string(suffix) + "\""};
  if (n > SIZE_MAX / it->second) return Error{"too large"};
  return n * it->second;
}

}  // namespace rootgate::server

#include "policy/platform.h"

#include <vector>

namespace rootgate::policy {

std::string Platform::String() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

bool Platform::Accepts(const Platform& entry) const {
  if (entry.os != os || entry.architecture != architecture) return false;
  if (variant.empty()) return true;
  if (entry.variant.empty()) return architecture == "arm64" && variant == "v8";
  return entry.variant == variant;
}

Result<Platform> ParsePlatform(std::string_view text) {
  Platform p;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  bool ok = (parts.size() == 2 || parts.size() == 3);
  for (const std::string& part : parts) ok = ok && !part.empty();
  if (!ok) return Error{"platform \"" + std::string(text) + "\": expected os/arch[/variant]"};
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return p;
}

}  // namespace rootgate::policy

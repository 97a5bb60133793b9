// rootgate's logs: spdlog to stderr, one line per event, either a JSON object per line
// (--log-format json: {"time":..., "level":..., "msg":..., fields...}) or text
// ("time level msg key=value ...", values quoted when needed). Callers pass typed fields and
// never build JSON by hand; strings are escaped, and invalid UTF-8 is replaced. Credentials
// and request bodies are never passed in. Thread-safe (spdlog's _mt sink).
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "server/util/json_text.h"  // AppendJsonString, used by the log formats

namespace rootgate::server {

enum class LogFormat { kJson, kText };

std::optional<LogFormat> LogFormatFromName(std::string_view name);  // "json", "text"
// "debug", "info", "warn", "error", "off".
std::optional<spdlog::level::level_enum> LogLevelFromName(std::string_view name);

// Makes the default spdlog logger write to stderr in `format` at `level` and above.
void SetupLogging(LogFormat format, spdlog::level::level_enum level);

// One field value: a string, a number, a boolean, or a list of strings.
class LogValue {
 public:
  enum class Type { kString, kInt, kDouble, kBool, kList };
  LogValue(std::string_view s) : type_(Type::kString), str_(s) {}          // NOLINT
  LogValue(const char* s) : type_(Type::kString), str_(s) {}               // NOLINT
  LogValue(const std::string& s) : type_(Type::kString), str_(s) {}        // NOLINT
  LogValue(bool b) : type_(Type::kBool), int_(b) {}                        // NOLINT
  LogValue(double d) : type_(Type::kDouble), double_(d) {}                 // NOLINT
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  LogValue(T i) : type_(Type::kInt), int_(static_cast<int64_t>(i)) {}      // NOLINT
  LogValue(const std::vector<std::string_view>& l) : type_(Type::kList), list_(&l) {}  // NOLINT

  // Appends the value as JSON or as a text (logfmt) value.
  void AppendJson(std::string* out) const;
  void AppendText(std::string* out) const;

 private:
  Type type_;
  std::string_view str_;
  int64_t int_ = 0;
  double double_ = 0;
  const std::vector<std::string_view>* list_ = nullptr;
};

struct LogField {
  std::string_view key;
  LogValue value;
};

// Logs one event at `level` with `fields`, in the configured format. Does nothing (and costs
// one comparison) when the level is disabled.
void Log(spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<LogField> fields = {});

// Writes out lines held back at least once a second, from a thread of spdlog's. Call it after
// BlockShutdownSignals: a thread started earlier would receive SIGTERM and die of it.
void StartLogFlusher();

// Log, then write out at once every line held back (lines are written in batches under load):
// for the rare events people and scripts wait for — listening, reloads, shutting down.
void LogNow(spdlog::level::level_enum level, std::string_view msg,
            std::initializer_list<LogField> fields = {});

}  // namespace rootgate::server

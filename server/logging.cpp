#include "server/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cstdio>

namespace rootgate::server {

namespace {

std::atomic<LogFormat> g_format{LogFormat::kJson};

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2)) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

bool NeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

}  // namespace

void LogValue::AppendJson(std::string* out) const {
  switch (type_) {
    case Type::kString: AppendJsonString(out, str_); break;
    case Type::kInt: out->append(std::to_string(int_)); break;
    case Type::kBool: out->append(int_ ? "true" : "false"); break;
    case Type::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", double_);
      out->append(buf);
      break;
    }
    case Type::kList:
      out->push_back('[');
      for (size_t i = 0; i < list_->size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendJsonString(out, (*list_)[i]);
      }
      out->push_back(']');
      break;
  }
}

void LogValue::AppendText(std::string* out) const {
  if (type_ == Type::kList) {
    std::string joined;
    for (size_t i = 0; i < list_->size(); ++i) joined.append(i ? "," : "").append((*list_)[i]);
    LogValue(std::string_view(joined)).AppendText(out);
    return;
  }
  if (type_ != Type::kString) return AppendJson(out);
  if (NeedsQuotes(str_)) return AppendJsonString(out, str_);
  for (size_t i = 0; i < str_.size(); ++i) {
    out->append(Utf8Length(str_, i) == 0 ? "\xEF\xBF\xBD" : str_.substr(i, 1));
  }
}

std::optional<LogFormat> LogFormatFromName(std::string_view name) {
  if (name == "json") return LogFormat::kJson;
  if (name == "text") return LogFormat::kText;
  return std::nullopt;
}

std::optional<spdlog::level::level_enum> LogLevelFromName(std::string_view name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

void SetupLogging(LogFormat format, spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>(
      "rootgate", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // JSON: the message part (%v) is `"msg":"...",fields`, completed by Log.
  const char* pattern = format == LogFormat::kJson
                            ? R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})"
                            : "%Y-%m-%dT%H:%M:%S.%eZ %l %v";
  logger->set_formatter(
      std::make_unique<spdlog::pattern_formatter>(pattern, spdlog::pattern_time_type::utc));
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  g_format.store(format);
  spdlog::set_default_logger(std::move(logger));
}

void Log(spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<LogField> fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  std::string line;
  line.reserve(256);
  if (g_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    line.append("\"msg\":");
    AppendJsonString(&line, msg);
    for (const LogField& f : fields) {
      line.push_back(',');
      AppendJsonString(&line, f.key);
      line.push_back(':');
      f.value.AppendJson(&line);
    }
  } else {
    line.append(msg);
    for (const LogField& f : fields) {
      line.push_back(' ');
      line.append(f.key).push_back('=');
      f.value.AppendText(&line);
    }
  }
  logger->log(level, std::string_view(line));
}

}  // namespace rootgate::server

#include "server/util/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace rootgate::server {

namespace {

// Log lines to stderr (fd 2), written in batches under load. A write(2) per line was a
// measurable share of a decision's cost at tens of thousands of decisions a second, so a line
// is held back when another write happened less than kBatchInterval ago; warnings and errors
// flush at once (flush_on), and spdlog's periodic flusher writes out a held tail within a
// second, as does shutdown. At a few requests a second every line is written as it comes.
class BatchingStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr std::chrono::milliseconds kBatchInterval{200};
  static constexpr size_t kMaxHeld = 64 * 1024;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    held_.append(formatted.data(), formatted.size());
    const auto now = std::chrono::steady_clock::now();
    if (now - last_write_ >= kBatchInterval || held_.size() >= kMaxHeld) flush_();
  }

  void flush_() override {
    last_write_ = std::chrono::steady_clock::now();
    size_t done = 0;
    while (done < held_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, held_.data() + done, held_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: the lines are dropped, the server goes on
      done += static_cast<size_t>(n);
    }
    held_.clear();
  }

 private:
  std::string held_;
  std::chrono::steady_clock::time_point last_write_{};
};

std::atomic<LogFormat> g_format{LogFormat::kJson};

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
  for (size_t i = 0; i < str_.size();) {
    size_t valid = 0;
    const size_t length = Utf8SequenceLength(str_.substr(i), &valid);
    out->append(length != 0 ? str_.substr(i, length) : std::string_view("\xEF\xBF\xBD"));
    i += length != 0 ? length : std::max<size_t>(valid, 1);
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
      "rootgate", std::make_shared<BatchingStderrSink>());
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

void StartLogFlusher() { spdlog::flush_every(std::chrono::seconds(1)); }

void LogNow(spdlog::level::level_enum level, std::string_view msg,
            std::initializer_list<LogField> fields) {
  Log(level, msg, fields);
  spdlog::default_logger_raw()->flush();
}

}  // namespace rootgate::server

#include "server/cli/check_stream.h"
#include "server/inputs/check_text.h"

#include <fstream>
#include <iostream>
#include <map>
#include <streambuf>

#include <nlohmann/json.hpp>

#include "server/report/check_output_formats.h"

namespace rootgate::server {

namespace {

using nlohmann::json;

// Serves `head` (already read), then the rest of `tail`; frees `head` once it is consumed.
class ChainBuf final : public std::streambuf {
 public:
  ChainBuf(std::string head, std::istream& tail) : head_(std::move(head)), tail_(tail) {
    setg(head_.data(), head_.data(), head_.data() + head_.size());
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!head_.empty()) std::string().swap(head_);
    tail_.read(buf_, sizeof buf_);
    const std::streamsize n = tail_.gcount();
    if (n <= 0) return traits_type::eof();
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string head_;
  std::istream& tail_;
  char buf_[1 << 16];
};

// Prints each result as it comes, keeping counts and the namespace rows.
class StreamPrinter {
 public:
  StreamPrinter(OutputFormat format, bool colour, std::ostream& out) : format_(format), colour_(colour), out_(out) {}

  void Result(const CheckResult& r) {
    CountNamespaceRow(r, &rows_);
    if (r.skipped) {
      ++skipped_;
    } else {
      ++(r.decision.allowed ? allowed_ : denied_);
    }
    if (format_ == OutputFormat::kJson) {
      out_ << (first_ ? "{\"results\": [\n  " : ",\n  ")
           << CheckResultJson(r).dump(-1, ' ', false, json::error_handler_t::replace);
      first_ = false;
    } else {
      PrintResultText(r, colour_, out_);
    }
  }

  void Finish(const std::vector<CheckError>& errors) {
    if (format_ == OutputFormat::kJson) {
      json errs = json::array();
      for (const CheckError& e : errors) {
        errs.push_back({{"source", e.source}, {"document", e.document}, {"line", e.line}, {"message", e.message}});
      }
      const json summary = {{"checked", allowed_ + denied_}, {"allowed", allowed_}, {"denied", denied_},
                            {"skipped", skipped_}, {"errors", errors.size()}};
      out_ << (first_ ? "{\"results\": [" : "\n") << "],\n \"errors\": "
           << errs.dump(-1, ' ', false, json::error_handler_t::replace) << ",\n \"summary\": " << summary.dump() << "}\n";
      return;
    }
    if (rows_.size() >= 2) PrintNamespaceRows(rows_, out_);
    PrintCheckedLine(allowed_, denied_, skipped_, errors.size(), colour_, out_);
  }

  bool denied() const { return denied_ > 0; }

 private:
  OutputFormat format_;
  bool colour_;
  std::ostream& out_;
  bool first_ = true;
  size_t allowed_ = 0, denied_ = 0, skipped_ = 0;
  std::map<std::string, NamespaceRow> rows_;
};

// The parse callback: elements of the top-level "items" array are checked and dropped.
class ItemChecker {
 public:
  ItemChecker(const std::string& source, const policy::Policy& policy, const policy::ImageFacts& facts,
              StreamPrinter& printer, std::vector<CheckError>& errors)
      : source_(source), policy_(policy), facts_(facts), printer_(printer), errors_(errors) {}

  bool operator()(int, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    if (event == E::object_start || event == E::array_start) {
      if (stack_.size() == 1) in_items_ = key_ == "items" && event == E::array_start;
      stack_.push_back(event == E::object_start ? '{' : '[');
    } else if (event == E::key) {
      if (stack_.size() == 1 && parsed.is_string()) key_ = parsed.get<std::string>();
    } else if (event == E::object_end || event == E::array_end) {
      stack_.pop_back();
      if (stack_.size() == 2 && in_items_ && event == E::object_end) {
        Check(parsed);
        return false;
      }
    }
    return true;
  }
  size_t items() const { return index_; }

 private:
  // The item goes through CheckText, the ordinary path, so streamed and whole inputs agree.
  void Check(const json& item) {
    const size_t index = index_++;
    CheckReport one;
    CheckText(source_, item.dump(-1, ' ', false, json::error_handler_t::replace), policy_, facts_, &one);
    for (CheckResult& r : one.results) {
      r.item = index;
      r.object_path = "items[" + std::to_string(index) + "]";
      r.line = 0;
      r.field_lines.clear();
      printer_.Result(r);
    }
    for (CheckError& e : one.errors) {
      e.message = "items[" + std::to_string(index) + "]: " + e.message;
      e.line = 0;
      errors_.push_back(std::move(e));
    }
  }

  const std::string& source_;
  const policy::Policy& policy_;
  const policy::ImageFacts& facts_;
  StreamPrinter& printer_;
  std::vector<CheckError>& errors_;
  std::vector<char> stack_;
  std::string key_;
  bool in_items_ = false;
  size_t index_ = 0;
};

}  // namespace

StreamedCheck CheckStreamed(const std::string& path, OutputFormat format, bool colour, const policy::Policy& policy,
                            const policy::ImageFacts& facts, std::ostream& out, std::ostream& err) {
  StreamedCheck result;
  std::ifstream file;
  if (path != "-") file.open(path, std::ios::binary);
  std::istream& in = path == "-" ? std::cin : file;
  if (!in) {
    result.error = "cannot read the file";
    return result;
  }
  std::string head(kStreamThreshold + 1, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const size_t first = head.find_first_not_of(" \t\r\n");
  if (head.size() <= kStreamThreshold || first == std::string::npos || head[first] != '{') {
    std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    result.text = std::move(head) + rest;
    return result;
  }
  ChainBuf chain(std::move(head), in);
  std::istream stream(&chain);
  StreamPrinter printer(format, colour, out);
  std::vector<CheckError> errors;
  ItemChecker checker(path, policy, facts, printer, errors);
  json rest;
  try {
    rest = json::parse(stream, std::ref(checker));
  } catch (const json::exception& e) {
    errors.push_back({path, 0, 0, std::string("JSON: ") + e.what(), true});
  }
  if (errors.empty() && checker.items() == 0) {
    errors.push_back({path, 0, 0, "a JSON object over 16 MiB that is not a List with items: not checked", true});
  }
  printer.Finish(errors);
  for (const CheckError& e : errors) err << "rootgate check: " << e.ToString() << "\n";
  result.exit_code = !errors.empty() ? 2 : printer.denied() ? 1 : 0;
  return result;
}

}  // namespace rootgate::server

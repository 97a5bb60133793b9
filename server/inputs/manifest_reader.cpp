// Manifest reading: document splitting, go-yaml v2 scalar resolution and YAML → JSON conversion.
// The resolution code follows go-yaml v2's resolve.go and Go's strconv, which Kubernetes uses
// through sigs.k8s.io/yaml; comments name the Go function each piece stands for.
#include "server/inputs/manifest_reader.h"

#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "policy/yaml_merge.h"

namespace rootgate::server {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 200;
constexpr size_t kMaxNodes = 1'000'000;
constexpr size_t kMaxScalarBytes = size_t{64} << 20;
constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

std::string LinePrefix(int line) { return "line " + std::to_string(line) + ": "; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string WithoutUnderscores(std::string_view s) {
  std::string out(s);
  out.erase(std::remove(out.begin(), out.end(), '_'), out.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Numbers as Go's strconv reads them.

// A digit in bases up to 36, or 99 for anything else.
int DigitValue(char c) {
  if (IsDigit(c)) return c - '0';
  const char lower = static_cast<char>(c | 0x20);
  return lower >= 'a' && lower <= 'z' ? lower - 'a' + 10 : 99;
}

// strconv.ParseUint(s, 0, 64): "0x", "0o", "0b" prefixes (any case), a leading "0" means
// octal, no sign. nullopt on bad syntax or overflow.
std::optional<uint64_t> ParseGoUint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s[0] == '0') {
    const char prefix = s.size() >= 3 ? static_cast<char>(s[1] | 0x20) : '\0';
    const bool named = prefix == 'x' || prefix == 'o' || prefix == 'b';
    base = prefix == 'x' ? 16 : prefix == 'b' ? 2 : 8;
    s.remove_prefix(named ? 2 : 1);
  }
  uint64_t value = 0;
  for (char c : s) {
    const int digit = DigitValue(c);
    if (digit >= base) return std::nullopt;
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) return std::nullopt;
    value = value * base + digit;
  }
  return value;
}

// strconv.ParseInt(s, 0, 64): an optional sign, then as ParseGoUint, within int64.
std::optional<int64_t> ParseGoInt(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  const std::optional<uint64_t> magnitude = ParseGoUint(s);
  constexpr uint64_t kCutoff = uint64_t{1} << 63;
  if (!magnitude || *magnitude > kCutoff || (!negative && *magnitude == kCutoff)) {
    return std::nullopt;
  }
  return negative ? static_cast<int64_t>(0 - *magnitude) : static_cast<int64_t>(*magnitude);
}

// go-yaml v2's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlStyleFloat(std::string_view s) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    return i > start;
  };
  const auto skip = [&](char a, char b) {
    if (i < s.size() && (s[i] == a || s[i] == b)) return ++i, true;
    return false;
  };
  skip('+', '-');
  if (skip('.', '.')) {
    if (!digits()) return false;
  } else {
    if (!digits()) return false;
    if (skip('.', '.')) digits();
  }
  if (skip('e', 'E')) {
    skip('+', '-');
    if (!digits()) return false;
  }
  return i == s.size();
}

// The exponent after 'e' in a checked literal; huge ones are clamped, keeping their sign.
long ExponentOf(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  long value = 0;
  if (std::from_chars(s.data(), s.data() + s.size(), value).ec != std::errc()) value = 1L << 40;
  return negative ? -value : value;
}

// For an unsigned literal that from_chars found out of range: true when it is too small (Go
// rounds it to zero without error), false when too large (Go reports an error).
bool IsBelowDoubleRange(std::string_view s) {
  const size_t e = std::min(s.find_first_of("eE"), s.size());
  const std::string_view mantissa = s.substr(0, e);
  const size_t point = std::min(mantissa.find('.'), mantissa.size());
  const size_t first = mantissa.find_first_of("123456789");
  if (first == std::string_view::npos) return true;
  const long magnitude =
      first < point ? static_cast<long>(point - first) - 1 : -static_cast<long>(first - point);
  const long exponent = e < s.size() ? ExponentOf(s.substr(e + 1)) : 0;
  return magnitude + exponent < 0;
}

// strconv.ParseFloat(s, 64) for text matching IsYamlStyleFloat. nullopt when it overflows.
std::optional<double> ParseDecimal(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) {
    if (!IsBelowDoubleRange(s)) return std::nullopt;
    value = 0;
  } else if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

// ---------------------------------------------------------------------------------------------
// go-yaml v2's resolve().

bool IsOneOf(std::string_view in, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), in) != words.end();
}

// go-yaml v2's resolveMap, less "<<" (merge keys are resolved before conversion: policy/yaml_merge.h).
std::optional<json> LookupSpecial(std::string_view in) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (IsOneOf(in, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) {
    return json(true);
  }
  if (IsOneOf(in, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) {
    return json(false);
  }
  if (IsOneOf(in, {"", "~", "null", "Null", "NULL"})) return json(nullptr);
  if (IsOneOf(in, {".nan", ".NaN", ".NAN"})) return json(std::numeric_limits<double>::quiet_NaN());
  if (IsOneOf(in, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) return json(kInf);
  if (IsOneOf(in, {"-.inf", "-.Inf", "-.INF"})) return json(-kInf);
  return std::nullopt;
}

// The 'D'/'S' branch of resolve(): int64, then uint64, then a YAML-style float; '_' ignored.
std::optional<json> ResolveNumber(std::string_view in) {
  const std::string plain = WithoutUnderscores(in);
  if (const auto v = ParseGoInt(plain)) return json(*v);
  if (const auto v = ParseGoUint(plain)) return json(*v);
  if (!IsYamlStyleFloat(plain)) return std::nullopt;
  if (const auto v = ParseDecimal(plain)) return json(*v);
  return std::nullopt;
}

// The '.' branch of resolve(): strconv.ParseFloat, where '_' may only sit between digits.
std::optional<json> ResolveDotFloat(std::string_view in) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '_') continue;
    if (i == 0 || i + 1 == in.size() || !IsDigit(in[i - 1]) || !IsDigit(in[i + 1])) {
      return std::nullopt;
    }
  }
  const std::string plain = WithoutUnderscores(in);
  if (!IsYamlStyleFloat(plain)) return std::nullopt;
  if (const auto v = ParseDecimal(plain)) return json(*v);
  return std::nullopt;
}

// resolve("", in): the value of a plain scalar. Floats may be infinite or NaN here.
json ResolvePlain(std::string_view in) {
  if (std::optional<json> special = LookupSpecial(in)) return std::move(*special);
  std::optional<json> number;
  if (in[0] == '.') number = ResolveDotFloat(in);
  if (in[0] == '+' || in[0] == '-' || IsDigit(in[0])) number = ResolveNumber(in);
  return number ? std::move(*number) : json(std::string(in));
}

// go-yaml's short name for the type a value resolved to.
std::string TagOf(const json& value) {
  if (value.is_null()) return "!!null";
  if (value.is_boolean()) return "!!bool";
  if (value.is_number_float()) return "!!float";
  return value.is_number() ? "!!int" : "!!str";
}

// resolve(tag, in) for tag !!bool, !!int, !!float or !!null: the text must resolve to that
// type, except that a signed int is accepted as a !!float.
Result<json> ResolveTagged(std::string_view name, const std::string& text) {
  json value = ResolvePlain(text);
  const std::string wanted = "!!" + std::string(name);
  if (TagOf(value) == wanted) return value;
  if (name == "float" && value.is_number_integer() && !value.is_number_unsigned()) {
    return json(static_cast<double>(value.get<int64_t>()));
  }
  return Error{"cannot decode " + TagOf(value) + " `" + text + "` as a " + wanted};
}

// The value of a scalar node. yaml-cpp tags plain scalars "?" and quoted ones "!"; like
// go-yaml, tags other than the core scalar types leave the text a string.
Result<json> ResolveScalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "?") return ResolvePlain(text);
  if (tag.rfind(kTagPrefix, 0) != 0) return json(text);
  const std::string_view name = std::string_view(tag).substr(kTagPrefix.size());
  if (name == "bool" || name == "int" || name == "float" || name == "null") {
    return ResolveTagged(name, text);
  }
  if (name == "binary") return Error{"!!binary scalars are not supported"};
  return json(text);
}

// ---------------------------------------------------------------------------------------------
// Map keys as sigs.k8s.io/yaml writes them.

// Go's float32(d): rounds to nearest, overflowing to infinity past the largest float.
float ToFloat32(double d) {
  constexpr float kMax = std::numeric_limits<float>::max();
  if (std::fabs(d) >= std::ldexp(1.0, 128) - std::ldexp(1.0, 103)) {
    return d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  }
  return static_cast<float>(std::clamp(d, -static_cast<double>(kMax), static_cast<double>(kMax)));
}

// %e with Go's exponent style: "1.5e+06", "1e-05".
std::string GoExponentForm(const std::string& digits, int exponent) {
  std::string out(1, digits[0]);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += exponent < 0 ? "e-" : "e+";
  if (std::abs(exponent) < 10) out += '0';
  return out + std::to_string(std::abs(exponent));
}

// %f with exactly the significant digits: "1500", "0.0015".
std::string GoFixedForm(const std::string& digits, int exponent) {
  const int point = exponent + 1;  // digits before the decimal point
  const int size = static_cast<int>(digits.size());
  if (point <= 0) return "0." + std::string(-point, '0') + digits;
  if (point >= size) return digits + std::string(point - size, '0');
  return digits.substr(0, point) + "." + digits.substr(point);
}

// strconv.FormatFloat(d, 'g', -1, 32) with go-yaml's spellings of infinity and NaN.
std::string FloatKeyText(double d) {
  if (std::isnan(d)) return ".nan";
  const float f = ToFloat32(d);
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  char buffer[32];
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, f, std::chars_format::scientific);
  const std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));
  const size_t e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (IsDigit(c)) digits += c;
  }
  const int exponent = static_cast<int>(ExponentOf(text.substr(e + 1)));
  const bool scientific = exponent < -4 || exponent >= 6;  // Go's rule for shortest 'g'
  return (text[0] == '-' ? "-" : "") +
         (scientific ? GoExponentForm(digits, exponent) : GoFixedForm(digits, exponent));
}

// The JSON key for a resolved scalar; nullopt for null, which sigs.k8s.io/yaml rejects.
std::optional<std::string> KeyText(const json& key) {
  if (key.is_string()) return key.get<std::string>();
  if (key.is_boolean()) return key.get<bool>() ? "true" : "false";
  if (key.is_number_unsigned()) return std::to_string(key.get<uint64_t>());
  if (key.is_number_integer()) return std::to_string(key.get<int64_t>());
  if (key.is_number_float()) return FloatKeyText(key.get<double>());
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// YAML → JSON.

// Converts one document under the size and depth limits. A node at (0-based) line L of the
// parsed text is reported at file line first_line + L. One instance per document.
class Converter {
 public:
  explicit Converter(int first_line) : first_line_(first_line) {}

  // `depth` is the nesting level of `node`, 1 for a document's root.
  Result<json> Convert(const YAML::Node& node, int depth);

 private:
  Result<json> ConvertScalar(const YAML::Node& node);
  Result<json> ConvertSequence(const YAML::Node& node, int depth);
  Result<json> ConvertMap(const YAML::Node& node, int depth);
  Result<std::string> ConvertKey(const YAML::Node& key);
  std::optional<Error> Charge(const YAML::Node& node);
  Error At(const YAML::Node& node, const std::string& message) const;

  int first_line_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

Error Converter::At(const YAML::Node& node, const std::string& message) const {
  return Error{LinePrefix(first_line_ + std::max(node.Mark().line, 0)) + message};
}

// Counts a node (aliases are counted each time they are expanded) and its scalar text.
std::optional<Error> Converter::Charge(const YAML::Node& node) {
  ++nodes_;
  if (node.IsScalar()) bytes_ += node.Scalar().size();
  if (nodes_ <= kMaxNodes && bytes_ <= kMaxScalarBytes) return std::nullopt;
  return At(node, "document too large after alias expansion");
}

Result<json> Converter::Convert(const YAML::Node& node, int depth) {
  if (std::optional<Error> error = Charge(node)) return *error;
  if (node.IsNull()) return json(nullptr);
  if (node.IsScalar()) return ConvertScalar(node);
  if (node.IsSequence()) return ConvertSequence(node, depth);
  if (node.IsMap()) return ConvertMap(node, depth);
  return At(node, "undefined YAML node");
}

Result<json> Converter::ConvertScalar(const YAML::Node& node) {
  Result<json> value = ResolveScalar(node);
  if (!value.ok()) return At(node, value.error());
  if (value.value().is_number_float() && !std::isfinite(value.value().get<double>())) {
    return At(node, "YAML float " + node.Scalar() + " cannot be represented in JSON");
  }
  return value;
}

Result<json> Converter::ConvertSequence(const YAML::Node& node, int depth) {
  if (depth > kMaxDepth) {
    return At(node, "document nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  json out = json::array();
  for (const YAML::Node& item : node) {
    Result<json> value = Convert(item, depth + 1);
    if (!value.ok()) return value;
    out.push_back(std::move(value).value());
  }
  return out;
}

Result<json> Converter::ConvertMap(const YAML::Node& node, int depth) {
  if (depth > kMaxDepth) {
    return At(node, "document nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  json out = json::object();
  for (auto it = node.begin(); it != node.end(); ++it) {
    Result<std::string> key = ConvertKey(it->first);
    if (!key.ok()) return Error{key.error()};
    if (out.contains(key.value())) return At(it->first, "duplicate key \"" + key.value() + "\"");
    Result<json> value = Convert(it->second, depth + 1);
    if (!value.ok()) return value;
    out.emplace(std::move(key).value(), std::move(value).value());
  }
  return out;
}

Result<std::string> Converter::ConvertKey(const YAML::Node& key) {
  if (std::optional<Error> error = Charge(key)) return *error;
  if (key.IsNull()) return At(key, "null mapping key is not supported");
  if (!key.IsScalar()) return At(key, "mapping key must be a scalar");
  Result<json> value = ResolveScalar(key);
  if (!value.ok()) return At(key, value.error());
  std::optional<std::string> text = KeyText(value.value());
  if (!text) return At(key, "null mapping key is not supported");
  return std::move(*text);
}

std::string DescribeYamlError(const YAML::Exception& e, int first_line, int fallback_line) {
  // yaml-cpp stops at 500 levels of nesting with the message "bad file".
  const bool too_deep = dynamic_cast<const YAML::DeepRecursion*>(&e) != nullptr;
  const std::string message = too_deep ? "document nested too deeply to parse" : e.msg;
  if (e.mark.is_null()) return LinePrefix(fallback_line) + message;
  return "line " + std::to_string(first_line + e.mark.line) + ", column " +
         std::to_string(e.mark.column + 1) + ": " + message;
}

// ---------------------------------------------------------------------------------------------
// Splitting a YAML stream.

// One document's slice of the file.
struct Chunk {
  size_t begin = 0;  // byte offsets into the file
  size_t end = 0;
  int first_line = 1;    // file line of the slice's first line
  int content_line = 0;  // file line of its first content; 0: none (a blank document)
  bool has_marker = false;
};

enum class LineKind { kStart, kEnd, kDirective, kBlank, kContent };

bool IsBlankOrComment(std::string_view s) {
  const size_t i = s.find_first_not_of(" \t");
  return i == std::string_view::npos || s[i] == '#';
}

bool IsMarker(std::string_view line, std::string_view marker) {
  return line.substr(0, 3) == marker && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
}

// Cuts a YAML stream into chunks, one per document, line by line.
class Splitter {
 public:
  void AddLine(std::string_view line, size_t begin, size_t end, int number);
  std::vector<Chunk> Finish() &&;

 private:
  LineKind Classify(std::string_view line) const;
  void Close(size_t next_begin, int next_line);

  Chunk current_;
  std::vector<Chunk> chunks_;
};

LineKind Splitter::Classify(std::string_view line) const {
  if (IsMarker(line, "---")) return LineKind::kStart;
  if (IsMarker(line, "...")) return LineKind::kEnd;
  const bool fresh = !current_.has_marker && current_.content_line == 0;
  if (fresh && !line.empty() && line[0] == '%') return LineKind::kDirective;
  return IsBlankOrComment(line) ? LineKind::kBlank : LineKind::kContent;
}

void Splitter::Close(size_t next_begin, int next_line) {
  chunks_.push_back(current_);
  current_ = Chunk{next_begin, next_begin, next_line};
}

// `line` excludes the line break; [begin, end) includes it.
void Splitter::AddLine(std::string_view line, size_t begin, size_t end, int number) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (begin == 0 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  const LineKind kind = Classify(line);
  if (kind == LineKind::kStart && (current_.has_marker || current_.content_line != 0)) {
    Close(begin, number);
  }
  if (kind == LineKind::kStart) current_.has_marker = true;
  const bool content =
      kind == LineKind::kContent || (kind == LineKind::kStart && !IsBlankOrComment(line.substr(3)));
  if (content && current_.content_line == 0) current_.content_line = number;
  current_.end = end;
  if (kind == LineKind::kEnd) Close(end, number + 1);
}

std::vector<Chunk> Splitter::Finish() && {
  chunks_.push_back(current_);
  return std::move(chunks_);
}

std::vector<Chunk> SplitYaml(std::string_view text) {
  Splitter splitter;
  int number = 1;
  for (size_t begin = 0; begin < text.size(); ++number) {
    const size_t newline = text.find('\n', begin);
    const size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    const size_t line_end = newline == std::string_view::npos ? text.size() : newline;
    splitter.AddLine(text.substr(begin, line_end - begin), begin, end, number);
    begin = end;
  }
  return std::move(splitter).Finish();
}

// The offset of the first byte that is not well-formed UTF-8, or npos. go-yaml rejects such
// text, and nlohmann could not dump strings holding it.
size_t FirstInvalidUtf8(std::string_view s) {
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};  // by sequence length
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    const size_t n = lead < 0x80           ? 1
                     : (lead >> 5) == 0x6  ? 2
                     : (lead >> 4) == 0xE  ? 3
                     : (lead >> 3) == 0x1E ? 4
                                           : 0;
    if (n == 0 || i + n > s.size()) return i;
    uint32_t code = n == 1 ? lead : lead & (0x7Fu >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code = (code << 6) | (next & 0x3Fu);
    }
    if (code < kSmallest[n] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += n;
  }
  return std::string_view::npos;
}

// Parses one chunk; nullopt when the document is null. `keep_yaml`: keep the node on the
// Document (ForEachDocument), at the cost of holding the YAML tree as long as the Document.
std::optional<Document> ParseYamlChunk(std::string_view text, const Chunk& chunk,
                                       bool keep_yaml = false) {
  Document doc;
  doc.line = chunk.content_line;
  const std::string_view slice = text.substr(chunk.begin, chunk.end - chunk.begin);
  if (const size_t bad = FirstInvalidUtf8(slice); bad != std::string_view::npos) {
    const auto newlines = std::count(slice.begin(), slice.begin() + bad, '\n');
    doc.error = LinePrefix(chunk.first_line + static_cast<int>(newlines)) + "invalid UTF-8";
    return doc;
  }
  try {
    const YAML::Node root = YAML::Load(std::string(slice));
    // kubectl reads manifests with go-yaml v2: merges apply in document order.
    if (auto error = policy::ResolveMergeKeys(root, policy::MergeOrder::kDocumentOrder,
                                              chunk.first_line)) {
      doc.error = *error;
      return doc;
    }
    Result<json> value = Converter(chunk.first_line).Convert(root, 1);
    if (!value.ok()) {
      doc.error = value.error();
    } else if (value.value().is_null()) {
      return std::nullopt;
    } else {
      doc.value = std::move(value).value();
      if (keep_yaml) doc.yaml = root;
      doc.yaml_first_line = chunk.first_line;
    }
  } catch (const YAML::Exception& e) {
    doc.error = DescribeYamlError(e, chunk.first_line, chunk.content_line);
  } catch (const std::exception& e) {
    doc.error = LinePrefix(chunk.content_line) + e.what();
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// JSON text.

bool LooksLikeJson(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const size_t i = text.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && (text[i] == '{' || text[i] == '[');
}

// Thrown from the parse callback to stop at the first rejected construct; caught below.
struct JsonRejected {
  std::string message;
};

// Rejects in JSON what the YAML path rejects: duplicate keys and deep nesting.
class JsonChecker {
 public:
  // A nlohmann parser callback; `depth` counts the containers around the event's value.
  bool operator()(int depth, json::parse_event_t event, const json& parsed) {
    using Event = json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth + 1 > kMaxDepth) {
      throw JsonRejected{"JSON nested deeper than " + std::to_string(kMaxDepth) + " levels"};
    }
    if (event == Event::object_start) keys_.emplace_back();
    if (event == Event::object_end) keys_.pop_back();
    if (event == Event::key && !keys_.back().insert(parsed.get<std::string>()).second) {
      throw JsonRejected{"duplicate key \"" + parsed.get<std::string>() + "\""};
    }
    return true;
  }

 private:
  std::vector<std::set<std::string>> keys_;  // one per open object
};

// nlohmann's message without its "[json.exception.…] " (and "parse error at …: ") prefix.
std::string JsonMessage(const std::exception& e, bool parse_error) {
  const std::string what = e.what();
  const size_t cut = parse_error ? what.find(": ") : what.find("] ");
  return cut == std::string::npos ? what : what.substr(cut + 2);
}

// "line L, column C: …", counted from the byte nlohmann stopped at.
std::string DescribeJsonError(std::string_view text, const json::parse_error& e) {
  const size_t pos = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
  const std::string_view before = text.substr(0, pos);
  const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  const size_t newline = before.rfind('\n');
  const size_t column = pos - (newline == std::string_view::npos ? 0 : newline + 1) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
         JsonMessage(e, true);
}

int FirstContentLine(std::string_view text) {
  const size_t i = std::min(text.find_first_not_of(" \t\r\n"), text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + i, '\n'));
}

Document ParseJsonDocument(std::string_view text) {
  Document doc;
  doc.line = FirstContentLine(text);
  JsonChecker checker;
  const json::parser_callback_t callback = [&checker](int depth, json::parse_event_t event,
                                                      json& parsed) {
    return checker(depth, event, parsed);
  };
  try {
    doc.value = json::parse(text.begin(), text.end(), callback);
  } catch (const JsonRejected& e) {
    doc.error = e.message;
  } catch (const json::parse_error& e) {
    doc.error = DescribeJsonError(text, e);
  } catch (const std::exception& e) {
    doc.error = JsonMessage(e, false);
  }
  if (!doc.error.empty()) doc.value = nullptr;
  return doc;
}

}  // namespace

std::vector<Document> ParseDocuments(std::string_view text) {
  if (LooksLikeJson(text)) return {ParseJsonDocument(text)};
  std::vector<Document> documents;
  for (const Chunk& chunk : SplitYaml(text)) {
    if (chunk.content_line == 0) continue;
    std::optional<Document> doc = ParseYamlChunk(text, chunk);
    if (!doc) continue;
    doc->index = documents.size();
    documents.push_back(std::move(*doc));
  }
  return documents;
}

void ForEachDocument(std::string_view text, const std::function<void(Document&&)>& fn) {
  if (LooksLikeJson(text)) return fn(ParseJsonDocument(text));
  size_t index = 0;
  for (const Chunk& chunk : SplitYaml(text)) {
    if (chunk.content_line == 0) continue;
    std::optional<Document> doc = ParseYamlChunk(text, chunk, true);
    if (!doc) continue;
    doc->index = index++;
    fn(std::move(*doc));
  }
}

Result<json> YamlToJson(const YAML::Node& node, policy::MergeOrder order) {
  try {
    if (auto error = policy::ResolveMergeKeys(node, order)) return Error{*error};
    return Converter(1).Convert(node, 1);
  } catch (const YAML::Exception& e) {
    return Error{DescribeYamlError(e, 1, 1)};
  } catch (const std::exception& e) {
    return Error{e.what()};
  }
}

}  // namespace rootgate::server

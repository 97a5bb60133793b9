// Fuzzes ParsePruned (server/util/json_prune) against nlohmann::json::parse, differentially: the
// same text must be accepted by both or by neither, and when accepted, the tree built without a
// shape must equal nlohmann's and the tree built with a shape must be nlohmann's with the unnamed
// members removed. The two documented differences are allowed for: nesting deeper than
// kMaxJsonDepth, and bytes after a NUL (nlohmann stops reading at a NUL).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "server/util/json_prune.h"

namespace {

using nlohmann::json;
using rootgate::server::JsonShape;

int Depth(const json& v) {
  if (!v.is_structured()) return 0;
  int deepest = 0;
  for (const json& child : v) deepest = std::max(deepest, Depth(child));
  return deepest + 1;
}

// What ParsePruned must build from nlohmann's tree `v` under `shape`.
json Pruned(const json& v, const JsonShape* shape) {
  if (shape == nullptr) return v;
  if (v.is_array()) {
    json out = json::array();
    for (const json& e : v) out.push_back(Pruned(e, shape));
    return out;
  }
  if (!v.is_object()) return v;
  json out = json::object();
  for (const auto& [key, value] : v.items()) {
    const JsonShape* child = nullptr;
    if (shape->Keep(key, &child)) out[key] = Pruned(value, child);
  }
  return out;
}

const JsonShape kInner{{"b"}, {"drop", nullptr, true}};
const JsonShape kShape{{"a", &kInner}, {"kind"}, {"x", nullptr, true}};
const JsonShape kKeepOthers{JsonShape::kKeep, {{"a", &kInner}, {"status", nullptr, true}}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  json expected;
  bool nlohmann_ok = true;
  try {
    expected = json::parse(text);
  } catch (const json::exception&) {
    nlohmann_ok = false;
  }
  auto whole = rootgate::server::ParsePruned(text, nullptr);
  const bool has_nul = text.find('\0') != std::string_view::npos;
  if (!whole.ok()) FUZZ_CHECK(!whole.error().empty());
  if (whole.ok()) {
    FUZZ_CHECK(nlohmann_ok);  // never accepts what nlohmann rejects
    FUZZ_CHECK(whole.value() == expected);
  } else if (nlohmann_ok) {
    // Only the documented differences may reject what nlohmann accepts.
    FUZZ_CHECK(has_nul || Depth(expected) > rootgate::server::kMaxJsonDepth);
  }
  for (const JsonShape* shape : {&kShape, &kKeepOthers}) {
    auto pruned = rootgate::server::ParsePruned(text, shape);
    FUZZ_CHECK(pruned.ok() == whole.ok());  // pruning never changes what is accepted
    if (pruned.ok()) FUZZ_CHECK(pruned.value() == Pruned(expected, shape));
  }
  return 0;
}

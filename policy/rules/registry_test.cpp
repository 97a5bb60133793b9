// RuleRegistry::Build checks its own input: every RuleId exactly once, in RuleId order, each
// with a check. A bad list is an error value, never a crash.
#include <doctest/doctest.h>

#include "policy/rules/rule.h"

namespace {

using namespace rootgate::policy;

std::vector<RuleDef> BuiltinDefs() {
  return {RootUserRule(),  UnknownUserRule(), RunAsNonRootRule(),
          RunAsUserRule(), PrivilegedRule(),  AllowPrivilegeEscalationRule(),
          RootGroupRule(), UidRangeRule()};
}

TEST_CASE("registry: the built-in rules build, one per RuleId, in order") {
  auto built = RuleRegistry::Build(BuiltinDefs());
  REQUIRE(built.ok());
  const auto& rules = built.value().rules();
  REQUIRE(rules.size() == kRuleCount);
  for (size_t i = 0; i < kRuleCount; ++i) {
    const RuleId id = static_cast<RuleId>(i);
    INFO(std::string(RuleName(id)));
    CHECK(rules[i].id == id);
    CHECK(built.value().Get(id).id == id);
    const bool has_check = rules[i].check != nullptr;
    CHECK(has_check);
    CHECK_FALSE(rules[i].reads.empty());
    CHECK_FALSE(rules[i].allows.empty());
  }
  CHECK(RuleRegistry::Builtin().rules().size() == kRuleCount);
}

TEST_CASE("registry: a duplicate, missing, extra, misordered or empty rule is an error") {
  SUBCASE("duplicate replaces another") {
    std::vector<RuleDef> defs = BuiltinDefs();
    defs[1] = RootUserRule();
    auto built = RuleRegistry::Build(defs);
    REQUIRE_FALSE(built.ok());
    CHECK(built.error().find("rootUser") != std::string::npos);
  }
  SUBCASE("missing") {
    std::vector<RuleDef> defs = BuiltinDefs();
    defs.pop_back();
    auto built = RuleRegistry::Build(defs);
    REQUIRE_FALSE(built.ok());
    CHECK(built.error().find("7") != std::string::npos);
  }
  SUBCASE("extra duplicate at the end") {
    std::vector<RuleDef> defs = BuiltinDefs();
    defs.push_back(PrivilegedRule());
    CHECK_FALSE(RuleRegistry::Build(defs).ok());
  }
  SUBCASE("out of order") {
    std::vector<RuleDef> defs = BuiltinDefs();
    std::swap(defs[2], defs[3]);
    CHECK_FALSE(RuleRegistry::Build(defs).ok());
  }
  SUBCASE("no check function") {
    std::vector<RuleDef> defs = BuiltinDefs();
    defs[4].check = nullptr;
    auto built = RuleRegistry::Build(defs);
    REQUIRE_FALSE(built.ok());
    CHECK(built.error().find("privileged") != std::string::npos);
  }
  SUBCASE("empty") { CHECK_FALSE(RuleRegistry::Build({}).ok()); }
}

TEST_CASE("rule names round-trip and are case-sensitive") {
  for (size_t i = 0; i < kRuleCount; ++i) {
    const RuleId id = static_cast<RuleId>(i);
    CHECK(RuleFromName(RuleName(id)) == id);
  }
  CHECK(RuleName(RuleId::kAllowPrivilegeEscalation) == "allowPrivilegeEscalation");
  CHECK(RuleName(RuleId::kUidRange) == "uidRange");
  CHECK_FALSE(RuleFromName("rootuser").has_value());
  CHECK_FALSE(RuleFromName("").has_value());
}

}  // namespace

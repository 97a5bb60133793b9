// Dockerfile verdicts against SEMANTICS.md's image-user rules and issue 6: the final stage's user
// following FROM chains, root by USER / scratch / a root base, unknown external bases, named
// users, lines of findings, and errors that leave the rest checked.
#include "server/inputs/dockerfile_check.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

#include "policy/policy_parse.h"

namespace {

using rootgate::policy::ImageFact;
using rootgate::policy::ImageFactMap;
using rootgate::policy::NoImageFacts;
using rootgate::policy::Policy;
using rootgate::policy::RuleId;
using rootgate::server::CheckDockerfileText;
using rootgate::server::CheckReport;
using rootgate::server::CheckResult;
using rootgate::server::DockerfileBaseImages;
using rootgate::server::DockerfileOptions;
using rootgate::server::FindingLine;

struct Outcome {
  CheckReport report;
  const CheckResult& result() const {
    REQUIRE(report.results.size() == 1);
    return report.results[0];
  }
  // "deny rootUser@6", "allow", "allow warn unknownUser@5"
  std::string Verdict() const {
    const CheckResult& r = result();
    std::string s = r.skipped ? "skip" : r.decision.allowed ? "allow" : "deny";
    for (const auto& f : r.decision.violations) {
      s += " " + std::string(rootgate::policy::RuleName(f.rule)) + "@" + std::to_string(FindingLine(r, f));
    }
    for (const auto& f : r.decision.warnings) {
      s += " warn " + std::string(rootgate::policy::RuleName(f.rule)) + "@" + std::to_string(FindingLine(r, f));
    }
    return s;
  }
  std::string Message() const {
    const CheckResult& r = result();
    if (!r.decision.violations.empty()) return r.decision.violations[0].message;
    return r.decision.warnings.empty() ? "" : r.decision.warnings[0].message;
  }
};

Outcome Check(std::string_view text, const DockerfileOptions& options = {},
              const rootgate::policy::ImageFacts& facts = NoImageFacts(),
              const Policy& policy = rootgate::policy::BuiltinDefaultPolicy()) {
  Outcome o;
  CheckDockerfileText("Dockerfile", text, options, policy, facts, &o.report);
  return o;
}

Policy ParsedPolicy(std::string_view yaml) {
  auto p = rootgate::policy::ParsePolicy(yaml);
  REQUIRE_MESSAGE(p.ok(), p.error());
  return p.value();
}

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST_CASE("final USER root, 0, 0:0, 0000 and +0 are rootUser at the USER line") {
  for (const char* user : {"root", "0", "0:0", "0000", "+0", "0:1000", ":1000"}) {
    CAPTURE(user);
    CHECK(Check(std::string("FROM alpine\nUSER 1000\nRUN x\nUSER ") + user + "\n").Verdict() == "deny rootUser@4");
  }
}

TEST_CASE("a non-zero numeric final USER is allowed with no finding") {
  CHECK(Check("FROM alpine\nUSER 10001\n").Verdict() == "allow");
  CHECK(Check("FROM alpine\nUSER 1000:0\n").Verdict() == "allow");  // the group part is ignored
  CHECK(Check("FROM alpine\nUSER root\nUSER 1\n").Verdict() == "allow");  // the last USER counts
}

TEST_CASE("a named final USER the Dockerfile does not create is unknown, or assumed under namedUsers: assume") {
  const Outcome o = Check("FROM alpine\nUSER app\n");
  CHECK(o.Verdict() == "deny unknownUser@2");
  CHECK(Has(o.Message(), "USER app is not created in this Dockerfile"));
  const Policy assume = ParsedPolicy("namedUsers: assume\n");
  const Outcome assumed = Check("FROM alpine\nUSER app\n", {}, NoImageFacts(), assume);
  CHECK(assumed.Verdict() == "allow warn unknownUser@2");
  CHECK(Has(assumed.Message(), "assumed non-root"));
}

TEST_CASE("USER ContainerAdministrator (any case) is the Windows root account") {
  CHECK(Check("FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nUSER containeradministrator\n").Verdict() ==
        "deny rootUser@2");
  // Any other name has no /etc/passwd here to resolve it: unknown (fail closed).
  CHECK(Check("FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nUSER ContainerUser\n").Verdict() ==
        "deny unknownUser@2");
}

TEST_CASE("a uid beyond 2147483647 is unknownUser (the kubelet refuses it)") {
  CHECK(Check("FROM alpine\nUSER 2147483648\n").Verdict() == "deny unknownUser@2");
}

TEST_CASE("no USER over scratch is rootUser at the final FROM line") {
  const Outcome o = Check("# c\nFROM scratch\nCOPY app /app\n");
  CHECK(o.Verdict() == "deny rootUser@2");
  CHECK(Has(o.Message(), "scratch"));
}

TEST_CASE("no USER over an external base: unknown offline, decided by overrides or facts") {
  const char* text = "FROM nginx:1.25\nCOPY x /y\n";
  const Outcome offline = Check(text);
  CHECK(offline.Verdict() == "deny unknownUser@1");
  CHECK(Has(offline.Message(), "docker.io/library/nginx:1.25"));

  const Policy root_override = ParsedPolicy("imageOverrides:\n  - image: docker.io/library/nginx:*\n    user: \"\"\n");
  CHECK(Check(text, {}, NoImageFacts(), root_override).Verdict() == "deny rootUser@1");
  const Policy named_override = ParsedPolicy("imageOverrides:\n  - image: \"nginx:*\"\n    user: \"101\"\n");
  CHECK(Check(text, {}, NoImageFacts(), named_override).Verdict() == "allow");

  ImageFactMap facts;
  facts.Set("nginx:1.25", ImageFact{true, "0", "registry docker.io", ""});
  CHECK(Check(text, {}, facts).Verdict() == "deny rootUser@1");
  ImageFact named{true, "nginx", "registry docker.io", ""};
  named.name_note = "USER nginx is not in the image's /etc/passwd; the container would not start";
  facts.Set("nginx:1.25", named);
  CHECK(Check(text, {}, facts).Verdict() == "deny unknownUser@1");
  CHECK(Has(Check(text, {}, facts).Message(), "not in the image's /etc/passwd"));
  named.name_uid = 101;
  facts.Set("nginx:1.25", named);
  CHECK(Check(text, {}, facts).Verdict() == "allow");
  facts.Set("nginx:1.25", ImageFact{false, "", "", "registry docker.io: timed out"});
  CHECK(Has(Check(text, {}, facts).Message(), "timed out"));
}

TEST_CASE("USER is inherited through FROM <stage>, not through COPY --from") {
  CHECK(Check("FROM alpine AS base\nUSER 10001\nFROM base AS app\nRUN x\n").Verdict() == "allow");
  CHECK(Check("FROM alpine AS base\nUSER root\nFROM base\n").Verdict() == "deny rootUser@2");
  const Outcome copied = Check("FROM golang AS build\nUSER 1000\nFROM scratch\nCOPY --from=build /a /a\n");
  CHECK(copied.Verdict() == "deny rootUser@3");
  CHECK(Has(copied.Message(), "USER 1000 at line 2 is set only in stage \"build\""));
}

TEST_CASE("the final stage's own USER wins over its parent's") {
  CHECK(Check("FROM alpine AS a\nUSER 0\nFROM a\nUSER 5\n").Verdict() == "allow");
}

TEST_CASE("--target checks the named stage instead of the last") {
  DockerfileOptions o;
  o.target = "Debug";
  CHECK(Check("FROM alpine AS debug\nUSER root\nFROM alpine\nUSER 1\n", o).Verdict() == "deny rootUser@2");
  o.target = "nope";
  const Outcome missing = Check("FROM alpine\n", o);
  CHECK(missing.report.results.empty());
  REQUIRE(missing.report.errors.size() == 1);
  CHECK(Has(missing.report.errors[0].message, "target stage \"nope\" not found"));
}

TEST_CASE("USER from ARG defaults, --build-arg and ${VAR:-default}") {
  const char* text = "ARG UID=10001\nFROM alpine\nARG UID\nUSER ${UID:-0}\n";
  CHECK(Check(text).Verdict() == "allow");
  DockerfileOptions o;
  o.build_args = {{"UID", "0"}};
  CHECK(Check(text, o).Verdict() == "deny rootUser@4");
}

TEST_CASE("USER with a variable the Dockerfile leaves unset: root over scratch, unknown over a base") {
  CHECK(Check("FROM scratch\nUSER $APP_UID\n").Verdict() == "deny rootUser@2");
  const Outcome o = Check("FROM mcr.microsoft.com/dotnet/aspnet:8.0\nUSER $APP_UID\n");
  CHECK(o.Verdict() == "deny unknownUser@2");
  CHECK(Has(o.Message(), "APP_UID"));
}

TEST_CASE("parse errors name their lines and the rest of the file is still checked") {
  const Outcome o = Check("FROM alpine\nFROOM x\nRUN <<EOF\necho\nEOF\nUSER root\n");
  CHECK(o.Verdict() == "deny rootUser@6");
  REQUIRE(o.report.errors.size() == 1);
  CHECK(o.report.errors[0].line == 2);
  CHECK(o.report.errors[0].ToString() == "Dockerfile: line 2: unknown instruction: FROOM");
}

TEST_CASE("a Dockerfile without FROM is an error and no result") {
  const Outcome o = Check("ARG X=1\n");
  CHECK(o.report.results.empty());
  CHECK(o.report.errors.size() == 1);
}

TEST_CASE("policy actions apply: warn mode warns, rules off skip") {
  CHECK(Check("FROM scratch\n", {}, NoImageFacts(), ParsedPolicy("mode: warn\n")).Verdict() ==
        "allow warn rootUser@1");
  const Outcome off = Check("FROM scratch\n", {}, NoImageFacts(), ParsedPolicy("preset: pss-baseline\n"));
  CHECK(off.Verdict() == "skip");
}

TEST_CASE("DockerfileBaseImages lists the external base only when no USER decides") {
  CHECK(DockerfileBaseImages("ARG V=1.25\nFROM nginx:$V AS a\nFROM a\n", {}) ==
        std::vector<std::string>{"nginx:1.25"});
  CHECK(DockerfileBaseImages("FROM nginx\nUSER 1\n", {}).empty());
  CHECK(DockerfileBaseImages("FROM scratch\n", {}).empty());
  // A name may come from the base image's /etc/passwd.
  CHECK(DockerfileBaseImages("FROM nginx\nUSER app\n", {}) == std::vector<std::string>{"nginx"});
}

// SEMANTICS.md rule 4 (Dockerfiles): a name created by useradd/adduser in the stages the final
// stage builds on is root only when created with uid 0; else non-root.
TEST_CASE("USER names created by useradd / adduser in the stage chain") {
  struct Row {
    const char* text;
    const char* verdict;
  };
  const std::vector<Row> rows = {
      // Debian useradd
      {"FROM debian\nRUN useradd -o -u 0 toor\nUSER toor\n", "deny rootUser@3"},
      {"FROM debian\nRUN useradd --non-unique --uid 0 toor\nUSER toor\n", "deny rootUser@3"},
      {"FROM debian\nRUN useradd --uid=0 -o toor\nUSER toor\n", "deny rootUser@3"},
      {"FROM debian\nRUN useradd -ou0 toor\nUSER toor\n", "deny rootUser@3"},
      {"FROM debian\nRUN useradd -u 1000 app\nUSER app\n", "allow"},
      {"FROM debian\nRUN useradd -r -s /bin/false app\nUSER app\n", "allow"},
      {"FROM debian\nRUN useradd --system app\nUSER app:app\n", "allow"},
      {"FROM debian\nRUN apt-get update && /usr/sbin/useradd -m -d /home/app app && rm -rf /x\nUSER app\n", "allow"},
      {"FROM debian\nRUN [\"useradd\", \"-o\", \"-u\", \"0\", \"toor\"]\nUSER toor\n", "deny rootUser@3"},
      {"FROM debian\nARG UID=0\nRUN useradd -o -u \"$UID\" toor\nUSER toor\n", "deny rootUser@4"},
      {"FROM debian\nENV UID=1001\nRUN useradd -u ${UID} app\nUSER app\n", "allow"},
      {"FROM debian\nRUN useradd -u $NOPE app\nUSER app\n", "deny unknownUser@3"},
      // useradd -D only changes defaults: it creates nobody.
      {"FROM debian\nRUN useradd -D -s /bin/sh app\nUSER app\n", "deny unknownUser@3"},
      // Debian adduser
      {"FROM debian\nRUN adduser --disabled-password --gecos '' app\nUSER app\n", "allow"},
      {"FROM debian\nRUN adduser --system --uid 0 toor\nUSER toor\n", "deny rootUser@3"},
      {"FROM debian\nRUN adduser --uid=1500 app\nUSER app\n", "allow"},
      {"FROM debian\nRUN adduser --system --group app\nUSER app\n", "allow"},
      {"FROM debian\nRUN adduser --group app\nUSER app\n", "deny unknownUser@3"},  // a group only
      {"FROM debian\nRUN adduser app staff\nUSER app\n", "deny unknownUser@3"},     // adds to a group
      // BusyBox adduser (Alpine)
      {"FROM alpine\nRUN adduser -D app\nUSER app\n", "allow"},
      {"FROM alpine\nRUN addgroup -S app && adduser -S -G app app\nUSER app\n", "allow"},
      {"FROM alpine\nRUN adduser -D -u 0 toor\nUSER toor\n", "deny rootUser@3"},
      {"FROM alpine\nRUN adduser -Du0 toor\nUSER toor\n", "deny rootUser@3"},
      {"FROM alpine\nRUN adduser -D -H -h /app -s /sbin/nologin -u 10001 app\nUSER app\n", "allow"},
      // Names the Dockerfile does not create, and other stages.
      {"FROM alpine\nRUN adduser -D app\nUSER ghost\n", "deny unknownUser@3"},
      {"FROM alpine AS build\nRUN adduser -D app\nFROM alpine\nUSER app\n", "deny unknownUser@4"},
      {"FROM alpine AS base\nRUN adduser -D -u 0 toor\nFROM base\nUSER toor\n", "deny rootUser@4"},
      {"FROM alpine AS base\nRUN adduser -D app\nFROM base\nUSER app\n", "allow"},
      {"FROM scratch\nUSER app\n", "deny unknownUser@2"},
      // Changes to /etc/passwd that the check does not follow make the name unknown.
      {"FROM debian\nRUN useradd -u 1000 app && usermod -o -u 0 app\nUSER app\n", "deny unknownUser@3"},
      {"FROM debian\nRUN useradd app\nRUN echo 'app:x:0:0::/:/bin/sh' >> /etc/passwd\nUSER app\n",
       "deny unknownUser@4"},
      {"FROM debian\nRUN useradd app && sed -i s/1000/0/ /etc/passwd\nUSER app\n", "deny unknownUser@3"},
      {"FROM debian\nRUN useradd -u 1000 app && grep app /etc/passwd\nUSER app\n", "allow"},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    CHECK(Check(r.text).Verdict() == r.verdict);
  }
}

TEST_CASE("findings name the RUN that creates the user and the USER line") {
  const Outcome o = Check("FROM debian\nRUN useradd -o -u 0 toor\nUSER toor\n");
  CHECK(Has(o.Message(), "USER toor at line 3"));
  CHECK(Has(o.Message(), "created by RUN useradd -o -u 0 toor at line 2"));
  const Outcome changed = Check("FROM debian\nRUN useradd app && usermod -u 0 app\nUSER app\n");
  CHECK(Has(changed.Message(), "RUN at line 2 changes /etc/passwd (usermod -u 0 app)"));
}

// SEMANTICS.md rule 4 (Dockerfiles): "a name it does not create comes from the base image's
// passwd (with --resolve-images), else it is unknown" — whatever the base image's own USER is.
TEST_CASE("a name not created in the Dockerfile comes from the base image's /etc/passwd") {
  const char* text = "FROM node:20\nUSER node\n";
  ImageFactMap facts;
  // node:20's config has no USER (root): its passwd still gives node its uid.
  facts.Set("node:20", ImageFact{true, "", "registry docker.io", ""});
  ImageFact node{true, "node", "registry docker.io; uid 1000 in its /etc/passwd", "", 1000};
  facts.SetUserName("node:20", "node", node);
  const Outcome allowed = Check(text, {}, facts);
  CHECK(allowed.Verdict() == "allow");
  node.name_uid = 0;  // toor-style: the name maps to uid 0
  facts.SetUserName("node:20", "node", node);
  const Outcome root = Check(text, {}, facts);
  CHECK(root.Verdict() == "deny rootUser@2");
  CHECK(Has(root.Message(), "from the /etc/passwd of base image docker.io/library/node:20"));
  // The name absent from the base's passwd: unknown, the reason naming the base image.
  ImageFact ghost{true, "node", "registry docker.io", ""};
  ghost.name_note = "USER node is not in the image's /etc/passwd; the container would not start";
  facts.SetUserName("node:20", "node", ghost);
  const Outcome absent = Check(text, {}, facts);
  CHECK(absent.Verdict() == "deny unknownUser@2");
  CHECK(Has(absent.Message(), "its uid comes from the /etc/passwd of base image docker.io/library/node:20 "
                              "(registry docker.io): USER node is not in the image's /etc/passwd"));
  // The base not reachable: unknown with the lookup's reason.
  facts.SetUserName("node:20", "node", ImageFact{false, "", "", "registry docker.io: connection refused"});
  const Outcome unreachable = Check(text, {}, facts);
  CHECK(unreachable.Verdict() == "deny unknownUser@2");
  CHECK(Has(unreachable.Message(), "base image docker.io/library/node:20, which was not read "
                                   "(registry docker.io: connection refused)"));
  // Not looked up at all (no --resolve-images): unknown.
  const Outcome offline = Check(text);
  CHECK(offline.Verdict() == "deny unknownUser@2");
  CHECK(Has(offline.Message(), "which was not read (no image facts; registry lookups are off)"));
  // A fact for another name does not answer for this one.
  facts.SetUserName("node:20", "node", ImageFact{true, "other", "registry docker.io", "", 1000});
  CHECK(Check(text, {}, facts).Verdict() == "deny unknownUser@2");
  // The base's own USER being that name is not enough: the name query answers.
  ImageFactMap config_only;
  config_only.Set("node:20", ImageFact{true, "node", "registry docker.io; uid 1000 in its /etc/passwd", "", 1000});
  CHECK(Check(text, {}, config_only).Verdict() == "deny unknownUser@2");
}

TEST_CASE("a name created by useradd in a stage the final stage builds on wins over the base") {
  ImageFactMap facts;
  ImageFact root_node{true, "node", "registry docker.io; uid 0 in its /etc/passwd", "", 0};
  facts.SetUserName("node:20", "node", root_node);
  facts.SetUserName("node:20", "app", ImageFact{true, "app", "registry docker.io; uid 1000", "", 1000});
  // The base says node is uid 0, but the chain creates node with -u 2000.
  const char* created = "FROM node:20 AS base\nRUN useradd -u 2000 node\nFROM base\nUSER node\n";
  const Outcome o = Check(created, {}, facts);
  CHECK(o.Verdict() == "allow");
  // Created in a stage the final stage does not build on: the base's passwd decides.
  const char* sideways = "FROM node:20 AS build\nRUN useradd -u 2000 node\nFROM node:20\nUSER node\n";
  CHECK(Check(sideways, {}, facts).Verdict() == "deny rootUser@4");
  // Through a FROM <stage> chain, the name comes from the chain's root base.
  CHECK(Check("FROM node:20 AS base\nRUN true\nFROM base\nUSER app\n", {}, facts).Verdict() == "allow");
  // An imageOverrides entry for the base gives its user, not its passwd.
  const Policy override = ParsedPolicy("imageOverrides:\n  - image: \"node:*\"\n    user: \"1000\"\n");
  const Outcome overridden = Check("FROM node:20\nUSER app\n", {}, facts, override);
  CHECK(overridden.Verdict() == "deny unknownUser@2");
  CHECK(Has(overridden.Message(), "gives the image's user, not its /etc/passwd"));
  // namedUsers: assume reads no passwd: the name is assumed non-root, with a warning.
  const Policy assume = ParsedPolicy("namedUsers: assume\n");
  CHECK(Check("FROM node:20\nUSER node\n", {}, facts, assume).Verdict() == "allow warn unknownUser@2");
}

// Found by fuzz/dockerfile_fuzz (fuzz/corpus/dockerfile_fuzz/crash-env-legacy-form-feed): the
// legacy `ENV name value` form split on any blank but looked for the value after a space or tab
// only, so a form feed or vertical tab between name and value threw std::out_of_range. BuildKit
// splits that form on [\t\v\f\r ]+: the value is what follows the blank.
TEST_CASE("legacy ENV name value separated by a form feed or vertical tab sets the value") {
  for (const char* blank : {"\f", "\v", "\r", " \f "}) {
    CAPTURE(blank);
    CHECK(Check(std::string("FROM alpine\nENV U") + blank + "1000\nUSER $U\n").Verdict() == "allow");
    CHECK(Check(std::string("FROM alpine\nENV U") + blank + "0\nUSER ${U}\n").Verdict() == "deny rootUser@3");
  }
}

TEST_CASE("arbitrary text never crashes the Dockerfile check and always gives a result or an error") {
  // Pieces that stress the parser: quotes, escapes, substitutions, heredocs, directives.
  const std::vector<std::string> pieces = {
      "FROM ", "USER ", "ARG ", "ENV ", "RUN ", "COPY ", "ONBUILD ", "scratch", "alpine AS a", " a",
      "${", "}", "$", "${X:-", "${X#", "'", "\"", "\\", "`", "\n", "\r\n", "<<EOF", "<<-'E'", "EOF",
      "\t", "# escape=`", "# c", "=", ":", "0", "root", " ", "--platform=x ", "[\"a\"]", "\xff", std::string("\0x", 1)};
  std::mt19937 rng(6);
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    CAPTURE(text);
    const Outcome o = Check(text);
    CHECK((o.report.results.size() == 1 || !o.report.errors.empty()));
  }
}

}  // namespace

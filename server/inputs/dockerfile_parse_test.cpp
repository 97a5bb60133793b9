// The Dockerfile parser, word expansion and build stages against BuildKit's rules (parser.go,
// shell/lex.go, instructions/parse.go and the Dockerfile reference); expected values are written
// from those, not from this program's output.
#include "server/inputs/dockerfile_parse.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "server/inputs/dockerfile_expand.h"
#include "server/inputs/dockerfile_stages.h"

namespace {

using namespace rootgate::server::dockerfile;

std::vector<std::string> Keywords(const Dockerfile& f) {
  std::vector<std::string> out;
  for (const Instruction& in : f.instructions) out.push_back(in.keyword + "@" + std::to_string(in.line));
  return out;
}

std::string Expand(std::string_view word, const std::map<std::string, std::string>& vars,
                   char escape = '\\') {
  auto r = ExpandWord(word, escape, [&](std::string_view name) -> const std::string* {
    auto it = vars.find(std::string(name));
    return it == vars.end() ? nullptr : &it->second;
  });
  return r ? r.value().value : "ERROR: " + r.error();
}

// The value of the last USER of the last stage.
std::string FinalUser(std::string_view text, const BuildArgs& args = {}) {
  const Stages s = BuildStages(ParseDockerfile(text), args);
  REQUIRE(!s.stages.empty());
  REQUIRE(!s.stages.back().users.empty());
  return s.stages.back().users.back().value;
}

TEST_CASE("instructions: keywords any case, comments, blank lines, line numbers") {
  const Dockerfile f = ParseDockerfile("# a comment\n\nfrom alpine\n  # indented comment\nRun echo hi # not a comment\nUSER 1000\n");
  CHECK(Keywords(f) == std::vector<std::string>{"FROM@3", "RUN@5", "USER@6"});
  CHECK(f.instructions[1].args == "echo hi # not a comment");
  CHECK(f.errors.empty());
}

TEST_CASE("line continuations join lines; comments and empty lines inside are skipped") {
  const Dockerfile f = ParseDockerfile("FROM alpine\nRUN a \\\n# inside\n\n  b \\\n  c\nUSER \\\n 10001\n");
  REQUIRE(f.instructions.size() == 3);
  CHECK(f.instructions[1].line == 2);
  CHECK(f.instructions[1].end_line == 6);
  CHECK(f.instructions[1].args == "a   b   c");
  CHECK(f.instructions[2].line == 7);
  CHECK(f.instructions[2].args == "10001");
}

TEST_CASE("an escaped escape character at the end of a line does not continue it") {
  const Dockerfile f = ParseDockerfile("FROM alpine\nRUN echo \\\\\nUSER 1\n");
  REQUIRE(f.instructions.size() == 3);
  CHECK(f.instructions[2].keyword == "USER");
}

TEST_CASE("escape directive: backtick continues lines; directives only at the top") {
  const Dockerfile f = ParseDockerfile("# escape=`\nFROM alpine\nUSER `\n  0:0\n");
  CHECK(f.escape == '`');
  REQUIRE(f.instructions.size() == 2);
  CHECK(f.instructions[1].args == "0:0");
  // After an instruction, `# escape=` is an ordinary comment.
  const Dockerfile late = ParseDockerfile("FROM alpine\n# escape=`\nRUN a \\\n b\n");
  CHECK(late.escape == '\\');
  CHECK(late.instructions.size() == 2);
  const Dockerfile bad = ParseDockerfile("# escape=x\nFROM alpine\n");
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].line == 1);
  const Dockerfile twice = ParseDockerfile("# escape=`\n# escape=\\\nFROM a\n");
  REQUIRE(twice.errors.size() == 1);
  CHECK(twice.errors[0].message == "only one escape parser directive can be used");
}

TEST_CASE("heredocs: bodies are not instructions; <<- strips tabs; several per line") {
  const Dockerfile f = ParseDockerfile(
      "FROM alpine\nRUN <<EOF\nUSER root\nEOF\nCOPY <<-\"A\" <<B /dst/\n\tUSER 0\n\tA\nUSER 0\nB\nUSER 10001\n");
  CHECK(Keywords(f) == std::vector<std::string>{"FROM@1", "RUN@2", "COPY@5", "USER@10"});
  CHECK(f.instructions[1].end_line == 4);
  CHECK(f.errors.empty());
  // USER and JSON-form RUN do not open heredocs.
  const Dockerfile json = ParseDockerfile("FROM a\nRUN [\"sh\", \"<<EOF\"]\nUSER 1\n");
  CHECK(json.instructions.size() == 3);
}

TEST_CASE("unterminated heredoc and unknown instruction name their lines; the rest is read") {
  const Dockerfile f = ParseDockerfile("FROM alpine\nFROOM x\nUSER 1\nRUN <<EOF\necho\n");
  REQUIRE(f.errors.size() == 2);
  CHECK(f.errors[0].line == 2);
  CHECK(f.errors[0].message == "unknown instruction: FROOM");
  CHECK(f.errors[1].line == 4);
  CHECK(Keywords(f) == std::vector<std::string>{"FROM@1", "USER@3", "RUN@4"});
}

TEST_CASE("empty text and comment-only text have no instructions") {
  CHECK(ParseDockerfile("").errors.at(0).message == "file with no instructions");
  CHECK(ParseDockerfile("# nothing\n\n").errors.at(0).message == "file with no instructions");
}

TEST_CASE("flags are split from arguments; CRLF line ends and a BOM are accepted") {
  const Dockerfile f = ParseDockerfile("\xEF\xBB\xBF" "FROM --platform=$BUILDPLATFORM golang AS b\r\nUSER 5\r\n");
  REQUIRE(f.instructions.size() == 2);
  CHECK(f.instructions[0].flags == std::vector<std::string>{"--platform=$BUILDPLATFORM"});
  CHECK(f.instructions[0].args == "golang AS b");
  CHECK(f.instructions[1].args == "5");
}

TEST_CASE("ExpandWord: $VAR, ${VAR}, defaults and alternatives, quotes, escapes") {
  const std::map<std::string, std::string> v{{"U", "1000"}, {"E", ""}};
  CHECK(Expand("$U", v) == "1000");
  CHECK(Expand("${U}:${U}", v) == "1000:1000");
  CHECK(Expand("${N:-65534}", v) == "65534");
  CHECK(Expand("${E:-7}", v) == "7");   // ':-' treats empty as unset
  CHECK(Expand("${E-7}", v) == "");     // '-' only unset
  CHECK(Expand("${N-7}", v) == "7");
  CHECK(Expand("${U:+x}", v) == "x");
  CHECK(Expand("${N:+x}", v) == "");
  CHECK(Expand("${N:-${U}}", v) == "1000");
  CHECK(Expand("'$U'", v) == "$U");      // single quotes are literal
  CHECK(Expand("\"$U\"", v) == "1000");  // double quotes expand
  CHECK(Expand("\\$U", v) == "$U");      // escaped dollar
  CHECK(Expand("`$U", v, '`') == "$U");
  CHECK(Expand("$", v) == "$");
  CHECK(Expand("a$-b", v) == "a$-b");
  CHECK(Expand("${U#10}", v) == "00");
  CHECK(Expand("${U%0}", v) == "100");
  CHECK(Expand("${N:?must be set}", v) == "ERROR: N: must be set");
  CHECK(Expand("${U", v).starts_with("ERROR: syntax error: missing '}'"));
  CHECK(Expand("${U/1/2}", v).starts_with("ERROR: unsupported modifier"));
}

TEST_CASE("ExpandWord lists the variables that had no value") {
  auto r = ExpandWord("${A}:$B:${A:-1}", '\\', [](std::string_view) { return nullptr; });
  REQUIRE(r.ok());
  CHECK(r.value().value == "::1");
  CHECK(r.value().unset == std::vector<std::string>{"A", "B"});
}

TEST_CASE("SplitWords keeps quotes for later expansion and splits outside them") {
  CHECK(SplitWords("a=1 b=\"x y\" c='z w'", '\\') ==
        std::vector<std::string>{"a=1", "b=\"x y\"", "c='z w'"});
  CHECK(SplitWords("a=x\\ y b", '\\') == std::vector<std::string>{"a=x\\ y", "b"});
}

TEST_CASE("stages: names, FROM chains by name (any case), scratch, external bases") {
  const Stages s = BuildStages(
      ParseDockerfile("FROM golang AS Build\nFROM build AS test\nFROM scratch\nFROM BUILD\n"), {});
  REQUIRE(s.stages.size() == 4);
  CHECK(s.stages[0].name == "build");
  CHECK_FALSE(s.stages[0].parent.has_value());
  CHECK(s.stages[1].parent == 0u);
  CHECK(s.stages[2].IsScratch());
  CHECK(s.stages[3].parent == 0u);
  CHECK(s.errors.empty());
}

TEST_CASE("stages: bad FROM lines and duplicate names are errors with lines") {
  const Stages s = BuildStages(ParseDockerfile("FROM a b\nFROM a AS 1x\nFROM a AS x\nFROM b AS X\nUSER\n"), {});
  REQUIRE(s.errors.size() == 4);
  CHECK(s.errors[0].line == 1);
  CHECK(s.errors[1].line == 2);
  CHECK(s.errors[2].line == 4);
  CHECK(s.errors[2].message.find("duplicate stage name") != std::string::npos);
  CHECK(s.errors[3].line == 5);
}

TEST_CASE("instructions other than ARG before the first FROM are errors") {
  const Stages s = BuildStages(ParseDockerfile("USER 0\nFROM a\n"), {});
  REQUIRE(s.errors.size() == 1);
  CHECK(s.errors[0].line == 1);
}

TEST_CASE("ARG: global ARGs expand FROM; a stage sees them only when re-declared") {
  const Stages s = BuildStages(ParseDockerfile("ARG IMG=alpine UID=7\nFROM ${IMG}:3\nUSER ${UID:-9}\n"
                                               "FROM scratch\nARG UID\nUSER $UID\n"),
                               {});
  REQUIRE(s.stages.size() == 2);
  CHECK(s.stages[0].base == "alpine:3");
  CHECK(s.stages[0].users[0].value == "9");  // not re-declared: unset in the stage
  CHECK(s.stages[1].users[0].value == "7");
}

TEST_CASE("ARG: --build-arg overrides defaults of declared ARGs, global and in-stage") {
  const char* text = "ARG UID=7\nFROM scratch\nARG UID\nARG GID=5\nUSER $UID:$GID\n";
  CHECK(FinalUser(text) == "7:5");
  CHECK(FinalUser(text, {{"UID", "0"}, {"GID", "0"}}) == "0:0");
  // An undeclared build arg is not used.
  CHECK(FinalUser("FROM scratch\nUSER ${X:-1}\n", {{"X", "0"}}) == "1");
}

TEST_CASE("ENV: both forms, overrides ARG of the same name, inherited by child stages") {
  CHECK(FinalUser("FROM scratch\nARG U=1\nENV U=2\nUSER $U\n") == "2");
  CHECK(FinalUser("FROM scratch\nENV U 3\nUSER $U\n") == "3");
  CHECK(FinalUser("FROM scratch\nENV A=1 B=\"$A x\"\nUSER $B\n") == " x");  // same-line: old A
  CHECK(FinalUser("FROM scratch AS a\nENV U=4\nFROM a\nUSER $U\n") == "4");
  CHECK(FinalUser("FROM scratch AS a\nARG U=4\nFROM a\nUSER ${U:-5}\n") == "5");  // ARG is not
  CHECK(FinalUser("FROM scratch\nUSER \"app\"\n") == "app");
}

}  // namespace

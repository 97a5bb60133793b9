// AsksForHelp, HelpToVerbFlag, RunVersion and RunCompletion's argument handling. What the
// scripts complete is tested on the real binary, by bash and fish themselves (tests/cli_test.sh).
#include "server/cli/help.h"

#include <doctest/doctest.h>

#include <sstream>

#include "server/cli/completion.h"

namespace {

using rootgate::server::AsksForHelp;
using rootgate::server::HelpToVerbFlag;
using Args = std::vector<std::string>;

TEST_CASE("AsksForHelp: --help or -h anywhere") {
  CHECK(AsksForHelp({"--help"}));
  CHECK(AsksForHelp({"-h"}));
  CHECK(AsksForHelp({"--policy", "p.yaml", "-h", "x"}));
  CHECK_FALSE(AsksForHelp({}));
  CHECK_FALSE(AsksForHelp({"--helpful", "-hh", "help"}));
}

TEST_CASE("HelpToVerbFlag: help VERB becomes VERB --help") {
  std::string verb = "help";
  Args args = {"check", "extra"};
  HelpToVerbFlag(&verb, &args);
  CHECK(verb == "check");
  CHECK(args == Args{"--help"});
  verb = "help";
  args = {};
  HelpToVerbFlag(&verb, &args);  // `help` alone: the top-level usage
  CHECK(verb == "help");
  CHECK(args.empty());
  verb = "check";
  args = {"help"};  // a file named help stays a file
  HelpToVerbFlag(&verb, &args);
  CHECK(verb == "check");
  CHECK(args == Args{"help"});
}

TEST_CASE("RunVersion and RunCompletion: usage to stdout with 0, mistakes to stderr with 2") {
  std::ostringstream out, err;
  CHECK(rootgate::server::RunVersion({}, out, err) == 0);
  CHECK(out.str() == std::string("rootgate ") + ROOTGATE_VERSION + "\n");
  out.str("");
  CHECK(rootgate::server::RunVersion({"-h"}, out, err) == 0);
  CHECK(out.str().rfind("usage: rootgate version", 0) == 0);
  CHECK(err.str().empty());
  CHECK(rootgate::server::RunVersion({"now"}, out, err) == 2);
  CHECK(err.str().find("unexpected argument now") != std::string::npos);
  out.str("");
  err.str("");
  CHECK(rootgate::server::RunCompletion({"--help"}, out, err) == 0);
  CHECK(out.str().rfind("usage: rootgate completion bash|zsh|fish", 0) == 0);
  CHECK(rootgate::server::RunCompletion({}, out, err) == 2);
  CHECK(rootgate::server::RunCompletion({"bash", "zsh"}, out, err) == 2);
  CHECK(rootgate::server::RunCompletion({"powershell"}, out, err) == 2);
  CHECK(err.str().find("unknown shell \"powershell\" (known: bash, zsh, fish)") != std::string::npos);
  CHECK_FALSE(rootgate::server::CompletionScript("tcsh").has_value());
  for (const char* shell : {"bash", "zsh", "fish"}) {
    INFO(shell);
    auto script = rootgate::server::CompletionScript(shell);
    REQUIRE(script.has_value());
    CHECK(script->find("pss-restricted") != std::string::npos);  // preset names come from policy/
  }
}

}  // namespace

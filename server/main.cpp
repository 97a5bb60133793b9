// rootgate: keeps root out of a Kubernetes cluster. Verbs: serve, check, test, review, version,
// completion; `help VERB` and `VERB --help` print a verb's usage (server/cli/help.h).
#include <iostream>
#include <string>
#include <vector>

#include "server/cli/audit_cli.h"
#include "server/cli/check_cli.h"
#include "server/report/check.h"
#include "server/cli/review.h"
#include "server/webhook/serve.h"
#include "server/cli/test_suite.h"
#include "server/cli/completion.h"
#include "server/cli/help.h"

namespace {

constexpr const char* kUsage =
    "usage: rootgate <verb> [flags]\n"
    "  serve [--listen ADDR] [--tls-cert FILE --tls-key FILE] [...]       the HTTPS webhook\n"
    "                                                                    (serve --help: every flag)\n"
    "  check [--policy FILE | --preset NAME] [-o text|json|junit|sarif] PATH... | -\n"
    "                                     dry-run manifests, Dockerfiles, image configs\n"
    "  test SUITE.yaml...                                                run policy test suites\n"
    "  review [--policy FILE | --preset NAME] FILE|-                     AdmissionReview in, reply out\n"
    "  audit [--kubeconfig FILE] [--context NAME] [-n NS | -A] [-o FORMAT] the cluster as it is now\n"
    "                                                                    (audit --help: every flag)\n"
    "  version                                                           print the version\n"
    "  completion bash|zsh|fish                                          shell completion script\n"
    "  help [VERB]                                                       this, or a verb's usage\n";

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string verb = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  rootgate::server::HelpToVerbFlag(&verb, &args);
  if (verb == "serve") return rootgate::server::RunServe(args, std::cout, std::cerr);
  if (verb == "check") return rootgate::server::RunCheck(args, std::cout, std::cerr);
  if (verb == "test") return rootgate::server::RunTest(args, std::cout, std::cerr);
  if (verb == "audit") return rootgate::server::audit::RunAudit(args, std::cout, std::cerr);
  if (verb == "review") return rootgate::server::RunReview(args, std::cout, std::cerr);
  if (verb == "version" || verb == "--version") return rootgate::server::RunVersion(args, std::cout, std::cerr);
  if (verb == "completion") return rootgate::server::RunCompletion(args, std::cout, std::cerr);
  if (verb == "help" || verb == "--help" || verb == "-h") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "rootgate: unknown verb \"" << verb << "\"\n" << kUsage;
  return 2;
}

#include "server/cli/help.h"

#include <algorithm>

namespace rootgate::server {

bool AsksForHelp(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

void HelpToVerbFlag(std::string* verb, std::vector<std::string>* args) {
  if (*verb != "help" || args->empty()) return;
  *verb = args->front();
  *args = {"--help"};
}

int RunVersion(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  constexpr const char* kUsage = "usage: rootgate version\n  prints the version of rootgate\n";
  if (AsksForHelp(args)) {
    out << kUsage;
    return 0;
  }
  if (!args.empty()) {
    err << "rootgate version: unexpected argument " << args.front() << "\n" << kUsage;
    return 2;
  }
  out << "rootgate " << ROOTGATE_VERSION << "\n";
  return 0;
}

}  // namespace rootgate::server

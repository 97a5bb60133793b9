// Linked into rootgate only in ROOTGATE_SANITIZE builds. With GCC, ASan and UBSan are two
// runtimes (libasan, libubsan), and libubsan running next to ASan never applies the log_path of
// UBSAN_OPTIONS: its reports go to stderr, where a test that keeps a server's stderr in a
// temporary file, or expects a non-zero exit, never sees them. scripts/test_sanitize.sh relies on
// every report landing in a file, so this hands libubsan that log_path itself, at start-up.
#include <dlfcn.h>

#include <cstdlib>
#include <string>

namespace {

// The value of log_path in UBSAN_OPTIONS ("a=1:log_path=/x/ubsan:b=2"), or "".
std::string UbsanLogPath() {
  const char* options = std::getenv("UBSAN_OPTIONS");
  if (options == nullptr) return "";
  const std::string all = std::string(":") + options;
  const size_t at = all.find(":log_path=");
  if (at == std::string::npos) return "";
  const size_t begin = at + 10;
  return all.substr(begin, all.find(':', begin) - begin);
}

__attribute__((constructor)) void RouteUbsanReports() {
  static const std::string path = UbsanLogPath();
  if (path.empty()) return;
  void* ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (ubsan == nullptr) return;
  using SetReportPath = void (*)(const char*);
  if (auto set = reinterpret_cast<SetReportPath>(dlsym(ubsan, "__sanitizer_set_report_path"))) {
    set(path.c_str());
  }
  dlclose(ubsan);
}

}  // namespace

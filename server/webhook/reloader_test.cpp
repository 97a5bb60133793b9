// Reloader: a change of content is passed on once, the same content is not passed on again, a
// Kubernetes-style `..data` symlink swap is seen, and an unreadable file is reported once.
#include "server/webhook/reloader.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <fstream>

namespace {

using rootgate::Result;
using rootgate::server::Reloader;
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/rootgate-reload-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

struct Recorder {
  std::vector<std::string> seen;  // contents joined by "|", or "error: ..."
  Reloader::Callback callback() {
    return [this](const Result<std::vector<std::string>>& r) {
      if (!r) {
        seen.push_back("error: " + r.error());
        return;
      }
      std::string joined;
      for (const auto& c : r.value()) joined += (joined.empty() ? "" : "|") + c;
      seen.push_back(joined);
    };
  }
};

}  // namespace

TEST_CASE("reloader: content changes are passed on once each") {
  TempDir dir;
  const std::string a = dir.path + "/a", b = dir.path + "/b";
  Write(a, "A1");
  Write(b, "B1");
  Reloader reloader(std::chrono::milliseconds(10));
  Recorder rec;
  auto first = reloader.Watch({a, b}, rec.callback());
  REQUIRE(first.ok());
  CHECK(first.value() == std::vector<std::string>{"A1", "B1"});
  reloader.PollOnce();
  CHECK(rec.seen.empty());  // what Watch returned counts as seen
  Write(b, "B2");
  reloader.PollOnce();
  reloader.PollOnce();
  CHECK(rec.seen == std::vector<std::string>{"A1|B2"});
  // The same bytes written again (a new mtime) are not a change.
  Write(b, "B2");
  reloader.PollOnce();
  CHECK(rec.seen.size() == 1);
}

TEST_CASE("reloader: a ..data symlink swap, as the kubelet does it, is seen") {
  TempDir dir;
  // mount/tls.crt -> ..data/tls.crt, ..data -> ..v1
  fs::create_directory(dir.path + "/..v1");
  fs::create_directory(dir.path + "/..v2");
  Write(dir.path + "/..v1/tls.crt", "one");
  Write(dir.path + "/..v2/tls.crt", "two");
  fs::create_directory_symlink("..v1", dir.path + "/..data");
  fs::create_symlink("..data/tls.crt", dir.path + "/tls.crt");
  Reloader reloader(std::chrono::milliseconds(10));
  Recorder rec;
  REQUIRE(reloader.Watch({dir.path + "/tls.crt"}, rec.callback()).value()[0] == "one");
  // Atomic swap: a new symlink renamed over the old one; the file's own path never changes.
  fs::create_directory_symlink("..v2", dir.path + "/..data_tmp");
  fs::rename(dir.path + "/..data_tmp", dir.path + "/..data");
  reloader.PollOnce();
  CHECK(rec.seen == std::vector<std::string>{"two"});
}

TEST_CASE("reloader: an unreadable file is reported once, and its return is a change") {
  TempDir dir;
  const std::string a = dir.path + "/a";
  Write(a, "v1");
  Reloader reloader(std::chrono::milliseconds(10));
  Recorder rec;
  REQUIRE(reloader.Watch({a}, rec.callback()).ok());
  fs::remove(a);
  reloader.PollOnce();
  reloader.PollOnce();
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0].rfind("error: " + a, 0) == 0);
  Write(a, "v1");
  reloader.PollOnce();
  CHECK(rec.seen.size() == 2);
  CHECK(rec.seen[1] == "v1");
}

TEST_CASE("reloader: the polling thread starts and stops promptly") {
  TempDir dir;
  const std::string a = dir.path + "/a";
  Write(a, "v1");
  Reloader reloader(std::chrono::milliseconds(5));
  std::atomic<int> calls{0};
  REQUIRE(reloader.Watch({a}, [&](const auto&) { ++calls; }).ok());
  reloader.Start();
  Write(a, "v2");
  for (int i = 0; i < 400 && calls.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto before = std::chrono::steady_clock::now();
  reloader.Stop();
  CHECK(calls.load() == 1);
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::milliseconds(500));
}

// Hot reload by polling. Every interval each watched set of files is read whole and hashed
// (SHA-256 of the contents); when the hash differs from the last one seen, the set's callback
// gets the new contents. Hashing content rather than trusting mtimes or inotify catches every
// way a file can change — including the atomic swap of the `..data` symlink that Kubernetes
// uses to update mounted Secrets and ConfigMaps. A set is only passed on when two reads in a row
// agree, so a half-done update (a new cert with the old key) is usually not seen at all.
// Thread-safety: call Watch before Start; callbacks run on the reloader's own thread, one at a
// time; Stop may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "policy/result.h"

namespace rootgate::server {

class Reloader {
 public:
  // Contents of the watched files in Watch order, or why one could not be read.
  using Callback = std::function<void(const Result<std::vector<std::string>>& contents)>;

  explicit Reloader(std::chrono::milliseconds interval);
  ~Reloader();  // Stop()
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  // Watches `paths` as one set and returns their contents now (for the first load), which the
  // first poll then treats as already seen. An error names the file that could not be read.
  Result<std::vector<std::string>> Watch(std::vector<std::string> paths, Callback on_change);

  // Polls every interval on a new thread until Stop.
  void Start();
  void Stop();

  // One poll of every set, on the calling thread (tests; Start's loop).
  void PollOnce();

 private:
  struct WatchedSet {
    std::vector<std::string> paths;
    Callback on_change;
    std::string digest;  // of the last contents seen (or the last read error)
  };

  const std::chrono::milliseconds interval_;
  std::vector<WatchedSet> sets_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// The SHA-256 of a set of contents (each length-prefixed), as hex.
std::string DigestContents(const std::vector<std::string>& contents);

}  // namespace rootgate::server

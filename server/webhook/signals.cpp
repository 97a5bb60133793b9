#include "server/webhook/signals.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>

#include "server/util/duration.h"
#include "server/util/logging.h"

namespace rootgate::server {

namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

const char* SignalName(int sig) { return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal"; }

[[noreturn]] void ExitNow(int code) {
  spdlog::default_logger_raw()->flush();
  std::_Exit(code);  // not exit(): worker threads are still running; skip static destructors
}

}  // namespace

void BlockShutdownSignals() {
  const sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

ShutdownSignals::ShutdownSignals(std::chrono::nanoseconds grace, std::function<void(int)> on_signal,
                                 std::function<int64_t()> inflight)
    : grace_(grace), on_signal_(std::move(on_signal)), inflight_(std::move(inflight)) {
  thread_ = std::thread([this] { Loop(); });
}

ShutdownSignals::~ShutdownSignals() {
  Finished();
  if (thread_.joinable()) thread_.join();
}

void ShutdownSignals::Finished() { finished_.store(true); }

void ShutdownSignals::Loop() {
  const sigset_t set = ShutdownSet();
  const timespec tick{0, 50'000'000};  // how often Finished() is noticed
  std::chrono::steady_clock::time_point deadline{};
  while (!finished_.load()) {
    const int sig = sigtimedwait(&set, nullptr, &tick);
    const auto now = std::chrono::steady_clock::now();
    if (sig > 0 && signalled_.load()) {
      Log(spdlog::level::warn, "second signal; exiting now", {{"signal", SignalName(sig)}});
      ExitNow(1);
    }
    if (sig > 0) {
      signalled_.store(true);
      deadline = now + grace_;
      LogNow(spdlog::level::info, "shutting down: no new connections; finishing requests in flight",
          {{"signal", SignalName(sig)}, {"grace_period", FormatDuration(grace_)}});
      on_signal_(sig);
    } else if (signalled_.load() && now >= deadline && !finished_.load()) {
      Log(spdlog::level::err, "grace period over; exiting with requests in flight",
          {{"grace_period", FormatDuration(grace_)}, {"inflight", inflight_()}});
      ExitNow(1);
    }
  }
}

}  // namespace rootgate::server

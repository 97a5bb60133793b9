// Graceful shutdown on SIGTERM and SIGINT, handled on a dedicated thread with sigtimedwait —
// no work in asynchronous signal handlers. The first signal calls on_signal (which begins the
// shutdown) and starts the grace period; if Finished() has not been called when it ends, the
// process logs how many requests were still in flight and exits with status 1. A second
// signal during the grace period exits at once with status 1.
// Thread-safety: BlockShutdownSignals must run before any other thread is created, so every
// thread inherits the mask and only this one receives the signals. Finished may be called from
// any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

namespace rootgate::server {

// Blocks SIGTERM and SIGINT in the calling thread (and threads it creates later), and ignores
// SIGPIPE so a peer that hangs up mid-write cannot kill the process.
void BlockShutdownSignals();

class ShutdownSignals {
 public:
  // on_signal runs on the signal thread with the signal number; inflight reports the
  // requests still being handled, for the grace-period message.
  ShutdownSignals(std::chrono::nanoseconds grace, std::function<void(int)> on_signal,
                  std::function<int64_t()> inflight);
  ~ShutdownSignals();  // Finished(), then joins the thread
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Serving has ended: the thread exits and the grace timer no longer applies.
  void Finished();
  // Whether a shutdown signal arrived.
  bool Signalled() const { return signalled_.load(); }

 private:
  void Loop();

  const std::chrono::nanoseconds grace_;
  std::function<void(int)> on_signal_;
  std::function<int64_t()> inflight_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> signalled_{false};
  std::thread thread_;
};

}  // namespace rootgate::server

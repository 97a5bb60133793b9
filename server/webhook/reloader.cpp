#include "server/webhook/reloader.h"

#include <openssl/evp.h>

#include "server/util/files.h"

namespace rootgate::server {

std::string DigestContents(const std::vector<std::string>& contents) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (const std::string& c : contents) {
    const std::string len = std::to_string(c.size()) + ":";
    EVP_DigestUpdate(ctx, len.data(), len.size());
    EVP_DigestUpdate(ctx, c.data(), c.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  EVP_MD_CTX_free(ctx);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex += kDigits[md[i] >> 4];
    hex += kDigits[md[i] & 15];
  }
  return hex;
}

namespace {

Result<std::vector<std::string>> ReadAll(const std::vector<std::string>& paths) {
  std::vector<std::string> contents;
  for (const std::string& path : paths) {
    auto text = ReadInput(path);
    if (!text) return Error{path + ": " + text.error()};
    contents.push_back(std::move(text).value());
  }
  return contents;
}

std::string DigestOf(const Result<std::vector<std::string>>& read) {
  return read ? DigestContents(read.value()) : "error " + read.error();
}

// Reads until two reads in a row agree (at most three reads), so a set caught in the middle of
// a non-atomic update is read again rather than passed on torn.
Result<std::vector<std::string>> ReadStable(const std::vector<std::string>& paths, std::string* digest) {
  Result<std::vector<std::string>> read = ReadAll(paths);
  *digest = DigestOf(read);
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<std::vector<std::string>> again = ReadAll(paths);
    std::string again_digest = DigestOf(again);
    if (again_digest == *digest) break;
    read = std::move(again);
    *digest = std::move(again_digest);
  }
  return read;
}

}  // namespace

Reloader::Reloader(std::chrono::milliseconds interval) : interval_(interval) {}

Reloader::~Reloader() { Stop(); }

Result<std::vector<std::string>> Reloader::Watch(std::vector<std::string> paths, Callback on_change) {
  WatchedSet set{std::move(paths), std::move(on_change), ""};
  Result<std::vector<std::string>> first = ReadStable(set.paths, &set.digest);
  sets_.push_back(std::move(set));
  return first;
}

void Reloader::PollOnce() {
  for (WatchedSet& set : sets_) {
    std::string digest;
    if (DigestOf(ReadAll(set.paths)) == set.digest) continue;  // the cheap common case
    Result<std::vector<std::string>> read = ReadStable(set.paths, &digest);
    if (digest == set.digest) continue;
    set.digest = std::move(digest);
    try {
      set.on_change(read);
    } catch (...) {
      // Callbacks report their own failures; one that throws must not end the reload thread.
    }
  }
}

void Reloader::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      PollOnce();
      lock.lock();
    }
  });
}

void Reloader::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace rootgate::server

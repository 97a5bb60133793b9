#include "server/kube/kube_client.h"

#include <algorithm>
#include <random>
#include <thread>

namespace rootgate::server::kube {

using nlohmann::json;

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool Retryable(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::string PercentEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Retry-After in whole seconds (the HTTP-date form is not used by the API server).
std::optional<milliseconds> RetryAfter(const KubeHttpResponse& res) {
  const std::string v = res.Header("retry-after");
  if (v.empty() || v.size() > 6 || !std::all_of(v.begin(), v.end(), ::isdigit)) return std::nullopt;
  return milliseconds(std::stol(v) * 1000);
}

// Tracks the stack of containers while nlohmann parses a LIST body, so each element of the
// top-level "items" array can be handed over and dropped as soon as it is complete.
class ItemStreamer {
 public:
  explicit ItemStreamer(const std::function<void(json&&)>& on_item) : on_item_(on_item) {}

  bool operator()(int, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        if (stack_.size() == 1) in_items_ = key_ == "items" && event == E::array_start;
        stack_.push_back(event == E::object_start ? '{' : '[');
        return true;
      case E::key:
        if (stack_.size() == 1 && parsed.is_string()) key_ = parsed.get<std::string>();
        return true;
      case E::object_end:
      case E::array_end:
        stack_.pop_back();
        if (stack_.size() == 2 && in_items_ && event == E::object_end) {
          ++count_;
          on_item_(std::move(parsed));
          return false;
        }
        return true;
      case E::value:
        return true;
    }
    return true;
  }
  size_t count() const { return count_; }

 private:
  const std::function<void(json&&)>& on_item_;
  std::vector<char> stack_;
  std::string key_;
  bool in_items_ = false;
  size_t count_ = 0;
};

std::string StringAt(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string ApiResource::Path(const std::string& ns) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + PercentEncode(ns);
  return p + "/" + plural;
}

std::string NamespacePhrase(const ApiResource& resource, const std::string& ns) {
  if (!resource.namespaced) return "";
  return ns.empty() ? " in all namespaces" : " in namespace \"" + ns + "\"";
}

KubeClient::KubeClient(ClientConfig config, std::unique_ptr<KubeTransport> transport,
                       std::unique_ptr<CredentialSource> credentials, KubeClientOptions options)
    : config_(std::move(config)), transport_(std::move(transport)),
      credentials_(std::move(credentials)), options_(std::move(options)) {
  if (!options_.sleep) options_.sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
}

Result<std::unique_ptr<KubeClient>> KubeClient::Create(const ClientConfig& config, KubeClientOptions options) {
  auto transport = MakeKubeHttpTransport(config);
  if (!transport) return Error{config.server + ": " + transport.error()};
  std::shared_ptr<ExecRunner> runner = MakeProcessExecRunner();
  auto creds = MakeCredentialSource(config, runner, [] { return std::chrono::system_clock::now(); });
  return std::make_unique<KubeClient>(config, std::move(transport).value(), std::move(creds), std::move(options));
}

RequestStats KubeClient::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

KubeError KubeClient::StatusError(const KubeHttpResponse& res, const std::string& action) const {
  KubeError e;
  e.status = res.status;
  std::string message;
  try {
    const json status = json::parse(res.body);
    if (status.is_object() && StringAt(status, "kind") == "Status") {
      e.reason = StringAt(status, "reason");
      message = StringAt(status, "message");
    }
  } catch (const json::exception&) {
  }
  if (e.reason.empty()) {
    e.reason = res.status == 401 ? "Unauthorized" : res.status == 403 ? "Forbidden" : "";
  }
  if (message.empty()) {
    message = res.body.substr(0, 200);
    if (message.empty()) message = "(empty body)";
  }
  e.message = action + ": " + (e.reason.empty() ? "HTTP" : e.reason) + " (" + std::to_string(res.status) + "): " + message;
  if (res.status == 401) e.message += " (the credentials of " + config_.source + " were refused)";
  return e;
}

KubeResult<KubeHttpResponse> KubeClient::Send(const Call& call) {
  KubeResult<KubeHttpResponse> out;
  const auto deadline = SteadyClock::now() + options_.timeout;
  milliseconds backoff(250);
  bool reauthenticated = false;
  std::string last;  // the last failure, for the message when time runs out
  const auto cancelled = [&] { return options_.cancelled && options_.cancelled(); };
  for (int attempt = 0;; ++attempt) {
    if (options_.rate_limit) {
      const auto wait = options_.rate_limit->Take();
      if (wait.count() > 0) options_.sleep(std::chrono::ceil<milliseconds>(wait));
    }
    if (cancelled()) {
      out.error = KubeError{0, "", call.action + ": cancelled"};
      return out;
    }
    auto creds = credentials_->Get();
    if (!creds) {
      out.error = KubeError{0, "", call.action + ": " + creds.error()};
      return out;
    }
    KubeHttpRequest req;
    req.method = call.method;
    req.path = call.path;
    req.body = call.body;
    req.content_type = call.content_type;
    req.credentials = &creds.value();
    req.deadline = deadline;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.requests;
      if (attempt > 0) ++stats_.retries;
    }
    KubeTransportResult result = transport_->Send(req);
    std::optional<milliseconds> wait;
    if (auto* err = std::get_if<KubeTransportError>(&result)) {
      // "cannot connect": nothing was sent, so even a create or update may be tried again.
      const bool retry = !err->timeout && err->message.find("TLS") == std::string::npos &&
                         (call.idempotent || err->message == "cannot connect");
      if (!retry || attempt >= options_.max_retries) {
        const std::string why = err->timeout ? "timed out after " + std::to_string(options_.timeout.count() / 1000) + "s"
                                             : err->message;
        out.error = KubeError{0, "", call.action + ": API server " + config_.server + ": " + why};
        return out;
      }
      last = err->message;
    } else {
      KubeHttpResponse& res = std::get<KubeHttpResponse>(result);
      if (res.status >= 200 && res.status < 300) {
        out.value = std::move(res);
        return out;
      }
      if (res.status == 401 && !reauthenticated && credentials_->Invalidate()) {
        reauthenticated = true;
        continue;
      }
      const bool retryable = call.idempotent ? Retryable(res.status) : res.status == 429;
      if (!retryable || attempt >= options_.max_retries) {
        out.error = StatusError(res, call.action);
        return out;
      }
      wait = RetryAfter(res);
      last = StatusError(res, call.action).message.substr(call.action.size() + 2);
    }
    milliseconds pause = wait ? *wait : backoff;
    backoff = std::min(backoff * 2, milliseconds(8000));
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (pause >= left) {
      out.error = KubeError{0, "", call.action + ": API server " + config_.server + ": " + last + " (still failing after " +
                                       std::to_string(attempt + 1) + " attempts when the " +
                                       std::to_string(options_.timeout.count() / 1000) + "s timeout ran out)"};
      return out;
    }
    options_.sleep(pause);
    if (cancelled()) {
      out.error = KubeError{0, "", call.action + ": cancelled"};
      return out;
    }
  }
}

KubeResult<ListPage> KubeClient::List(const ApiResource& resource, const std::string& ns, size_t limit,
                                      const std::string& continue_token,
                                      const std::function<void(json&&)>& on_item) {
  KubeResult<ListPage> out;
  std::string path = resource.Path(ns) + "?limit=" + std::to_string(limit);
  if (!continue_token.empty()) path += "&continue=" + PercentEncode(continue_token);
  const std::string action = "list " + resource.Name() + NamespacePhrase(resource, ns);
  auto res = Send({"GET", path, "", "", action});
  if (!res.ok()) {
    out.error = res.error;
    return out;
  }
  ItemStreamer streamer(on_item);
  json doc;
  try {
    doc = json::parse(res.value.body, std::ref(streamer));
  } catch (const json::exception& e) {
    out.error = KubeError{0, "", action + ": the response is not JSON (" + std::string(e.what()) + ")"};
    return out;
  }
  auto meta = doc.is_object() ? doc.find("metadata") : doc.end();
  if (!doc.is_object() || !doc.contains("items") || meta == doc.end() || !meta->is_object()) {
    out.error = KubeError{0, "", action + ": the response is not a list (no items or metadata)"};
    return out;
  }
  out.value.items = streamer.count();
  out.value.continue_token = StringAt(*meta, "continue");
  out.value.resource_version = StringAt(*meta, "resourceVersion");
  if (auto r = meta->find("remainingItemCount"); r != meta->end() && r->is_number_integer()) {
    out.value.remaining = r->get<int64_t>();
  }
  return out;
}

namespace {

// A response's body as JSON, or the call's error (or "not JSON") as a value.
KubeResult<json> JsonBody(const KubeResult<KubeHttpResponse>& res, const std::string& action) {
  KubeResult<json> out;
  if (!res.ok()) {
    out.error = res.error;
    return out;
  }
  try {
    out.value = json::parse(res.value.body);
  } catch (const json::exception&) {
    out.error = KubeError{0, "", action + ": the response is not JSON"};
  }
  return out;
}

}  // namespace

KubeResult<json> KubeClient::Get(const std::string& path, const std::string& action) {
  return JsonBody(Send({"GET", path, "", "", action}), action);
}

KubeResult<json> KubeClient::Apply(const std::string& path, const json& object, const std::string& manager,
                                   const std::string& action) {
  const std::string query = "?fieldManager=" + PercentEncode(manager) + "&force=true";
  return JsonBody(Send({"PATCH", path + query, object.dump(), "application/apply-patch+yaml", action}), action);
}

KubeResult<json> KubeClient::Create(const std::string& collection_path, const json& object, const std::string& action) {
  Call call{"POST", collection_path, object.dump(), "application/json", action};
  call.idempotent = false;
  return JsonBody(Send(call), action);
}

KubeResult<json> KubeClient::Update(const std::string& path, const json& object, const std::string& action) {
  Call call{"PUT", path, object.dump(), "application/json", action};
  call.idempotent = false;
  return JsonBody(Send(call), action);
}

KubeResult<bool> KubeClient::Delete(const std::string& path, const std::string& action) {
  KubeResult<bool> out;
  auto res = Send({"DELETE", path, "", "", action});
  if (!res.ok() && res.error->status != 404) {
    out.error = res.error;
    return out;
  }
  out.value = true;
  return out;
}

}  // namespace rootgate::server::kube

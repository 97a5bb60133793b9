#include "server/registry/registry_options.h"

#include <charconv>

#include "server/registry/docker_config.h"
#include "server/util/duration.h"
#include "server/registry/registry_client.h"
#include "server/registry/registry_limits.h"
#include "server/registry/registry_transport.h"
#include "server/util/byte_size.h"

namespace rootgate::server {

const char* const kRegistryFlagsHelp =
    "  --allow-registry HOST[:PORT]     look images up only at these registries (repeatable); a\n"
    "                                   registry named here may also be on loopback/link-local\n"
    "  --insecure-registry HOST[:PORT]  reach this registry over plain HTTP (repeatable)\n"
    "  --registry-auth FILE             credentials: a Docker config.json (dockerconfigjson)\n"
    "  --registry-ca FILE               extra CA certificates (PEM) besides the system ones\n"
    "  --platform OS/ARCH[/VARIANT]     the platforms the cluster's nodes have (comma-separated or\n"
    "                                   repeated; overrides the policy's nodePlatforms; default:\n"
    "                                   any). Every such entry of a multi-platform image a pod\n"
    "                                   can land on is judged; the most privileged user applies\n"
    "  --offline                        no registry lookups\n"
    "  --image-cache-size N             image lookups kept (default 10000)\n"
    "  --image-cache-ttl DUR            how long a tag's answer is kept (default 5m)\n"
    "  --image-failure-ttl DUR          how long a failed lookup is kept (default 30s)\n"
    "  --named-user-max-bytes SIZE      layer bytes read per image for /etc/passwd (default 64Mi)\n"
    "  --registry-workers N             registry fetches at once (default 8)\n";

namespace {

// A HOST[:PORT] pattern for --allow-registry / --insecure-registry.
Result<std::string> HostPatternFlag(const std::string& v) {
  if (v.find("://") != std::string::npos || v.find('/') != std::string::npos) {
    return Error{"expected HOST[:PORT] without scheme or path, got \"" + v + "\""};
  }
  if (v.find_first_of("*?") == std::string::npos) {
    auto hp = SplitHostPort(v, 443);
    if (!hp) return Error{hp.error()};
  }
  return v;
}

Result<size_t> Count(const std::string& v) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size()) return Error{"expected a number, got \"" + v + "\""};
  return n;
}

Result<std::chrono::nanoseconds> Duration(const std::string& v) {
  auto d = ParseGoDuration(v);
  if (!d || d->count() < 0) return Error{"expected a duration such as 5m or 30s, got \"" + v + "\""};
  return *d;
}

// Applies one flag's value; "" on success, else what is wrong.
std::string Apply(const std::string& flag, const std::string& v, RegistryOptions* o) {
  if (flag == "--allow-registry" || flag == "--insecure-registry") {
    auto p = HostPatternFlag(v);
    if (!p) return p.error();
    (flag == "--allow-registry" ? o->allow : o->insecure).push_back(p.value());
  } else if (flag == "--registry-auth" || flag == "--registry-ca") {
    if (v.empty()) return "needs a file";
    (flag == "--registry-auth" ? o->auth_file : o->ca_file) = v;
  } else if (flag == "--platform") {
    size_t start = 0;
    while (start <= v.size()) {
      const size_t comma = v.find(',', start);
      auto p = ParsePlatform(std::string_view(v).substr(start, comma == std::string::npos ? comma : comma - start));
      if (!p) return p.error();
      o->platforms.push_back(p.value());
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else if (flag == "--image-cache-size" || flag == "--registry-workers") {
    auto n = Count(v);
    if (!n) return n.error();
    if (flag == "--registry-workers" && (n.value() == 0 || n.value() > 256)) return "must be 1 to 256";
    (flag == "--image-cache-size" ? o->cache_entries : o->workers) = n.value();
  } else if (flag == "--image-cache-ttl" || flag == "--image-failure-ttl") {
    auto d = Duration(v);
    if (!d) return d.error();
    (flag == "--image-cache-ttl" ? o->tag_ttl : o->failure_ttl) = d.value();
  } else if (flag == "--named-user-max-bytes") {
    auto n = ParseByteSize(v);
    if (!n) return n.error();
    o->layer_byte_cap = n.value();
  }
  return "";
}

bool TakesValue(const std::string& flag) {
  static const char* const kFlags[] = {
      "--allow-registry", "--insecure-registry", "--registry-auth", "--registry-ca", "--platform",
      "--image-cache-size", "--image-cache-ttl", "--image-failure-ttl", "--named-user-max-bytes",
      "--registry-workers"};
  for (const char* f : kFlags) {
    if (flag == f) return true;
  }
  return false;
}

// Owns what a RegistryClient refers to.
class OwnedRegistryClient final : public ImageUserFetcher {
 public:
  OwnedRegistryClient(std::unique_ptr<RegistryTransport> transport,
                      std::unique_ptr<RegistryCredentials> credentials, const Clock& clock)
      : transport_(std::move(transport)), credentials_(std::move(credentials)),
        client_(*transport_, dns_, credentials_.get(), [&clock] { return clock.Now(); }) {}

  Fetched<ImageUsers> Fetch(const ImageLocation& location, const LookupSettings& settings,
                            SteadyTime deadline) override {
    return client_.Fetch(location, settings, deadline);
  }
  void Cancel() override { client_.Cancel(); }
  void ClearCache() override { client_.ClearCache(); }

 private:
  std::unique_ptr<RegistryTransport> transport_;
  std::unique_ptr<RegistryCredentials> credentials_;
  SystemHostResolver dns_;
  RegistryClient client_;
};

}  // namespace

Result<bool> ConsumeRegistryFlag(const std::vector<std::string>& args, size_t* i, RegistryOptions* o) {
  const std::string& arg = args[*i];
  if (arg == "--offline") {
    o->offline = true;
    return true;
  }
  const size_t eq = arg.find('=');
  const std::string flag = arg.substr(0, eq);
  if (!TakesValue(flag)) return false;
  std::string value;
  if (eq != std::string::npos) {
    value = arg.substr(eq + 1);
  } else if (*i + 1 < args.size()) {
    value = args[++*i];
  } else {
    return Error{flag + " needs a value"};
  }
  const std::string problem = Apply(flag, value, o);
  if (!problem.empty()) return Error{flag + ": " + problem};
  return true;
}

Result<std::unique_ptr<ImageResolver>> BuildImageResolver(const RegistryOptions& options,
                                                          const Clock& clock,
                                                          std::chrono::nanoseconds background_budget,
                                                          bool log_fetches) {
  auto credentials = std::make_unique<RegistryCredentials>();
  if (!options.auth_file.empty()) {
    auto loaded = RegistryCredentials::Load(options.auth_file);
    if (!loaded) return Error{loaded.error()};
    *credentials = std::move(loaded).value();
  }
  auto transport = MakeHttpTransport(HttpTransportOptions{options.ca_file, 4});
  if (!transport) return Error{transport.error()};
  ResolverOptions r;
  r.cache_entries = options.cache_entries;
  r.tag_ttl = options.tag_ttl;
  r.failure_ttl = options.failure_ttl;
  r.workers = options.workers;
  r.background_budget = background_budget;
  r.log_fetches = log_fetches;
  if (!options.platforms.empty()) r.platforms = options.platforms;
  r.layer_byte_cap = options.layer_byte_cap;
  r.allow_flags = options.allow;
  r.insecure_flags = options.insecure;
  auto fetcher = std::make_unique<OwnedRegistryClient>(std::move(transport).value(),
                                                       std::move(credentials), clock);
  return std::make_unique<ImageResolver>(std::move(fetcher), clock, std::move(r));
}

}  // namespace rootgate::server

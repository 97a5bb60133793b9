// RegistryClient against the in-memory registry: media types, platforms, digest checks, size
// caps, the bearer and basic flows, token caching, redirects and their limits, forbidden
// addresses, and named users through layers.
#include "server/registry/registry_client.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "server/registry/registry_test_support.h"

namespace {

using namespace rootgate::server;
using namespace rootgate::server::testing;
using Kind = LookupError::Kind;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct Rig {
  FakeRegistry registry;
  FakeDns dns;
  RegistryCredentials creds;
  RegistryLimits limits;
  LookupSettings settings;
  std::unique_ptr<RegistryClient> client;

  Rig() {
    settings.limits = &limits;
    client = std::make_unique<RegistryClient>(registry, dns, &creds, [] { return std::chrono::steady_clock::now(); });
  }
  Fetched<ImageUsers> Fetch(const std::string& repo, const std::string& ref, std::chrono::milliseconds budget = std::chrono::seconds(5)) {
    ImageLocation loc{"registry.example", SplitHostPort("registry.example", 443).value(), false, repo, ref};
    return client->Fetch(loc, settings, std::chrono::steady_clock::now() + budget);
  }
};

TEST_CASE("RegistryClient: OCI and Docker manifests, by tag and by digest") {
  Rig rig;
  const std::string d = rig.registry.AddImage("team/app", "1.0", "1000");
  rig.registry.AddImage("team/dock", "v2", "", {}, kDockerManifestType);
  auto tag = rig.Fetch("team/app", "1.0");
  REQUIRE_MESSAGE(tag.ok(), (tag.ok() ? "" : tag.error().message));
  REQUIRE(tag.value().users.size() == 1);
  CHECK(tag.value().users[0].user == "1000");
  CHECK(tag.value().users[0].platform == "");
  CHECK(tag.value().digest == d);
  auto by_digest = rig.Fetch("team/app", d);
  REQUIRE(by_digest.ok());
  CHECK(by_digest.value().users[0].user == "1000");
  auto docker = rig.Fetch("team/dock", "v2");
  REQUIRE(docker.ok());
  CHECK(docker.value().users[0].user == "");
  // The manifest request asks for all four media types.
  const auto log = rig.registry.Log();
  bool accept_ok = false;
  for (const auto& [n, v] : log.front().headers) accept_ok = accept_ok || (n == "Accept" && v == kManifestAccept);
  CHECK(accept_ok);
}

TEST_CASE("RegistryClient: digests are verified") {
  Rig rig;
  const std::string d = rig.registry.AddImage("team/app", "1.0", "1000");
  // A registry that serves other content under a digest.
  rig.registry.manifests["team/app@" + d].first += " ";
  auto tampered = rig.Fetch("team/app", d);
  REQUIRE_FALSE(tampered.ok());
  CHECK(tampered.error().kind == Kind::kInvalid);
  CHECK(Has(tampered.error().message, "manifest digest mismatch"));
  Rig header;
  header.registry.AddImage("team/app", "1.0", "1000");
  header.registry.wrong_content_digest = "sha256:" + std::string(64, '0');
  auto lies = header.Fetch("team/app", "1.0");
  REQUIRE_FALSE(lies.ok());
  CHECK(Has(lies.error().message, "the registry says sha256:000"));
  Rig config;
  config.registry.AddImage("team/app", "1.0", "1000");
  for (auto& [digest, bytes] : config.registry.blobs) bytes = R"({"config":{"User":"0"}})";
  auto swapped = config.Fetch("team/app", "1.0");
  REQUIRE_FALSE(swapped.ok());
  CHECK(Has(swapped.error().message, "image config digest mismatch"));
}

TEST_CASE("RegistryClient: an index gives every platform, or the nodes' platforms when named") {
  Rig rig;
  const std::string amd = rig.registry.AddImage("team/multi", "", "");
  const std::string arm = rig.registry.AddImage("team/multi", "", "1000");
  const std::string v7 = rig.registry.AddImage("team/multi", "", "7");
  rig.registry.AddIndex("team/multi", "1.0",
                        {{"linux/arm64", arm}, {"linux/amd64", amd}, {"linux/arm/v7", v7}, {"unknown/unknown", amd}});
  auto all = rig.Fetch("team/multi", "1.0");
  REQUIRE(all.ok());
  CHECK(all.value().index);
  REQUIRE(all.value().users.size() == 3);  // the attestation entry (unknown/unknown) is left out
  CHECK(all.value().users[0].platform == "linux/arm64");
  CHECK(all.value().users[0].user == "1000");
  CHECK(all.value().users[1].platform == "linux/amd64");
  CHECK(all.value().users[1].user == "");
  CHECK(all.value().users[2].platform == "linux/arm/v7");
  CHECK(all.value().users[2].entry == Platform{"linux", "arm", "v7"});
  CHECK(all.value().users[2].user == "7");
  CHECK_FALSE(all.value().partial());
  rig.settings.platforms = {ParsePlatform("linux/amd64").value()};
  auto one = rig.Fetch("team/multi", "1.0");
  REQUIRE(one.ok());
  REQUIRE(one.value().users.size() == 1);
  CHECK(one.value().users[0].platform == "linux/amd64");
  rig.settings.platforms = {ParsePlatform("linux/s390x").value()};
  auto none = rig.Fetch("team/multi", "1.0");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().kind == Kind::kNotFound);
  CHECK(Has(none.error().message, "no manifest for linux/s390x in the index (it has linux/arm64, linux/amd64, linux/arm/v7)"));
}

TEST_CASE("RegistryClient: a platform that cannot be read is reported, the others still count") {
  Rig rig;
  const std::string amd = rig.registry.AddImage("team/multi", "", "1000");
  const std::string gone = "sha256:" + std::string(64, 'a');
  rig.registry.AddIndex("team/multi", "1.0", {{"linux/amd64", amd}, {"linux/arm64", gone}});
  auto r = rig.Fetch("team/multi", "1.0");
  REQUIRE(r.ok());
  REQUIRE(r.value().users.size() == 2);
  CHECK(r.value().users[0].error.empty());
  CHECK(r.value().users[0].user == "1000");
  CHECK_FALSE(r.value().users[1].error.empty());
  CHECK(r.value().partial());
}

TEST_CASE("RegistryClient: platform manifests are cached by digest, across indexes") {
  Rig rig;
  const std::string amd = rig.registry.AddImage("team/multi", "", "1000");
  const std::string arm = rig.registry.AddImage("team/multi", "", "2000");
  rig.registry.AddIndex("team/multi", "a", {{"linux/amd64", amd}, {"linux/arm64", arm}});
  rig.registry.AddIndex("team/multi", "b", {{"linux/amd64", amd}});
  REQUIRE(rig.Fetch("team/multi", "a").ok());
  CHECK(rig.registry.Count("/manifests/" + amd) == 1);
  CHECK(rig.registry.Count("/manifests/" + arm) == 1);
  auto b = rig.Fetch("team/multi", "b");
  REQUIRE(b.ok());
  CHECK(b.value().users[0].user == "1000");
  CHECK(rig.registry.Count("/manifests/" + amd) == 1);  // not fetched again
  CHECK(rig.registry.Count("/manifests/b") == 1);
  rig.client->ClearCache();
  REQUIRE(rig.Fetch("team/multi", "b").ok());
  CHECK(rig.registry.Count("/manifests/" + amd) == 2);
}

TEST_CASE("RegistryClient: not found, caps, timeouts") {
  Rig rig;
  auto missing = rig.Fetch("team/none", "1.0");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == Kind::kNotFound);
  CHECK(missing.error().message == "manifest not found (404 MANIFEST_UNKNOWN)");
  rig.registry.AddManifest("team/huge", "1.0", std::string(5 << 20, ' '), std::string(kOciManifestType));
  auto huge = rig.Fetch("team/huge", "1.0");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().kind == Kind::kTooLarge);
  CHECK(huge.error().message == "manifest larger than 4 MiB");
  rig.registry.AddImage("team/slow", "1.0", "1000");
  rig.registry.delay = std::chrono::milliseconds(2000);
  const auto t0 = std::chrono::steady_clock::now();
  auto slow = rig.Fetch("team/slow", "1.0", std::chrono::milliseconds(100));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1000));
  REQUIRE_FALSE(slow.ok());
  CHECK(slow.error().kind == Kind::kTimeout);
}

TEST_CASE("RegistryClient: anonymous bearer flow, token cached") {
  Rig rig;
  rig.registry.auth = FakeRegistry::Auth::kBearer;
  rig.registry.AddImage("team/app", "1.0", "1000");
  auto first = rig.Fetch("team/app", "1.0");
  REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
  CHECK(first.value().users[0].user == "1000");
  CHECK(rig.registry.Count("/token") == 1);
  const std::string token_path = [&] {
    for (const auto& r : rig.registry.Log()) {
      if (r.target.endpoint.host == "auth.example") return r.path;
    }
    return std::string();
  }();
  CHECK(token_path == "/token?service=registry.example&scope=repository%3Ax%3Apull");
  auto second = rig.Fetch("team/app", "1.0");
  REQUIRE(second.ok());
  CHECK(rig.registry.Count("/token") == 1);  // the cached token is reused
  for (const auto& r : rig.registry.Log()) {
    for (const auto& [n, v] : r.headers) {
      if (r.target.endpoint.host == "auth.example") CHECK(n != "Authorization");  // anonymous
    }
  }
}

TEST_CASE("RegistryClient: concurrent lookups that need one token make one token request") {
  Rig rig;
  rig.registry.auth = FakeRegistry::Auth::kBearer;
  rig.registry.delay = std::chrono::milliseconds(20);
  for (int i = 0; i < 8; ++i) rig.registry.AddImage("team/app", std::to_string(i), "1000");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&rig, &ok, i] { ok += rig.Fetch("team/app", std::to_string(i)).ok(); });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  CHECK(rig.registry.Count("/token") == 1);
}

TEST_CASE("RegistryClient: credentials for the token, basic auth, identity tokens") {
  Rig rig;
  rig.registry.auth = FakeRegistry::Auth::kBearer;
  rig.registry.token_basic = "Basic " + EncodeBase64("user:pass");
  rig.registry.AddImage("team/app", "1.0", "1000");
  auto anonymous = rig.Fetch("team/app", "1.0");
  REQUIRE_FALSE(anonymous.ok());
  CHECK(anonymous.error().kind == Kind::kUnauthorized);
  CHECK(Has(anonymous.error().message, "token server refused anonymous access (401)"));
  rig.creds = RegistryCredentials::Parse(R"({"auths":{"registry.example":{"username":"user","password":"pass"}}})").value();
  auto with = rig.Fetch("team/app", "1.0");
  REQUIRE_MESSAGE(with.ok(), (with.ok() ? "" : with.error().message));

  Rig basic;
  basic.registry.auth = FakeRegistry::Auth::kBasic;
  basic.registry.AddImage("team/app", "1.0", "0");
  auto none = basic.Fetch("team/app", "1.0");
  REQUIRE_FALSE(none.ok());
  CHECK(Has(none.error().message, "no credentials for registry.example (--registry-auth)"));
  basic.creds = RegistryCredentials::Parse(R"({"auths":{"registry.example":{"auth":"dXNlcjpwYXNz"}}})").value();
  auto ok = basic.Fetch("team/app", "1.0");
  REQUIRE(ok.ok());
  CHECK(ok.value().users[0].user == "0");

  Rig idt;
  idt.registry.auth = FakeRegistry::Auth::kBearer;
  idt.registry.AddImage("team/app", "1.0", "1");
  idt.creds = RegistryCredentials::Parse(R"({"auths":{"registry.example":{"identitytoken":"refresh"}}})").value();
  REQUIRE(idt.Fetch("team/app", "1.0").ok());
  bool posted = false;
  for (const auto& r : idt.registry.Log()) {
    if (r.method == "POST") {
      posted = true;
      CHECK(Has(r.body, "grant_type=refresh_token"));
      CHECK(Has(r.body, "refresh_token=refresh"));
    }
  }
  CHECK(posted);
}

TEST_CASE("RegistryClient: blob redirects are followed, checked, and carry no credentials") {
  Rig rig;
  rig.registry.auth = FakeRegistry::Auth::kBearer;
  rig.registry.blob_redirect = "https://storage.example/b/";
  rig.registry.AddImage("team/app", "1.0", "1000");
  auto ok = rig.Fetch("team/app", "1.0");
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  CHECK(ok.value().users[0].user == "1000");
  for (const auto& r : rig.registry.Log()) {
    if (r.target.endpoint.host != "storage.example") continue;
    CHECK(r.target.address == "93.184.216.36");
    for (const auto& [n, v] : r.headers) CHECK(n != "Authorization");
  }
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"https://127.0.0.1/b/", "127.0.0.1 is a loopback address: refused"},
      {"https://169.254.169.254/latest/meta-data/", "cloud metadata"},
      {"https://evil.example/b/", "evil.example resolves to loopback address 127.0.0.1"},
      {"https://meta.example/b/", "cloud metadata address 169.254.169.254"},
      {"http://storage.example/b/", "redirect from HTTPS to plain HTTP storage.example:80 refused"},
      {"ftp://storage.example/b/", "bad redirect"},
      {"https://user:pw@storage.example/b/", "user info"},
  };
  for (const auto& [location, why] : refused) {
    INFO(location);
    Rig bad;
    bad.registry.blob_redirect = location;
    bad.registry.AddImage("team/app", "1.0", "1000");
    auto r = bad.Fetch("team/app", "1.0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == Kind::kRefused);
    CHECK_MESSAGE(Has(r.error().message, why), r.error().message);
  }
  Rig loop;  // the registry redirects to itself forever
  loop.registry.blob_redirect = "/v2/team/app/blobs/";
  loop.registry.AddImage("team/app", "1.0", "1000");
  auto looped = loop.Fetch("team/app", "1.0");
  REQUIRE_FALSE(looped.ok());
  CHECK(looped.error().message == "more than 3 redirects");
}

TEST_CASE("RegistryClient: the next vetted address when one refuses the connection") {
  Rig rig;
  rig.dns.table["registry.example"] = {"2001:db8::1", "93.184.216.34"};
  rig.registry.refuse_addresses = {"2001:db8::1"};
  rig.registry.AddImage("team/app", "1.0", "1000");
  auto r = rig.Fetch("team/app", "1.0");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  const auto log = rig.registry.Log();
  REQUIRE(log.size() >= 2);
  CHECK(log[0].target.address == "2001:db8::1");
  CHECK(log[1].target.address == "93.184.216.34");
  rig.registry.refuse_addresses = {"2001:db8::1", "93.184.216.34"};
  auto down = rig.Fetch("team/app", "2.0");
  REQUIRE_FALSE(down.ok());
  CHECK(down.error().kind == Kind::kNetwork);
  CHECK(down.error().message == "cannot connect to registry.example:443 (93.184.216.34)");
}

TEST_CASE("RegistryClient: a registry on a forbidden address, unless named") {
  Rig rig;
  rig.registry.host = "evil.example";
  rig.registry.AddImage("team/app", "1.0", "1000");
  ImageLocation loc{"evil.example", SplitHostPort("evil.example", 443).value(), false, "team/app", "1.0"};
  auto refused = rig.client->Fetch(loc, rig.settings, std::chrono::steady_clock::now() + std::chrono::seconds(5));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == Kind::kRefused);
  CHECK(rig.registry.Log().empty());  // refused before any connection
  RegistryLimits named({}, {"evil.example"}, {});
  rig.settings.limits = &named;
  CHECK(rig.client->Fetch(loc, rig.settings, std::chrono::steady_clock::now() + std::chrono::seconds(5)).ok());
}

TEST_CASE("RegistryClient: named users through the image's /etc/passwd") {
  const std::string passwd = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nadmin:x:0:0::/:\n";
  Rig rig;
  rig.settings.resolve_names = true;
  // Base layer has /etc/passwd; the top layer something else.
  rig.registry.AddImage("team/app", "1.0", "app",
                        {GzipTarWith("etc/passwd", passwd), GzipTarWith("srv/app", "binary")});
  auto app = rig.Fetch("team/app", "1.0");
  REQUIRE(app.ok());
  CHECK(app.value().users[0].name_uid == std::optional<int64_t>(1000));
  rig.registry.AddImage("team/admin", "1.0", "admin:0", {GzipTarWith("etc/passwd", passwd)});
  CHECK(rig.Fetch("team/admin", "1.0").value().users[0].name_uid == std::optional<int64_t>(0));
  rig.registry.AddImage("team/ghost", "1.0", "ghost", {GzipTarWith("etc/passwd", passwd)});
  auto ghost = rig.Fetch("team/ghost", "1.0");
  CHECK_FALSE(ghost.value().users[0].name_uid.has_value());
  CHECK(ghost.value().users[0].passwd_note ==
        "USER ghost is not in the image's /etc/passwd; the container would not start");
  // A top-layer whiteout hides the base layer's file.
  rig.registry.AddImage("team/wh", "1.0", "app",
                        {GzipTarWith("etc/passwd", passwd), GzipTarWith("etc/.wh.passwd", "")});
  CHECK(rig.Fetch("team/wh", "1.0").value().users[0].passwd_note ==
        "the image has no /etc/passwd; the container would not start");
  // Within one layer the last copy of etc/passwd is the one extraction leaves.
  const std::string twice = GzipTar({{"etc/passwd", "app:x:1000:1000::/:\n"}, {"etc/passwd", "app:x:0:0::/:\n"}});
  rig.registry.AddImage("team/twice", "1.0", "app", {twice});
  CHECK(rig.Fetch("team/twice", "1.0").value().users[0].name_uid == std::optional<int64_t>(0));
  // Numeric users and root are not looked up.
  const size_t before = rig.registry.Log().size();
  rig.registry.AddImage("team/num", "1.0", "1000", {GzipTarWith("etc/passwd", passwd)});
  REQUIRE(rig.Fetch("team/num", "1.0").ok());
  CHECK(rig.registry.Log().size() == before + 2);  // manifest and config only
  // Past the byte cap the name stays unresolved.
  rig.settings.layer_byte_cap = 100;
  auto capped = rig.Fetch("team/app", "1.0");
  CHECK_FALSE(capped.value().users[0].name_uid.has_value());
  CHECK_MESSAGE(Has(capped.value().users[0].passwd_note, "layer byte cap"), capped.value().users[0].passwd_note);
  // Not asked: names are left alone.
  rig.settings.resolve_names = false;
  rig.settings.layer_byte_cap = 64 << 20;
  auto off = rig.Fetch("team/app", "1.0");
  CHECK_FALSE(off.value().users[0].name_uid.has_value());
  CHECK(off.value().users[0].passwd_note.empty());
}

// /etc/passwd as a link, followed as extraction leaves it and the runtime opens it: a symlink
// inside the root (securejoin: ".." stops at the root), in the merged view of every layer; a
// hard link to its target as it stood when the link was extracted (same layer, then lower).
TEST_CASE("RegistryClient: an /etc/passwd that is a link is followed") {
  const std::string app1000 = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n";
  const std::string app0 = "app:x:0:0::/:/bin/sh\n";
  Rig rig;
  rig.settings.resolve_names = true;
  auto uid_of = [&](const std::string& repo, std::vector<std::string> layers) {
    rig.registry.AddImage(repo, "1", "app", std::move(layers));
    auto r = rig.Fetch(repo, "1");
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r.value().users[0];
  };
  const std::string lib = GzipTarWith("usr/lib/passwd", app1000);
  // Relative, absolute, and escaping the root (stays inside it).
  for (const char* target : {"../usr/lib/passwd", "/usr/lib/passwd", "../../../../usr/lib/passwd", "/../usr/./lib/passwd"}) {
    CAPTURE(target);
    const std::string repo = std::string("team/sym") + std::to_string(std::string(target).size());
    const PlatformUser u = uid_of(repo, {lib, GzipTarEntries({{"etc/passwd", "", '2', target}})});
    CHECK(u.name_uid == std::optional<int64_t>(1000));
  }
  // The symlink's target is the merged view's: an upper layer's copy wins.
  CHECK(uid_of("team/sym-upper", {GzipTarEntries({{"etc/passwd", "", '2', "/usr/lib/passwd"}}), lib,
                                  GzipTarWith("usr/lib/passwd", app0)}).name_uid == std::optional<int64_t>(0));
  // Dangling, a loop, a whiteout of the target: unknown, with the reason.
  const PlatformUser dangling = uid_of("team/dangling", {GzipTarEntries({{"etc/passwd", "", '2', "/nowhere"}})});
  CHECK_FALSE(dangling.name_uid.has_value());
  CHECK(dangling.passwd_note == "its /etc/passwd is a link to /nowhere, which the image does not have; the container would not start");
  const PlatformUser loop = uid_of("team/loop", {GzipTarEntries({{"etc/passwd", "", '2', "passwd2"}, {"etc/passwd2", "", '2', "/etc/passwd"}})});
  CHECK_FALSE(loop.name_uid.has_value());
  CHECK(Has(loop.passwd_note, "more than 8 links to follow"));
  CHECK(uid_of("team/sym-wh", {lib, GzipTarEntries({{"etc/passwd", "", '2', "/usr/lib/passwd"}, {"usr/lib/.wh.passwd", "", '0', ""}})})
            .passwd_note == "its /etc/passwd is a link to /usr/lib/passwd, which the image does not have; the container would not start");
  // A symlink in place of a directory on the way is not followed: unknown.
  const PlatformUser dir = uid_of("team/dirlink", {lib, GzipTarEntries({{"etc/passwd", "", '2', "/lib2/passwd"}, {"lib2", "", '2', "usr/lib"}})});
  CHECK_FALSE(dir.name_uid.has_value());
  CHECK(Has(dir.passwd_note, "/lib2 (on the way to /lib2/passwd) is a link"));
  // A hard link in the same layer: its target's content when the link was extracted, not a
  // later copy of the target.
  CHECK(uid_of("team/hard", {GzipTarEntries({{"usr/lib/passwd", app1000, '0', ""}, {"etc/passwd", "", '1', "usr/lib/passwd"},
                                             {"usr/lib/passwd", app0, '0', ""}})})
            .name_uid == std::optional<int64_t>(1000));
  // A hard link to a lower layer's file, and to a hard link.
  CHECK(uid_of("team/hard-lower", {GzipTarWith("usr/lib/passwd", app0), GzipTarEntries({{"etc/passwd", "", '1', "./usr/lib/passwd"}})})
            .name_uid == std::optional<int64_t>(0));
  CHECK(uid_of("team/hard-chain", {GzipTarEntries({{"a", app0, '0', ""}, {"b", "", '1', "a"}, {"a", app1000, '0', ""}}),
                                   GzipTarEntries({{"etc/passwd", "", '1', "b"}})})
            .name_uid == std::optional<int64_t>(0));
  // A hard link whose target this layer deleted before it: the image cannot be extracted.
  CHECK(Has(uid_of("team/hard-gone", {lib, GzipTarEntries({{"usr/lib/.wh.passwd", "", '0', ""}, {"etc/passwd", "", '1', "usr/lib/passwd"}})})
                .passwd_note, "is a link to /usr/lib/passwd, which the image does not have"));
  // A hard link to a symlink: tools differ, so not known.
  CHECK(Has(uid_of("team/hard-sym", {lib, GzipTarEntries({{"s", "", '2', "usr/lib/passwd"}, {"etc/passwd", "", '1', "s"}})})
                .passwd_note, "a hard link to a symlink"));
}

// A Dockerfile's `FROM node:20` + `USER node`: the name is looked up in the base's passwd
// whatever its config's User says (issue 18, item 4).
TEST_CASE("RegistryClient: a user name asked for, looked up in the image's /etc/passwd") {
  const std::string passwd = "root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\ntoor:x:0:0::/:\n";
  Rig rig;
  rig.registry.AddImage("library/node", "20", "", {GzipTarWith("etc/passwd", passwd), GzipTarWith("srv/app", "x")});
  auto ask = [&](const std::string& name) {
    rig.settings.user_name = name;
    auto r = rig.Fetch("library/node", "20");
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    REQUIRE(r.value().users.size() == 1);
    return r.value().users[0];
  };
  const PlatformUser node = ask("node");
  CHECK(node.user == "node");  // the name asked for, not the config's (empty) User
  CHECK(node.name_uid == std::optional<int64_t>(1000));
  CHECK(ask("toor").name_uid == std::optional<int64_t>(0));
  const PlatformUser ghost = ask("ghost");
  CHECK_FALSE(ghost.name_uid.has_value());
  CHECK(ghost.passwd_note == "USER ghost is not in the image's /etc/passwd; the container would not start");
  // One layer walk answered the three names; the config was never fetched for them.
  CHECK(rig.client->passwd_cache().walks() == 1);
  CHECK(rig.registry.Count("/blobs/") == 2);  // the two layers, once
  // Asked regardless of resolve_names, which is about the config's User.
  rig.settings.resolve_names = false;
  CHECK(ask("node").name_uid == std::optional<int64_t>(1000));
  // Another byte cap is another walk (a cap reached must not be answered from a larger one).
  rig.settings.layer_byte_cap = 10;
  const PlatformUser capped = ask("node");
  CHECK_FALSE(capped.name_uid.has_value());
  CHECK(Has(capped.passwd_note, "layer byte cap"));
  // No /etc/passwd at all.
  rig.settings.layer_byte_cap = 64 << 20;
  rig.registry.AddImage("team/nopasswd", "1", "", {GzipTarWith("etc/hosts", "x")});
  rig.settings.user_name = "node";
  CHECK(rig.Fetch("team/nopasswd", "1").value().users[0].passwd_note ==
        "the image has no /etc/passwd; the container would not start");
}

TEST_CASE("RegistryClient: a user name in every platform of an index, each walk cached") {
  Rig rig;
  const std::string amd = rig.registry.AddImage("library/node", "", "", {GzipTarWith("etc/passwd", "node:x:1000:1000::/:\n")});
  const std::string arm = rig.registry.AddImage("library/node", "", "", {GzipTarWith("etc/passwd", "node:x:0:0::/:\n")});
  rig.registry.AddIndex("library/node", "20", {{"linux/amd64", amd}, {"linux/arm64", arm}});
  rig.settings.user_name = "node";
  auto r = rig.Fetch("library/node", "20");
  REQUIRE(r.ok());
  REQUIRE(r.value().users.size() == 2);
  CHECK(r.value().users[0].name_uid == std::optional<int64_t>(1000));
  CHECK(r.value().users[1].name_uid == std::optional<int64_t>(0));
  CHECK(rig.client->passwd_cache().walks() == 2);
  rig.settings.user_name = "other";
  auto other = rig.Fetch("library/node", "20");
  CHECK(Has(other.value().users[0].passwd_note, "USER other is not in"));
  CHECK(rig.client->passwd_cache().walks() == 2);  // the same two walks answer another name
}

TEST_CASE("PasswdCache: concurrent walks of one image share one; failures are not kept") {
  PasswdCache cache;
  std::atomic<int> ran{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto slow = [&] {
    ++ran;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return PasswdRead{PasswdRead::Kind::kFound, "a:x:1:1::/:\n", ""};
  };
  std::vector<std::thread> threads;
  std::atomic<int> found{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { found += cache.Get("k", deadline, slow).kind == PasswdRead::Kind::kFound; });
  }
  for (auto& t : threads) t.join();
  CHECK(ran == 1);
  CHECK(found == 8);
  int failed = 0;
  auto fails = [&] {
    ++failed;
    return PasswdRead{PasswdRead::Kind::kGiveUp, "", "its /etc/passwd was not read: connection reset"};
  };
  CHECK(cache.Get("f", deadline, fails).note == "its /etc/passwd was not read: connection reset");
  cache.Get("f", deadline, fails);
  CHECK(failed == 2);  // asked again
  // A file over 64 KiB is answered but not kept.
  int big = 0;
  auto large = [&] {
    ++big;
    return PasswdRead{PasswdRead::Kind::kFound, std::string(70000, 'x'), ""};
  };
  cache.Get("big", deadline, large);
  cache.Get("big", deadline, large);
  CHECK(big == 2);
}

TEST_CASE("ParseUrl") {
  auto u = ParseUrl("https://Auth.Example:8443/token?x=1#frag", nullptr);
  REQUIRE(u.ok());
  CHECK(u.value().tls);
  CHECK(u.value().host.host == "auth.example");
  CHECK(u.value().host.port == 8443);
  CHECK(u.value().path == "/token?x=1");
  CHECK(u.value().String() == "https://auth.example:8443/token?x=1");
  auto rel = ParseUrl("/v2/x", &u.value());
  REQUIRE(rel.ok());
  CHECK(rel.value().host.host == "auth.example");
  CHECK(ParseUrl("http://h", nullptr).value().path == "/");
  CHECK(ParseUrl("http://h?q", nullptr).value().path == "/?q");
  CHECK(ParseUrl("http://h", nullptr).value().host.port == 80);
  CHECK_FALSE(ParseUrl("/x", nullptr).ok());
  CHECK_FALSE(ParseUrl("//h/x", nullptr).ok());
  CHECK_FALSE(ParseUrl("https://h/a b", nullptr).ok());
  CHECK_FALSE(ParseUrl("https://h/a\r\nX: y", nullptr).ok());
  CHECK_FALSE(ParseUrl("gopher://h/", nullptr).ok());
}

}  // namespace

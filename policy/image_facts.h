// Image facts: what is known about an image's config `User`, keyed by the reference as written
// in the pod spec. The evaluator asks the policy's static overrides first and this interface
// second; the server fills it from its cache and the OCI registry, the CLI from the registry
// (--resolve-images) or not at all. A second question, for Dockerfiles, is the uid of a given
// user name in an image's /etc/passwd (FindUserName: its base image's, for a USER the
// Dockerfile does not create). Implementations must be safe for concurrent const use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policy/platform.h"

namespace rootgate::policy {

struct PlatformFact;

struct ImageFact {
  ImageFact() = default;
  ImageFact(bool known_, std::string user_, std::string source_, std::string reason_,
            std::optional<int64_t> name_uid_ = std::nullopt);

  bool known = false;
  std::string user;    // config.User when known ("" = the image sets no USER)
  std::string source;  // where it came from, for messages: "registry ghcr.io"
  std::string reason;  // when !known: why, e.g. "registry ghcr.io: timed out after 2.5s"
  // When `user` is a name (`app`) and the image's /etc/passwd was read (namedUsers: resolve):
  // that name's uid. Unset when not read or not found.
  std::optional<int64_t> name_uid;
  // When `user` is a name whose uid was looked for and not found: why, e.g. "the image's
  // /etc/passwd has no user ghost; the container would not start".
  std::string name_note;
  // A multi-platform image (an OCI index or Docker manifest list): one fact per platform looked
  // at, in index order; the fields above then only say where the index came from (`source`).
  // The evaluator judges the entries a pod can land on (platform_fact.h). Empty otherwise.
  std::vector<PlatformFact> platforms;
};

// One platform of a multi-platform image. `platform` is empty (os "") for an index entry that
// names no platform: such an entry matches every node.
struct PlatformFact {
  Platform platform;
  ImageFact fact;
};

inline ImageFact::ImageFact(bool known_, std::string user_, std::string source_, std::string reason_,
                            std::optional<int64_t> name_uid_)
    : known(known_), user(std::move(user_)), source(std::move(source_)),
      reason(std::move(reason_)), name_uid(name_uid_) {}

class ImageFacts {
 public:
  virtual ~ImageFacts() = default;
  // The fact for an image reference as written, or nullopt when nothing is known about it.
  virtual std::optional<ImageFact> Find(std::string_view image) const = 0;
  // What the image's /etc/passwd says about user `name` (a Dockerfile's USER the Dockerfile does
  // not create, looked up in its base image): a fact whose `user` is `name`, with `name_uid` or
  // `name_note` (per platform for a multi-platform image); nullopt when it was not looked up.
  virtual std::optional<ImageFact> FindUserName(std::string_view /*image*/,
                                                std::string_view /*name*/) const {
    return std::nullopt;
  }
};

// No facts at all: every image user not fixed by the spec or an override is unknown.
class NoImageFacts final : public ImageFacts {
 public:
  std::optional<ImageFact> Find(std::string_view) const override { return std::nullopt; }
};

// Facts held in memory, filled before evaluation (by the server, or by a test).
class ImageFactMap final : public ImageFacts {
 public:
  void Set(std::string image, ImageFact fact) { facts_[std::move(image)] = std::move(fact); }
  void SetUserName(std::string_view image, std::string_view name, ImageFact fact) {
    names_[NameKey(image, name)] = std::move(fact);
  }
  std::optional<ImageFact> Find(std::string_view image) const override {
    auto it = facts_.find(std::string(image));
    if (it == facts_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<ImageFact> FindUserName(std::string_view image, std::string_view name) const override {
    auto it = names_.find(NameKey(image, name));
    if (it == names_.end()) return std::nullopt;
    return it->second;
  }

 private:
  // A NUL cannot appear in an image reference, so the pair maps to one key.
  static std::string NameKey(std::string_view image, std::string_view name) {
    std::string key(image);
    key += '\0';
    key += name;
    return key;
  }

  std::unordered_map<std::string, ImageFact> facts_;
  std::unordered_map<std::string, ImageFact> names_;  // image NUL name
};

}  // namespace rootgate::policy

// YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`), resolved once for every YAML reader in
// rootgate: manifests, policies, suites and Compose files. Pure (no I/O); one call works on one
// tree and must not run concurrently with other uses of that tree.
//
// The rules follow go-yaml (decode.go `merge`), the library behind kubectl (sigs.k8s.io/yaml,
// go-yaml v2) and Compose (go-yaml v3):
// - the value of `<<` is a mapping, or a list of mappings (usually aliases); in a list the
//   earlier mappings win over the later ones;
// - a merged mapping's own merge keys are resolved first;
// - anything else as the value (a scalar, a list holding a scalar, null) is an error, and so is a
//   merge whose mapping contains the mapping being merged into (a cycle).
// Keys written in the mapping itself against keys merged in: go-yaml v3 and the YAML merge-key
// spec let the mapping's own keys win wherever `<<` stands (kOwnKeysWin). go-yaml v2 applies
// keys and merges in document order, so an own key written *before* `<<` is overridden by the
// merge, one written after it wins (kDocumentOrder): this is what kubectl does with manifests.
// A key written only as `<<` with a quoted or other non-merge tag is an ordinary key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

namespace rootgate::policy {

enum class MergeOrder {
  kOwnKeysWin,     // go-yaml v3, the YAML merge-key spec: Compose, policies, suites
  kDocumentOrder,  // go-yaml v2 as sigs.k8s.io/yaml uses it: Kubernetes manifests
};

// True for an unquoted `<<` key (or one tagged !!merge).
bool IsMergeKey(const YAML::Node& key);

// Resolves every merge key in the tree under `root`, in place: each mapping with `<<` gets the
// merged keys (the very key and value nodes of the merged mapping, so their marks still give
// their lines) and loses its `<<`. Returns nullopt on success; otherwise an error naming the line
// ("line 7: merge key (<<) needs a mapping or a list of mappings, got a scalar"), counted as
// `first_line` + the node's 0-based mark line. On error the tree may be partly resolved.
// Limits: 200 levels of nesting and 1,000,000 visited nodes (aliases count each time).
std::optional<std::string> ResolveMergeKeys(YAML::Node root, MergeOrder order, int first_line = 1);

}  // namespace rootgate::policy

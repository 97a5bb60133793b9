// A whole LIST, page by page (limit + continue), with bounded memory: items are handed over one
// at a time as each page is parsed. When a continue token has expired (410 Gone: etcd compacted
// the snapshot the list was reading), the list is restarted from a fresh snapshot and the items
// already handed over are skipped — the API server returns items in key order (namespace/name)
// — and a note says so. A list that cannot complete is an error, never a partial success.
// Thread-compatible (one call per thread; the client is thread-safe).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/kube/kube_client.h"

namespace rootgate::server::kube {

struct ListAllResult {
  size_t pages = 0;
  size_t items = 0;     // handed to on_item
  size_t restarts = 0;  // after 410 Gone
  std::vector<std::string> notes;  // "list pods in all namespaces: continue token expired (410 Gone) after 4 items; ..."
  std::optional<KubeError> error;  // set: the list is incomplete (items handed over so far stand)
};

// The storage key order of an item: "namespace/name" (or "name"), compared bytewise.
std::string ListKey(const nlohmann::json& item);

// Lists `resource` in `ns` ("" = all namespaces) with pages of `page_size`. Restarts at most
// `max_restarts` times.
ListAllResult ListAll(KubeClient& client, const ApiResource& resource, const std::string& ns,
                      size_t page_size, const std::function<void(nlohmann::json&&)>& on_item,
                      int max_restarts = 3);

}  // namespace rootgate::server::kube

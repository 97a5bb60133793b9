#include "server/kube/kube_list.h"

namespace rootgate::server::kube {

using nlohmann::json;

std::string ListKey(const json& item) {
  auto meta = item.is_object() ? item.find("metadata") : item.end();
  if (meta == item.end() || !meta->is_object()) return "";
  auto str = [&](const char* k) {
    auto it = meta->find(k);
    return it != meta->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string ns = str("namespace");
  return ns.empty() ? str("name") : ns + "/" + str("name");
}

ListAllResult ListAll(KubeClient& client, const ApiResource& resource, const std::string& ns,
                      size_t page_size, const std::function<void(json&&)>& on_item, int max_restarts) {
  ListAllResult out;
  std::string token;
  std::optional<std::string> last_key;  // of the last item handed over
  std::optional<std::string> skip_through;  // after a restart: skip items with keys <= this
  const auto take = [&](json&& item) {
    std::string key = ListKey(item);
    if (skip_through && key <= *skip_through) return;
    last_key = key;
    ++out.items;
    on_item(std::move(item));
  };
  for (;;) {
    auto page = client.List(resource, ns, page_size, token, take);
    if (!page.ok()) {
      if (page.error->status == 410 && !token.empty() && static_cast<int>(out.restarts) < max_restarts) {
        ++out.restarts;
        out.notes.push_back("list " + resource.Name() + NamespacePhrase(resource, ns) +
                            ": the continue token expired (410 Gone) after " + std::to_string(out.items) +
                            " items; restarted the list from a new snapshot, skipping those already read");
        if (last_key) skip_through = last_key;
        token.clear();
        continue;
      }
      out.error = page.error;
      return out;
    }
    ++out.pages;
    token = page.value.continue_token;
    if (token.empty()) return out;
  }
}

}  // namespace rootgate::server::kube

#include "dataplane.hpp"

namespace momento::server {

void DataPlane::add_cache(const std::string& name) {
  std::unique_lock lock(mu_);
  caches_.try_emplace(name);
}

void DataPlane::remove_cache(const std::string& name) {
  std::unique_lock lock(mu_);
  caches_.erase(name);
}

bool DataPlane::has_cache(const std::string& name) const {
  std::shared_lock lock(mu_);
  return caches_.count(name) > 0;
}

bool DataPlane::flush(const std::string& name) {
  std::unique_lock lock(mu_);
  auto it = caches_.find(name);
  if (it == caches_.end()) return false;
  it->second.items.clear();
  return true;
}

std::optional<std::optional<std::string>> DataPlane::get(const std::string& cache,
                                                         const std::string& key, int64_t now_ms) {
  std::shared_lock lock(mu_);
  auto it = caches_.find(cache);
  if (it == caches_.end()) return std::nullopt;
  auto item = it->second.items.find(key);
  if (item == it->second.items.end() || item->second.expires_at_ms <= now_ms)
    return std::optional<std::string>();  // expired items are removed by the next sweep
  return std::optional<std::string>(item->second.value);
}

void DataPlane::sweep(Cache& c, int64_t now_ms) {
  for (auto it = c.items.begin(); it != c.items.end();) {
    if (it->second.expires_at_ms <= now_ms) it = c.items.erase(it);
    else ++it;
  }
}

bool DataPlane::set(const std::string& cache, const std::string& key, std::string value,
                    int64_t now_ms, int64_t ttl_ms) {
  std::unique_lock lock(mu_);
  auto it = caches_.find(cache);
  if (it == caches_.end()) return false;
  Cache& c = it->second;
  c.items[key] = Item{std::move(value), now_ms + ttl_ms};
  // Amortized cleanup of expired items: one full pass per as many writes as there are items.
  if (++c.writes_since_sweep > c.items.size()) {
    c.writes_since_sweep = 0;
    sweep(c, now_ms);
  }
  return true;
}

bool DataPlane::erase(const std::string& cache, const std::string& key) {
  std::unique_lock lock(mu_);
  auto it = caches_.find(cache);
  if (it == caches_.end()) return false;
  it->second.items.erase(key);
  return true;
}

}  // namespace momento::server

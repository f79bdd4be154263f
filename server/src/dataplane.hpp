// The in-memory data plane: items per cache with a TTL. Cache names live in the Store;
// this mirror avoids a database read on every Get/Set.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace momento::server {

class DataPlane {
 public:
  // `now_ms` is a monotonic clock in milliseconds.
  void add_cache(const std::string& name);
  void remove_cache(const std::string& name);
  bool has_cache(const std::string& name) const;
  // false if the cache is unknown.
  bool flush(const std::string& name);
  // nullopt: unknown cache. Inner nullopt: miss.
  std::optional<std::optional<std::string>> get(const std::string& cache, const std::string& key,
                                                int64_t now_ms);
  bool set(const std::string& cache, const std::string& key, std::string value, int64_t now_ms,
           int64_t ttl_ms);
  bool erase(const std::string& cache, const std::string& key);

 private:
  struct Item {
    std::string value;
    int64_t expires_at_ms;
  };
  struct Cache {
    std::unordered_map<std::string, Item> items;
    size_t writes_since_sweep = 0;
  };
  void sweep(Cache& c, int64_t now_ms);
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Cache> caches_;
};

}  // namespace momento::server

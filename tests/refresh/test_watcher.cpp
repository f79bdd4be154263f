// Watcher: initial read, polling, notify_unauthenticated, atomic swap under concurrent readers,
// Kubernetes projected volumes.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "refresh_test_util.hpp"
#include "momento/auth/watcher.hpp"

using namespace momento::auth;
using namespace refresh_test;
using namespace std::chrono_literals;

TEST_CASE("watcher: serves the stored key and picks up a new one on poll", "[watcher]") {
  TempDir dir;
  auto store = std::make_shared<FileStore>(dir.file("t.json"));
  store->store(make_token("key-1", "rt-1", 1'900'000'000));
  Watcher w(store);
  auto k1 = w.current();
  CHECK(k1->credential.raw_key() == "key-1");
  CHECK(k1->valid_until == ExpiresAt::from_epoch(1'900'000'000));
  CHECK_FALSE(w.poll());  // unchanged
  int notified = 0;
  std::string seen;
  w.subscribe([&](const std::shared_ptr<const WatchedKey>& k) {
    ++notified;
    seen = k->credential.raw_key();
  });
  store->store(make_token("key-2", "rt-2", 1'900'000'100));
  CHECK(w.poll());
  w.drain();  // subscribers run on the delivery thread
  CHECK(w.current()->credential.raw_key() == "key-2");
  CHECK(notified == 1);
  CHECK(seen == "key-2");
  // A reader's snapshot stays valid after the swap.
  CHECK(k1->credential.raw_key() == "key-1");
  CHECK(w.describe() == store->describe());
}

TEST_CASE("watcher: a broken or emptied store keeps the current key", "[watcher]") {
  TempDir dir;
  auto store = std::make_shared<FileStore>(dir.file("t.json"));
  store->store(make_token("key-1", "rt-1", 1'900'000'000));
  Watcher w(store);
  { std::ofstream(store->path(), std::ios::trunc) << "{broken"; }
  CHECK_THROWS_AS(w.poll(), Error);
  CHECK(w.current()->credential.raw_key() == "key-1");
  std::filesystem::remove(store->path());
  CHECK_FALSE(w.poll());
  CHECK(w.current()->credential.raw_key() == "key-1");
}

TEST_CASE("watcher: refuses an empty store and bad options", "[watcher]") {
  TempDir dir;
  auto store = std::make_shared<FileStore>(dir.file("t.json"));
  CHECK_THROWS_AS(Watcher(store), Error);
  store->store(make_token("key-1", "rt-1", 1'900'000'000));
  WatcherOptions bad;
  bad.period = 0ms;
  CHECK_THROWS_AS(Watcher(store, bad), Error);
  CHECK_THROWS_AS(Watcher(nullptr), Error);
}

TEST_CASE("watcher: notify_unauthenticated re-reads at once, not at the period", "[watcher]") {
  TempDir dir;
  auto store = std::make_shared<FileStore>(dir.file("t.json"));
  store->store(make_token("key-1", "rt-1", 1'900'000'000));
  WatcherOptions opt;
  opt.period = std::chrono::hours(1);  // the period alone would never fire in this test
  opt.min_notify_interval = 0ms;
  Watcher w(store, opt);
  std::mutex m;
  std::condition_variable cv;
  std::string seen;
  w.subscribe([&](const std::shared_ptr<const WatchedKey>& k) {
    std::lock_guard<std::mutex> g(m);
    seen = k->credential.raw_key();
    cv.notify_all();
  });
  w.start();
  store->store(make_token("key-2", "rt-2", 1'900'000'100));
  w.notify_unauthenticated();
  {
    std::unique_lock<std::mutex> g(m);
    cv.wait_for(g, 10s, [&] { return seen == "key-2"; });
  }
  CHECK(seen == "key-2");
  CHECK(w.current()->credential.raw_key() == "key-2");
  w.stop();
}

TEST_CASE("watcher: the period alone picks up a change", "[watcher]") {
  TempDir dir;
  auto store = std::make_shared<FileStore>(dir.file("t.json"));
  store->store(make_token("key-1", "rt-1", 1'900'000'000));
  WatcherOptions opt;
  opt.period = 20ms;
  Watcher w(store, opt);
  w.start();
  store->store(make_token("key-2", "rt-2", 1'900'000'100));
  for (int i = 0; i < 1000 && w.current()->credential.raw_key() != "key-2"; ++i) std::this_thread::sleep_for(10ms);
  CHECK(w.current()->credential.raw_key() == "key-2");
}

TEST_CASE("watcher: readers always get a whole key while keys change underneath", "[watcher]") {
  TempDir dir;
  auto store = std::make_shared<FileStore>(dir.file("t.json"));
  store->store(make_token("key-0", "rt-0", 1'900'000'000));
  WatcherOptions opt;
  opt.period = 1ms;
  Watcher w(store, opt);
  w.start();
  std::atomic<bool> done{false};
  std::atomic<long> reads{0}, bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r)
    readers.emplace_back([&] {
      while (!done.load()) {
        auto k = w.current();
        const auto& key = k->credential.raw_key();
        if (key.rfind("key-", 0) != 0) ++bad;
        if (k->valid_until.epoch() != 1'900'000'000 + std::stoull(key.substr(4))) ++bad;
        ++reads;
      }
    });
  for (int i = 1; i <= 200; ++i) store->store(make_token("key-" + std::to_string(i), "rt", 1'900'000'000 + i));
  done = true;
  for (auto& t : readers) t.join();
  w.stop();
  CHECK(bad.load() == 0);
  CHECK(reads.load() > 0);
  w.poll();
  CHECK(w.current()->credential.raw_key() == "key-200");
}

TEST_CASE("watcher: start() and stop() from several threads at once, and stop() from a subscriber",
          "[watcher][threads]") {
  TempDir dir;
  auto store = std::make_shared<FileStore>(dir.file("t.json"));
  store->store(make_token("key-1", "rt-1", 1'900'000'000));
  WatcherOptions o;
  o.period = 5ms;
  Watcher w(store, o);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};  // counted here, checked on this thread: Catch2 asserts are not thread-safe
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if ((t + i) % 2 == 0) w.start();
        else w.stop();
        if (w.current()->credential.raw_key() != "key-1") ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);

  std::mutex m;
  std::condition_variable cv;
  int stops = 0;
  std::string refused;
  const uint64_t sub = w.subscribe([&](const std::shared_ptr<const WatchedKey>&) {
    std::string why;
    try {
      w.stop();  // from its own callback: a clear error, not a wait for itself
    } catch (const Error& e) {
      if (e.code() == ErrorCode::FailedPrecondition) why = e.what();
    }
    std::lock_guard<std::mutex> g(m);
    refused = why;
    ++stops;
    cv.notify_all();
  });
  w.start();
  store->store(make_token("key-2", "rt-2", 1'900'000'100));
  {
    std::unique_lock<std::mutex> g(m);
    REQUIRE(cv.wait_for(g, 30s, [&] { return stops == 1; }));
  }
  CHECK_THAT(refused, Catch::Contains("own callback"));
  w.stop();
  CHECK(w.current()->credential.raw_key() == "key-2");
  // start() after a stop: a new thread picks up the next change.
  store->store(make_token("key-3", "rt-3", 1'900'000'200));
  w.start();
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (w.current()->credential.raw_key() != "key-3" && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  CHECK(w.current()->credential.raw_key() == "key-3");
  w.stop();
  // The callback uses this scope's locals, which go before the watcher: end it first.
  CHECK(w.unsubscribe(sub));
}

namespace {

// A Kubernetes projected Secret volume, laid out and updated the way the kubelet's atomic writer
// does: each version in a new timestamped folder, "..data" a link to the current one, the key file
// a link through "..data"; an update writes the new folder whole, links "..data_tmp" to it,
// renames that over "..data" (atomic), then removes the old folder.
class ProjectedVolume {
 public:
  explicit ProjectedVolume(const std::string& dir) : dir_(dir) {}

  void update(const Token& t) {
    char ts[64];
    std::snprintf(ts, sizeof ts, "..2026_01_01_00_00_00.%09d", ++n_);
    const std::string folder = dir_ + "/" + ts;
    REQUIRE(::mkdir(folder.c_str(), 0755) == 0);
    {
      std::ofstream f(folder + "/token.json");
      f << token_file_json(t);
    }
    const std::string tmp = dir_ + "/..data_tmp";
    REQUIRE(::symlink(ts, tmp.c_str()) == 0);
    REQUIRE(::rename(tmp.c_str(), (dir_ + "/..data").c_str()) == 0);
    if (n_ == 1) REQUIRE(::symlink("..data/token.json", (dir_ + "/token.json").c_str()) == 0);
    if (!old_.empty()) std::filesystem::remove_all(old_);
    old_ = folder;
  }

 private:
  std::string dir_, old_;
  int n_ = 0;
};

}  // namespace

TEST_CASE("watcher: follows a Kubernetes projected volume's ..data swap at once, never half a key",
          "[watcher][k8s]") {
  TempDir dir;
  const std::string vol = dir.file("secret-volume");
  REQUIRE(::mkdir(vol.c_str(), 0755) == 0);
  ProjectedVolume pv(vol);
  pv.update(make_token("key-0", "rt-0", 1'900'000'000));
  auto store = std::make_shared<FileStore>(vol + "/token.json");
  WatcherOptions opt;
  opt.period = std::chrono::hours(1);  // only directory events can explain a prompt pick-up
  Watcher w(store, opt);
  std::atomic<long> published_bad{0};
  w.subscribe([&](const std::shared_ptr<const WatchedKey>& k) {
    const auto& key = k->credential.raw_key();
    if (key.rfind("key-", 0) != 0 || k->valid_until.epoch() != 1'900'000'000 + std::stoull(key.substr(4)))
      ++published_bad;
  });
  w.start();

  // One swap at a time: the watcher sees each new key without waiting for its period.
  for (int i = 1; i <= 5; ++i) {
    pv.update(make_token("key-" + std::to_string(i), "rt", 1'900'000'000 + i));
    const std::string want = "key-" + std::to_string(i);
    for (int t = 0; t < 2000 && w.current()->credential.raw_key() != want; ++t) std::this_thread::sleep_for(5ms);
    REQUIRE(w.current()->credential.raw_key() == want);
  }

  // Swapped repeatedly under load (a bounded loop): every read, by the store directly and through
  // the watcher, is a whole valid key.
  std::atomic<bool> done{false};
  std::atomic<long> reads{0}, bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      FileStore direct(vol + "/token.json");
      while (!done.load()) {
        try {
          auto s = direct.load();
          const std::string key = s ? Credential::from_string(s->token.api_key.reveal()).raw_key() : "";
          if (!s || key.rfind("key-", 0) != 0 ||
              s->token.valid_until.epoch() != 1'900'000'000 + std::stoull(key.substr(4)))
            ++bad;
        } catch (const std::exception&) {
          ++bad;
        }
        auto k = w.current();
        if (k->credential.raw_key().rfind("key-", 0) != 0) ++bad;
        ++reads;
      }
    });
  for (int i = 6; i <= 300; ++i) pv.update(make_token("key-" + std::to_string(i), "rt", 1'900'000'000 + i));
  done = true;
  for (auto& t : readers) t.join();
  for (int t = 0; t < 2000 && w.current()->credential.raw_key() != "key-300"; ++t) std::this_thread::sleep_for(5ms);
  CHECK(w.current()->credential.raw_key() == "key-300");
  w.stop();
  w.drain();
  CHECK(bad.load() == 0);
  CHECK(published_bad.load() == 0);
  CHECK(reads.load() > 0);
  // The volume is the kubelet's to write: as another user's files, the store opens read-only.
  if (::geteuid() == 0) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(vol))
      REQUIRE(::lchown(e.path().c_str(), 65534, 65534) == 0);
    FileStore theirs(vol + "/token.json");
    CHECK_FALSE(theirs.writable());
    CHECK(Credential::from_string(theirs.load()->token.api_key.reveal()).raw_key() == "key-300");
  }
}

// FileStore: round trip, mode, atomic replace under concurrent readers and kill -9, OFD locks,
// journal; EnvStore and open_store().
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>
#include <nlohmann/json.hpp>

#include "refresh_test_util.hpp"

using namespace momento::auth;
using namespace refresh_test;
using namespace std::chrono_literals;

namespace {

unsigned file_mode(const std::string& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// The file must parse and be one of the tokens the writer produced (key-N with rt-N).
void check_consistent(const StoreSnapshot& s) {
  auto cred = Credential::from_string(s.token.api_key.reveal());
  const std::string& key = cred.raw_key();
  REQUIRE(key.rfind("key-", 0) == 0);
  CHECK(s.token.refresh_token.reveal() == "rt-" + key.substr(4));
}

int count_temp_files(const std::string& dir) {
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir))
    n += e.path().filename().string().find(".tmp.") != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("file store: round trip in the Download-JSON shape, mode 0600", "[file_store]") {
  TempDir dir;
  FileStore fs(dir.file("token.json"));
  CHECK(fs.describe() == "file:" + dir.file("token.json"));
  CHECK_FALSE(fs.load().has_value());
  mode_t old = ::umask(0);  // a permissive umask must not leak into the file
  fs.store(make_token("key-1", "rt-1", 1'900'000'000));
  ::umask(old);
  CHECK(file_mode(fs.path()) == 0600);
  auto s = fs.load();
  REQUIRE(s);
  CHECK(s->token.api_key.reveal() == encode_envelope("localhost", "key-1"));
  CHECK(s->token.refresh_token.reveal() == "rt-1");
  CHECK(s->token.valid_until == ExpiresAt::from_epoch(1'900'000'000));
  REQUIRE(s->written_at_ms);
  CHECK(std::abs(*s->written_at_ms / 1000 - now_epoch_seconds()) < 3600);
  // The file is the shape Momento's tooling reads.
  auto j = nlohmann::json::parse(std::ifstream(fs.path()));
  CHECK(j["validUntil"] == "1900000000");
  CHECK(j["refreshToken"] == "rt-1");
  CHECK(j.size() == 3);

  auto v1 = s->version;
  fs.store(make_token("key-2", "rt-2", 1'900'000'100));
  CHECK(fs.load()->version != v1);
  CHECK(count_temp_files(dir.path) == 0);
}

TEST_CASE("file store: a key is written back in the shape of the file it read", "[file_store]") {
  TempDir dir;
  FileStore fs(dir.file("t.json"));
  const std::string old_key = encode_envelope("e.example", "k");
  std::ofstream(fs.path()) << "{\"owner\":\"ops\",\"apiKey\":\"" << old_key
                           << "\",\"validUntil\":1700000000}\n";
  REQUIRE(fs.load());
  fs.store(make_token("key-2", "rt-2", 1'900'000'000));
  auto j = nlohmann::ordered_json::parse(std::ifstream(fs.path()));
  CHECK(j.dump() == R"({"owner":"ops","apiKey":")" + encode_envelope("localhost", "key-2") +
                        R"(","validUntil":1900000000,"refreshToken":"rt-2"})");
  // Another store object that has not read the file writes the Download-JSON shape.
  FileStore other(fs.path());
  other.store(make_token("key-3", "rt-3", 1'900'000'100));
  CHECK(nlohmann::json::parse(std::ifstream(fs.path())).contains("authToken"));
  // A file found empty starts over in the default shape.
  REQUIRE(fs.load());
  std::ofstream(fs.path(), std::ios::trunc) << "\n";
  CHECK_FALSE(fs.load().has_value());
  fs.store(make_token("key-4", "rt-4", 1'900'000'200));
  CHECK(nlohmann::json::parse(std::ifstream(fs.path())).size() == 3);
}

TEST_CASE("file store: reads console downloads and rejects garbage", "[file_store]") {
  TempDir dir;
  FileStore fs(dir.file("t.json"));
  std::ofstream(fs.path()) << "{\"authToken\":\"" << encode_envelope("e.example", "k")
                           << "\",\"refreshToken\":\"r\",\"validUntil\":1700000000,\"extra\":1}\n";
  auto s = fs.load();
  REQUIRE(s);
  CHECK(s->token.valid_until == ExpiresAt::from_epoch(1'700'000'000));
  std::ofstream(fs.path(), std::ios::trunc) << "   \n";
  CHECK_FALSE(fs.load().has_value());
  std::ofstream(fs.path(), std::ios::trunc) << "{not json";
  CHECK_THROWS_AS(fs.load(), Error);
  CHECK_THROWS_AS(FileStore(""), Error);
  CHECK_THROWS_AS(FileStore(dir.path), Error);
  CHECK_THROWS_AS(fs.store(Token{}), Error);
}

TEST_CASE("file store: readers never see a torn file while another thread writes", "[file_store]") {
  TempDir dir;
  auto path = dir.file("token.json");
  FileStore writer(path);
  writer.store(make_token("key-0", "rt-0", 1'900'000'000));
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      FileStore reader(path);
      while (!done.load()) {
        try {
          auto s = reader.load();
          if (!s) { ++bad; continue; }
          auto key = Credential::from_string(s->token.api_key.reveal()).raw_key();
          if (s->token.refresh_token.reveal() != "rt-" + key.substr(4)) ++bad;
          ++reads;
        } catch (...) {
          ++bad;
        }
      }
    });
  for (int i = 1; i <= 300; ++i) {
    // Vary the length so a torn file could not pass for a whole one.
    writer.store(make_token("key-" + std::to_string(i) + std::string(i % 7, 'x'), "rt-" + std::to_string(i) + std::string(i % 7, 'x'), 1'900'000'000 + i));
  }
  done = true;
  for (auto& t : readers) t.join();
  CHECK(bad.load() == 0);
  CHECK(reads.load() > 0);
  check_consistent(*writer.load());
}

TEST_CASE("file store: kill -9 of a writer at random points never leaves a broken file", "[file_store][crash]") {
  TempDir dir;
  auto path = dir.file("token.json");
  FileStore(path).store(make_token("key-0", "rt-0", 1'900'000'000));
  std::mt19937 rng(12345);
  int kills = 0;
  for (int round = 0; round < 25; ++round) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      FileStore fs(path);
      for (int i = 0; i < 1'000'000; ++i) {
        std::string n = std::to_string(round) + "-" + std::to_string(i);
        fs.store(make_token("key-" + n, "rt-" + n, 1'900'000'000));
      }
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(200, 20000)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    kills += WIFSIGNALED(status);
    auto s = FileStore(path).load();
    REQUIRE(s);
    check_consistent(*s);
    CHECK(file_mode(path) == 0600);
  }
  CHECK(kills > 0);
  // Stale temp files of dead writers are cleaned on the next write.
  FileStore(path).store(make_token("key-final", "rt-final", 1'900'000'000));
  CHECK(count_temp_files(dir.path) == 0);
}

TEST_CASE("file store: the OFD lock excludes other store objects in this process", "[file_store][lock]") {
  TempDir dir;
  FileStore a(dir.file("t.json")), b(dir.file("t.json"));
  auto held = a.lock();
  std::atomic<bool> acquired{false};
  std::thread t([&] {
    auto l = b.lock();
    acquired = true;
  });
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(acquired.load());
  held.reset();
  t.join();
  CHECK(acquired.load());
  CHECK(file_mode(a.lock_path()) == 0600);
}

TEST_CASE("file store: the lock excludes other processes and dies with its holder", "[file_store][lock]") {
  TempDir dir;
  auto path = dir.file("t.json");
  int to_parent[2];
  REQUIRE(::pipe(to_parent) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(to_parent[0]);
    FileStore fs(path);
    auto l = fs.lock();
    char c = 'L';
    (void)!::write(to_parent[1], &c, 1);
    ::pause();  // hold the lock until killed
    ::_exit(0);
  }
  ::close(to_parent[1]);
  char c = 0;
  pollfd pfd{to_parent[0], POLLIN, 0};
  REQUIRE(::poll(&pfd, 1, 10000) == 1);
  REQUIRE(::read(to_parent[0], &c, 1) == 1);
  ::close(to_parent[0]);

  std::atomic<bool> acquired{false};
  std::thread t([&] {
    FileStore fs(path);
    auto l = fs.lock();
    acquired = true;
  });
  std::this_thread::sleep_for(150ms);
  CHECK_FALSE(acquired.load());
  ::kill(pid, SIGKILL);  // the kernel releases the dead holder's lock
  ::waitpid(pid, nullptr, 0);
  t.join();
  CHECK(acquired.load());
}

TEST_CASE("file store: the refresh journal round-trips and ignores torn content", "[file_store]") {
  TempDir dir;
  FileStore fs(dir.file("t.json"));
  CHECK_FALSE(fs.load_pending());
  fs.store_pending({"abc123", 1'700'000'000'123});
  auto p = fs.load_pending();
  REQUIRE(p);
  CHECK(*p == PendingRefresh{"abc123", 1'700'000'000'123});
  CHECK(file_mode(fs.journal_path()) == 0600);
  fs.clear_pending();
  CHECK_FALSE(fs.load_pending());
  fs.clear_pending();  // idempotent
  std::ofstream(fs.journal_path()) << "{\"keyFinger";
  CHECK_FALSE(fs.load_pending());
}

TEST_CASE("stores share one refresh journal: a file when they name one, memory otherwise",
          "[store][journal]") {
  TempDir dir;
  ExecStoreOptions in_memory;
  in_memory.read = {"true"};
  ExecStore memory(in_memory);
  CHECK(memory.journal_path().empty());
  CHECK_FALSE(memory.load_pending());
  memory.store_pending({"f1", 1});
  CHECK(memory.load_pending() == PendingRefresh{"f1", 1});
  memory.clear_pending();
  CHECK_FALSE(memory.load_pending());

  ExecStoreOptions in_file = in_memory;
  in_file.journal_path = dir.file("exec.inflight");
  ExecStore file(in_file);
  file.store_pending({"f2", 2});
  CHECK(file_mode(in_file.journal_path) == 0600);
  CHECK(ExecStore(in_file).load_pending() == PendingRefresh{"f2", 2});  // another object reads it
  file.clear_pending();
  CHECK_FALSE(ExecStore(in_file).load_pending());
}

TEST_CASE("env store: bare keys and JSON, read-only", "[env_store]") {
  EnvStore env("MOMENTO_REFRESH_TEST_VAR");
  ::unsetenv("MOMENTO_REFRESH_TEST_VAR");
  CHECK_FALSE(env.load());
  std::string key = encode_envelope("localhost", "k");
  ::setenv("MOMENTO_REFRESH_TEST_VAR", (key + "\n").c_str(), 1);
  auto s = env.load();
  REQUIRE(s);
  CHECK(s->token.api_key.reveal() == key);
  CHECK(s->token.refresh_token.empty());
  CHECK_FALSE(s->token.valid_until.does_expire());
  ::setenv("MOMENTO_REFRESH_TEST_VAR", token_file_json(make_token("k2", "r2", 1'800'000'000)).c_str(), 1);
  s = env.load();
  REQUIRE(s);
  CHECK(s->token.refresh_token.reveal() == "r2");
  CHECK(s->token.valid_until == ExpiresAt::from_epoch(1'800'000'000));
  CHECK_FALSE(env.writable());
  try {
    env.store(make_token("k", "r", 1));
    FAIL("stored into an env store");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::FailedPrecondition);
  }
  ::unsetenv("MOMENTO_REFRESH_TEST_VAR");
  CHECK_THROWS_AS(EnvStore(""), Error);
  CHECK_THROWS_AS(EnvStore("A=B"), Error);
}

TEST_CASE("open_store understands file:, env: and bare paths", "[store]") {
  TempDir dir;
  CHECK(open_store("file:" + dir.file("a.json"))->describe() == "file:" + dir.file("a.json"));
  CHECK(open_store(dir.file("b.json"))->describe() == "file:" + dir.file("b.json"));
  CHECK(open_store("env:MY_KEY")->describe() == "env:MY_KEY");
  CHECK_THROWS_AS(open_store(""), Error);
  CHECK_THROWS_AS(open_store("s3:bucket/key"), Error);
}

TEST_CASE("token fingerprints are stable, distinct and not the key", "[store]") {
  auto f1 = token_fingerprint("secret-key-1");
  CHECK(f1.size() == 64);
  CHECK(f1 == token_fingerprint("secret-key-1"));
  CHECK(f1 != token_fingerprint("secret-key-2"));
  CHECK(f1.find("secret") == std::string::npos);
  CHECK(token_fingerprint("").empty());
}

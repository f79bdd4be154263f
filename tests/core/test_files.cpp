// The files keys live in: reads that never block, replacement through symbolic links, and paths
// that are shown in errors only when they cannot be a key.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core_test_util.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/display.hpp"
#include "momento/auth/store.hpp"
#include "temp_dir.hpp"

using namespace momento::auth;
using core_test::contains;
using core_test::expect_invalid;
using momento::test::TempDir;
namespace fs = std::filesystem;

namespace {

TokenFile token(const std::string& key, const std::string& refresh) {
  TokenFile t;
  t.auth_token = Secret(encode_envelope("e.example", key));
  t.refresh_token = Secret(refresh);
  return t;
}

}  // namespace

TEST_CASE("printable escapes control characters and bad UTF-8", "[files][display]") {
  CHECK(printable("a b") == "a b");
  CHECK(printable("\x1b[2J\r\n\t") == "\\e[2J\\r\\n\\t");
  CHECK(printable("\\") == "\\\\");
  CHECK(printable("\x07\x7f") == "\\x07\\x7F");
  CHECK(printable("caf\xC3\xA9 \xE2\x82\xAC") == "caf\xC3\xA9 \xE2\x82\xAC");
  CHECK(printable("\xC2\x9B") == "\\xC2\\x9B");  // C1 CSI
  CHECK(printable("\xC3") == "\\xC3");           // truncated sequence
  CHECK(printable(std::string(1000, 'x'), 10) == "xxxxxxxxxx...");
}

TEST_CASE("shown_path never shows what may be a key", "[files][display]") {
  TempDir dir;
  const std::string envelope = encode_envelope("e.example", "some-inner-key");
  CHECK_FALSE(contains(shown_path(envelope), envelope.substr(0, 20)));
  CHECK(contains(shown_path(envelope), "not shown"));
  const std::string refresh = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1";  // base64url, 40 chars
  CHECK_FALSE(contains(shown_path(refresh), refresh));
  CHECK_FALSE(contains(shown_path("/tmp/" + refresh), refresh));
  // Ordinary paths are shown, existing or not; control characters escaped; length bounded.
  CHECK(shown_path("/etc/momento/token.json") == "'/etc/momento/token.json'");
  CHECK(shown_path(dir.path.string()) == "'" + dir.path.string() + "'");
  CHECK(shown_path("a\x1b[2Jb") == "'a\\e[2Jb'");
  CHECK(shown_path(std::string(100000, 'a') + "/x").size() < 300);
  // A file that exists is a path, whatever its name.
  const fs::path odd = dir.path / refresh;
  std::ofstream(odd) << "{}";
  CHECK(contains(shown_path(odd.string()), refresh));
}

TEST_CASE("reading refuses FIFOs and other special files without blocking", "[files][fifo]") {
  TempDir dir;
  const fs::path fifo = dir.path / "fifo.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto start = std::chrono::steady_clock::now();
  CHECK(contains(expect_invalid([&] { read_token_file(fifo.string()); }), "FIFO"));
  CHECK(contains(expect_invalid([&] { Credential::from_file(fifo.string()); }), "FIFO"));
  CHECK(contains(expect_invalid([&] { FileStore s(fifo.string()); }), "FIFO"));
  CHECK(contains(expect_invalid([&] { read_token_file("/dev/null"); }), "device"));
  CHECK(contains(expect_invalid([&] { read_token_file(dir.path.string()); }), "directory"));
  // Returning at all proves the opens did not wait for a writer; the bound only keeps a
  // regression from hanging the suite.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("token files are replaced through a symbolic link, not over it", "[files][symlink]") {
  TempDir dir;
  fs::create_directories(dir.path / "real");
  const fs::path real = dir.path / "real" / "t.json", link = dir.path / "t.json";
  write_token_file(real.string(), token("first", "r1"));
  fs::create_symlink(real, link);

  write_token_file(link.string(), token("second", "r2"));
  CHECK(fs::is_symlink(link));
  CHECK(fs::read_symlink(link) == real);
  CHECK(read_token_file(real.string()).refresh_token.reveal() == "r2");
  struct stat st {};
  REQUIRE(::stat(real.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  for (const auto& e : fs::directory_iterator(dir.path / "real"))
    CHECK(e.path().filename() == "t.json");  // no temp file left beside the target

  // A file store opened through the link writes the same file, and keeps lock and journal there.
  FileStore store(link.string());
  CHECK(store.describe() == "file:" + link.string());
  CHECK(store.lock_path() == real.string() + ".lock");
  store.store(token("third", "r3"));
  CHECK(fs::is_symlink(link));
  CHECK(read_token_file(real.string()).refresh_token.reveal() == "r3");

  // A dangling link and a link to something that is not a regular file are refused.
  const fs::path dangling = dir.path / "dangling.json";
  fs::create_symlink(dir.path / "nowhere.json", dangling);
  CHECK(contains(expect_invalid([&] { write_token_file(dangling.string(), token("x", "y")); }, "r3"),
                 "symbolic link"));
  CHECK(contains(expect_invalid([&] { FileStore s(dangling.string()); }), "symbolic link"));
  CHECK(fs::is_symlink(dangling));
  const fs::path to_dir = dir.path / "to-dir.json";
  fs::create_symlink(dir.path / "real", to_dir);
  expect_invalid([&] { write_token_file(to_dir.string(), token("x", "y")); });
}

TEST_CASE("links and targets of another user are refused", "[files][symlink]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to hand a file to another user");
    return;
  }
  TempDir dir;
  const fs::path real = dir.path / "t.json", link = dir.path / "link.json";
  write_token_file(real.string(), token("first", "r1"));
  fs::create_symlink(real, link);
  REQUIRE(::lchown(link.c_str(), 65534, 65534) == 0);
  CHECK(contains(expect_invalid([&] { write_token_file(link.string(), token("x", "y")); }),
                 "owned by another user"));
  {
    // Readable, not writable: a Kubernetes Secret volume is root's, read by a non-root process.
    FileStore s(link.string());
    CHECK_FALSE(s.writable());
    CHECK(s.load()->token.refresh_token.reveal() == "r1");
    try {
      s.store(token("x", "y"));
      FAIL("stored through another user's link");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::FailedPrecondition);
      CHECK(contains(e.what(), "owned by another user"));
    }
  }

  const fs::path theirs = dir.path / "theirs.json", link2 = dir.path / "link2.json";
  write_token_file(theirs.string(), token("theirs", "rt"));
  REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
  fs::create_symlink(theirs, link2);
  CHECK(contains(expect_invalid([&] { write_token_file(link2.string(), token("x", "y")); }),
                 "another user"));
  CHECK(read_token_file(theirs.string()).refresh_token.reveal() == "rt");
  CHECK(read_token_file(real.string()).refresh_token.reveal() == "r1");
}

TEST_CASE("file errors carry specific codes", "[files]") {
  TempDir dir;
  FileStore missing((dir.path / "missing.json").string());
  CHECK_FALSE(missing.load().has_value());  // absent: an empty store
  const fs::path file = dir.path / "f.json";
  write_token_file(file.string(), token("k", "r"));
  try {
    FileStore under_file((file / "x").string());  // ENOTDIR
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::InvalidArgument);
  }
  CHECK(contains(expect_invalid([&] { FileStore s(dir.path.string()); }), "directory"));
}

// The momento-auth subcommands as plain functions: options in, text out, exit code back.
// They throw momento::Error; run() turns it into a message and an exit code. Everything goes
// through libmomento_auth's C ABI via momento/auth.hpp.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "momento/auth.hpp"

namespace momento::cli {

struct GlobalOptions {
  std::string key;       // --key
  std::string key_file;  // --key-file
  std::string endpoint;  // --endpoint HOST:PORT
  bool insecure = false;
  bool allow_insecure_remote = false;  // --insecure may reach a host that is not loopback
  std::string ca_file;   // --ca-file: PEM roots for TLS instead of the system roots
  std::optional<std::chrono::milliseconds> timeout;
  bool json = false;
};

// Where the output goes; stdout carries results, stderr carries notes and errors.
struct Io {
  std::ostream& out;
  std::ostream& err;
  bool out_is_terminal = false;
};

// Endpoint override implied by --endpoint/--insecure for a credential (nullopt: none).
std::optional<EndpointOverride> endpoint_override(const GlobalOptions& g,
                                                        const std::string& base_endpoint);

// The environment variable the caller's key is read from when neither --key nor --key-file is
// given (a v2 key's endpoint comes from the library's MOMENTO_ENDPOINT).
inline constexpr const char* kKeyVariable = "MOMENTO_API_KEY";

// A key given as text (v1 envelope, legacy JWT, session token; v2 with MOMENTO_ENDPOINT),
// with the global endpoint options applied.
Credential credential_from_text(const GlobalOptions& g, std::string_view text);
// A file holding either the Download-JSON shape or the bare key. Errors start with `option`; the
// library shows the path only when it cannot be a key.
Credential credential_from_path(const GlobalOptions& g, const std::string& path,
                                std::string_view option);
// Refuses plaintext (--insecure) to any host that is not a loopback address, unless
// --allow-insecure-remote was given.
void check_plaintext(const GlobalOptions& g, const Credential& c);
// Whether kKeyVariable is set (ping then uses that key's endpoints).
bool key_in_environment();
// --key, --key-file or MOMENTO_API_KEY, in that order. Throws InvalidArgument when none.
Credential global_credential(const GlobalOptions& g);

struct GenerateOptions {
  std::string scope;                 // --scope NAME (predefined)
  std::vector<std::string> permits;  // --permit SPEC... (fine-grained)
  std::string expires_in;
  std::string out_file;
  bool force = false;
};
int cmd_generate(const GlobalOptions& g, const GenerateOptions& o, Io io);

struct DisposableOptions {
  std::vector<std::string> permits;  // --permit SPEC..., item entries allowed
  std::string expires_in;
  std::string token_id;
  std::string out_file;
  bool force = false;
};
int cmd_generate_disposable(const GlobalOptions& g, const DisposableOptions& o, Io io);

struct RefreshOptions {
  std::string file;
};
int cmd_refresh(const GlobalOptions& g, const RefreshOptions& o, Io io);

struct InspectOptions {
  std::string target;  // KEY or FILE; empty = the global key
  std::string expires_within;  // exit kExitExpiring when the key expires within this duration
};
int cmd_inspect(const GlobalOptions& g, const InspectOptions& o, Io io);

struct CacheOptions {
  std::string cache;  // --cache or positional cache name
  std::string key;
  std::string value;
  std::string ttl = "60s";
};
int cmd_create_cache(const GlobalOptions& g, const CacheOptions& o, Io io);
int cmd_delete_cache(const GlobalOptions& g, const CacheOptions& o, Io io);
int cmd_flush_cache(const GlobalOptions& g, const CacheOptions& o, Io io);
int cmd_list_caches(const GlobalOptions& g, const CacheOptions& o, Io io);
int cmd_set(const GlobalOptions& g, const CacheOptions& o, Io io);
int cmd_get(const GlobalOptions& g, const CacheOptions& o, Io io);
int cmd_delete_key(const GlobalOptions& g, const CacheOptions& o, Io io);
int cmd_ping(const GlobalOptions& g, const CacheOptions& o, Io io);

struct StoreSelection {
  std::string spec;          // --store file:PATH | aws-sm:SECRET-ID | env:VAR
  std::string region;        // --region (AWS)
  std::string aws_endpoint;  // --aws-endpoint URL (AWS; e.g. a local emulator)
};

struct KeepFreshOptions {
  StoreSelection store;
  bool once = false;   // one pass, then exit (cron)
  bool force = false;  // with --once: refresh even when not due
  std::string refresh_fraction;  // --refresh-fraction as given
  bool refresh_fraction_given = false;  // false: the library default (0.75 minus jitter)
  std::string metrics_listen;  // --metrics-listen HOST:PORT (loopback): /metrics and /healthz
  std::string metrics_file;    // --metrics-file PATH: node_exporter textfile, rewritten atomically
  std::string log_format;  // --log-format text|json (json: an alias of the global --json); "" = not given
};
// Runs the refresher: a status line (or JSON line) per event until SIGTERM/SIGINT, or one pass
// with --once. Exit codes: 0 the store holds a fresh key; otherwise those of the failure.
int cmd_keep_fresh(const GlobalOptions& g, const KeepFreshOptions& o, Io io);

struct WatchOptions {
  StoreSelection store;
  std::string interval;          // re-read period; empty: the library's default
  int count = 0;                // exit after this many changes; 0 = until SIGTERM/SIGINT
};
// Prints the store's key (redacted) and expiry, then a line per new key.
int cmd_watch(const GlobalOptions& g, const WatchOptions& o, Io io);

}  // namespace momento::cli

// ExecStore: a key kept by an external command-line secret manager.
#include <nlohmann/json.hpp>

#include "../util/encoding.hpp"
#include "command.hpp"
#include "internal.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/store.hpp"

namespace momento::auth {
namespace {

std::vector<std::string> argv_member(const nlohmann::json& j, const char* name, bool required) {
  if (!j.contains(name)) {
    if (required) throw_invalid(std::string("exec store: \"") + name + "\" (an argument list) is required");
    return {};
  }
  const auto& v = j[name];
  if (!v.is_array() || v.empty())
    throw_invalid(std::string("exec store: \"") + name + "\" must be a non-empty list of strings");
  std::vector<std::string> out;
  for (const auto& a : v) {
    if (!a.is_string()) throw_invalid(std::string("exec store: \"") + name + "\" must hold strings only");
    out.push_back(a.get<std::string>());
    if (out.back().find('\0') != std::string::npos)
      throw_invalid(std::string("exec store: \"") + name + "\" holds a NUL character");
  }
  if (out[0].empty()) throw_invalid(std::string("exec store: \"") + name + "\" names no program");
  return out;
}

std::string string_member(const nlohmann::json& j, const char* name) {
  if (!j.contains(name)) return {};
  if (!j[name].is_string() || j[name].get<std::string>().empty())
    throw_invalid(std::string("exec store: \"") + name + "\" must be a non-empty string (a path)");
  return j[name].get<std::string>();
}

}  // namespace

ExecStoreOptions parse_exec_store_location(std::string_view location) {
  auto j = nlohmann::json::parse(location, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw_invalid("exec store: expected a JSON object after 'exec:', e.g. "
                  "exec:{\"read\":[\"pass\",\"show\",\"momento/key\"]}");
  for (auto& [k, v] : j.items())
    if (k != "read" && k != "write" && k != "timeoutMs" && k != "lock" && k != "journal")
      throw_invalid("exec store: unknown member \"" + k +
                    "\" (expected read, write, timeoutMs, lock, journal)");
  ExecStoreOptions o;
  o.read = argv_member(j, "read", true);
  o.write = argv_member(j, "write", false);
  if (j.contains("timeoutMs")) {
    const auto& t = j["timeoutMs"];
    if (!t.is_number_integer() || t.get<int64_t>() <= 0 || t.get<int64_t>() > 3600000)
      throw_invalid("exec store: \"timeoutMs\" must be an integer from 1 to 3600000");
    o.timeout = std::chrono::milliseconds(t.get<int64_t>());
  }
  o.lock_path = string_member(j, "lock");
  o.journal_path = string_member(j, "journal");
  return o;
}

ExecStore::ExecStore(ExecStoreOptions options) : options_(std::move(options)) {
  if (options_.read.empty() || options_.read[0].empty()) throw_invalid("exec store: the read command is empty");
  if (!options_.write.empty() && options_.write[0].empty()) throw_invalid("exec store: the write command names no program");
  if (options_.timeout.count() <= 0) throw_invalid("exec store: timeout must be positive");
}

std::string ExecStore::describe() const { return "exec:" + options_.read[0]; }

std::optional<StoreSnapshot> ExecStore::load() {
  detail::CommandResult r = detail::run_command(options_.read, {}, options_.timeout);
  if (r.timed_out || r.signal || r.exit_code != 0) {
    wipe(r.out);
    throw Error(r.timed_out ? ErrorCode::Timeout : ErrorCode::Unknown,
                "exec store: read command '" + options_.read[0] + "' " +
                    detail::describe_failure(r, options_.timeout));
  }
  std::string value(detail::trim_ascii_whitespace(r.out));
  wipe(r.out);
  if (value.empty()) return std::nullopt;
  StoreSnapshot out;
  try {
    if (value.front() == '{') out.token = parse_token_file_json(value);
    else if (value.find_first_of(" \t\r\n") != std::string::npos)
      throw_invalid("the output is neither a JSON object nor a single key");
    else out.token.api_key = Secret(value);
  } catch (const Error& e) {
    wipe(value);
    throw Error(e.code(), "exec store: read command '" + options_.read[0] + "': " + e.what());
  }
  out.version = detail::hex(detail::sha256(value)).substr(0, 32);
  wipe(value);
  return out;
}

void ExecStore::store(const Token& token) {
  if (options_.write.empty())
    throw Error(ErrorCode::FailedPrecondition,
                "store " + describe() + " has no write command; add \"write\" to the exec: specification");
  if (token.api_key.empty()) throw_invalid("exec store: authToken is empty");
  std::string json = token_file_json(token);
  json.push_back('\n');
  detail::CommandResult r;
  try {
    r = detail::run_command(options_.write, json, options_.timeout);
  } catch (...) {
    wipe(json);
    throw;
  }
  wipe(r.out);
  if (r.timed_out || r.signal || r.exit_code != 0) {
    std::string why = detail::describe_failure(
        r, options_.timeout, {token.api_key.reveal(), token.refresh_token.reveal(), json});
    wipe(json);
    throw Error(r.timed_out ? ErrorCode::Timeout : ErrorCode::Unknown,
                "exec store: write command '" + options_.write[0] + "' " + why);
  }
  wipe(json);
}

std::unique_ptr<StoreLock> ExecStore::lock() {
  if (options_.lock_path.empty()) return std::make_unique<StoreLock>();
  return std::make_unique<detail::OfdStoreLock>(options_.lock_path);
}

}  // namespace momento::auth

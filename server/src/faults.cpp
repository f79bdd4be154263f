#include "faults.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace momento::server {

namespace {

std::string normalize(std::string_view s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

const std::pair<grpc::StatusCode, const char*> kCodes[] = {
    {grpc::StatusCode::OK, "OK"},
    {grpc::StatusCode::CANCELLED, "CANCELLED"},
    {grpc::StatusCode::UNKNOWN, "UNKNOWN"},
    {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
    {grpc::StatusCode::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
    {grpc::StatusCode::NOT_FOUND, "NOT_FOUND"},
    {grpc::StatusCode::ALREADY_EXISTS, "ALREADY_EXISTS"},
    {grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_DENIED"},
    {grpc::StatusCode::RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"},
    {grpc::StatusCode::FAILED_PRECONDITION, "FAILED_PRECONDITION"},
    {grpc::StatusCode::ABORTED, "ABORTED"},
    {grpc::StatusCode::OUT_OF_RANGE, "OUT_OF_RANGE"},
    {grpc::StatusCode::UNIMPLEMENTED, "UNIMPLEMENTED"},
    {grpc::StatusCode::INTERNAL, "INTERNAL"},
    {grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE"},
    {grpc::StatusCode::DATA_LOSS, "DATA_LOSS"},
    {grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED"},
};

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

bool rpc_listed(std::string_view list, std::string_view method_path) {
  if (list.empty()) return true;
  std::string full = normalize(method_path);
  auto slash = method_path.rfind('/');
  std::string shortname = normalize(method_path.substr(slash == std::string_view::npos ? 0 : slash + 1));
  size_t i = 0;
  while (i < list.size()) {
    size_t j = list.find_first_of(" ,", i);
    if (j == std::string_view::npos) j = list.size();
    std::string item = normalize(list.substr(i, j - i));
    if (!item.empty() && (item == shortname || item == full || item == "*" ||
                          item == "all"))
      return true;
    i = j + 1;
  }
  return false;
}

}  // namespace

std::optional<grpc::StatusCode> parse_status_code(std::string_view s) {
  if (auto n = parse_int(s)) {
    if (*n >= 0 && *n <= 16) return static_cast<grpc::StatusCode>(*n);
    return std::nullopt;
  }
  std::string want = normalize(s);
  for (auto& [code, name] : kCodes)
    if (normalize(name) == want) return code;
  // Momento's names for a few of them.
  if (want == "serverunavailable") return grpc::StatusCode::UNAVAILABLE;
  if (want == "timeout") return grpc::StatusCode::DEADLINE_EXCEEDED;
  if (want == "limitexceeded") return grpc::StatusCode::RESOURCE_EXHAUSTED;
  if (want == "internalservererror") return grpc::StatusCode::INTERNAL;
  if (want == "authenticationerror") return grpc::StatusCode::UNAUTHENTICATED;
  if (want == "permissionerror") return grpc::StatusCode::PERMISSION_DENIED;
  return std::nullopt;
}

const char* status_code_name(grpc::StatusCode c) noexcept {
  for (auto& [code, name] : kCodes)
    if (code == c) return name;
  return "UNKNOWN";
}

std::string FaultPlan::describe() const {
  std::string out;
  if (delay.count() > 0) out += "delay=" + std::to_string(delay.count()) + "ms";
  if (error) out += std::string(out.empty() ? "" : " ") + "error=" + status_code_name(*error);
  if (after_commit)
    out += std::string(out.empty() ? "" : " ") + "commit-then-error=" + status_code_name(*after_commit);
  return out;
}

bool Faults::requested(const std::multimap<grpc::string_ref, grpc::string_ref>& md) {
  return md.count("return-error") || md.count("commit-then-error") || md.count("delay-ms");
}

FaultPlan Faults::plan(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                       std::string_view method_path) {
  auto get = [&](const char* name) -> std::optional<std::string_view> {
    auto it = md.find(name);
    if (it == md.end()) return std::nullopt;
    return std::string_view(it->second.data(), it->second.size());
  };
  FaultPlan p;
  auto ret = get("return-error");
  auto commit = get("commit-then-error");
  auto delay = get("delay-ms");
  if (!ret && !commit && !delay) return p;

  std::string rid(get("request-id").value_or(""));
  std::lock_guard lock(mu_);
  // Bounded: a test suite uses a few ids; forget them all if something floods us.
  if (counters_.size() > 10000 && !counters_.count(rid)) counters_.clear();
  Counters& c = counters_[rid];

  if (ret || commit) {
    auto code = parse_status_code(ret ? *ret : *commit);
    if (code && *code != grpc::StatusCode::OK &&
        rpc_listed(get("error-rpcs").value_or(""), method_path)) {
      auto limit = get("error-count");
      std::optional<int> n = limit ? parse_int(*limit) : std::nullopt;
      if (!limit || (n && c.errors < *n)) {
        ++c.errors;
        if (ret) p.error = code;
        else p.after_commit = code;
      }
    }
  }
  if (delay) {
    auto ms = parse_int(*delay);
    if (ms && *ms > 0 && rpc_listed(get("delay-rpcs").value_or(""), method_path)) {
      auto limit = get("delay-count");
      std::optional<int> n = limit ? parse_int(*limit) : std::nullopt;
      if (!limit || (n && c.delays < *n)) {
        ++c.delays;
        p.delay = std::chrono::milliseconds(std::min(*ms, 600000));
      }
    }
  }
  return p;
}

}  // namespace momento::server

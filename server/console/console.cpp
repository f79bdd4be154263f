#include "console.hpp"

#include <httplib.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "auth.pb.h"
#include "authz.hpp"
#include "console_assets.hpp"
#include "crypto.hpp"
#include "log.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/expiry.hpp"
#include "momento/auth/scope.hpp"
#include "momento/auth/secret.hpp"
#include "permissionmessages.pb.h"
#include "util/net.hpp"
#include "registry.hpp"

namespace momento::server {

namespace {

using json = nlohmann::json;
namespace ma = momento::auth;

constexpr const char* kCookie = "momento_console";
constexpr size_t kMaxSessions = 64;
constexpr size_t kSignInFailuresPerMinute = 10;
constexpr size_t kMaxBodyBytes = 64 * 1024;

// No inline script or style anywhere: everything the page runs or applies is served by us.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// An answer the page shows as it is: an HTTP status and words a person understands.
struct HttpError {
  int status;
  std::string message;
};
[[noreturn]] void fail(int status, std::string message) {
  throw HttpError{status, std::move(message)};
}

const char* kSignInAgain = "Your session has expired or its key was revoked. Sign in again.";

std::string cookie_value(const httplib::Request& req, const std::string& name) {
  const std::string all = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find(';', pos);
    if (end == std::string::npos) end = all.size();
    std::string part = all.substr(pos, end - pos);
    part.erase(0, part.find_first_not_of(' '));
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 &&
        part[name.size()] == '=')
      return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return {};
}

json body_of(const httplib::Request& req) {
  json b = json::parse(req.body, nullptr, false);
  if (!b.is_object()) fail(400, "The request body is not a JSON object.");
  return b;
}

std::string string_field(const json& b, const char* name) {
  auto it = b.find(name);
  if (it == b.end() || it->is_null()) return {};
  if (!it->is_string()) fail(400, std::string("'") + name + "' must be a string.");
  return it->get<std::string>();
}

// The raw key inside what a person pasted: a v1 envelope, a Download JSON file's text, or a
// raw key or session token as it is.
ma::Secret raw_key_of(std::string pasted) {
  ma::Secret keep(std::move(pasted));
  const std::string_view s = ma::detail::trim_ascii_whitespace(keep.reveal());
  if (s.empty()) fail(400, "Paste a super-user key or a session token first.");
  if (s.size() > ma::kMaxCredentialLength) fail(400, "That is too long to be a key.");
  ma::Secret text{std::string(s)};
  if (s.front() == '{') {
    try {
      text = ma::parse_token_file_json(s).api_key;
    } catch (const ma::Error&) {
      fail(400, "That JSON is not a key file in the Download JSON shape.");
    }
  }
  try {
    // Any endpoint will do: only the key inside is used.
    auto c = ma::Credential::from_string(text.reveal(), ma::SingleEndpointOverride{"127.0.0.1:1"});
    return ma::Secret(c.raw_key());
  } catch (const ma::Error&) {
    return text;  // not an envelope: a raw key or session token
  }
}

std::string scope_text(const KeyRecord& k) {
  if (k.cls == KeyClass::Session) return "Session";
  if (k.cls == KeyClass::SuperUser) return "SuperUser";
  permission_messages::Permissions p;
  if (!p.ParseFromString(k.permissions)) return key_class_name(k.cls);
  try {
    ma::PermissionScope s = ma::scope_from_proto(p);
    if (s.is_super_user()) return "SuperUser";
    if (s == ma::PermissionScope::all_data_read_write()) return "AllDataReadWrite";
    if (s == ma::PermissionScope::all_data_read_only()) return "AllDataReadOnly";
    std::string out = k.cls == KeyClass::Disposable ? "Disposable:" : "Fine-grained:";
    static const char* cache_roles[] = {"PermitNone", "ReadWrite", "ReadOnly", "WriteOnly"};
    static const char* topic_roles[] = {"PermitNone", "PublishSubscribe", "SubscribeOnly",
                                        "PublishOnly"};
    auto caches = [](const ma::CacheSelector& c) {
      return c.all ? std::string("all caches") : "cache " + c.name;
    };
    for (const auto& e : s.permissions()) {
      out += out.back() == ':' ? " " : "; ";
      if (auto* c = std::get_if<ma::CachePermission>(&e)) {
        out += std::string(cache_roles[static_cast<int>(c->role)]) + " on " + caches(c->cache);
      } else if (auto* t = std::get_if<ma::TopicPermission>(&e)) {
        out += std::string("topics ") + topic_roles[static_cast<int>(t->role)] + " on " +
               (t->topic.kind == ma::NameSelector::Kind::All ? "all topics" : "topic " + t->topic.value) +
               " in " + caches(t->cache);
      } else {
        out += "functions on " + caches(std::get<ma::FunctionPermission>(e).cache);
      }
    }
    return out;
  } catch (const ma::Error&) {
    return key_class_name(k.cls);
  }
}

// One fine-grained entry from the page: {"type":"cache"|"topic","role":...,"cache":"","topic":""}.
ma::Permission permission_of(const json& e, size_t i) {
  const std::string where = "Permission " + std::to_string(i + 1) + ": ";
  if (!e.is_object()) fail(400, where + "not an object.");
  std::string type = string_field(e, "type"), role = string_field(e, "role");
  std::string cache = string_field(e, "cache");
  ma::CacheSelector sel = cache.empty() ? ma::CacheSelector::all_caches()
                                        : ma::CacheSelector::named(cache);
  if (type == "cache") {
    ma::CachePermission c;
    c.cache = sel;
    if (role == "readwrite") c.role = ma::CacheRole::ReadWrite;
    else if (role == "readonly") c.role = ma::CacheRole::ReadOnly;
    else if (role == "writeonly") c.role = ma::CacheRole::WriteOnly;
    else fail(400, where + "pick a cache role.");
    return c;
  }
  if (type == "topic") {
    ma::TopicPermission t;
    t.cache = sel;
    std::string topic = string_field(e, "topic");
    t.topic = topic.empty() ? ma::NameSelector::all() : ma::NameSelector::named(topic);
    if (role == "publishsubscribe") t.role = ma::TopicRole::PublishSubscribe;
    else if (role == "subscribeonly") t.role = ma::TopicRole::SubscribeOnly;
    else if (role == "publishonly") t.role = ma::TopicRole::PublishOnly;
    else fail(400, where + "pick a topic role.");
    return t;
  }
  fail(400, where + "pick cache or topic.");
}

ma::PermissionScope scope_of(const json& b) {
  const std::string kind = string_field(b, "scope");
  if (kind == "super_user") return ma::PermissionScope::super_user();
  if (kind == "all_data_read_write") return ma::PermissionScope::all_data_read_write();
  if (kind == "fine_grained") {
    auto it = b.find("permissions");
    if (it == b.end() || !it->is_array() || it->empty())
      fail(400, "Add at least one permission to a fine-grained key.");
    std::vector<ma::Permission> entries;
    for (size_t i = 0; i < it->size(); ++i) entries.push_back(permission_of((*it)[i], i));
    return ma::PermissionScope::of(std::move(entries));
  }
  fail(400, "Pick a scope: SuperUser, AllDataReadWrite or fine-grained.");
}

struct Session {
  std::string csrf;
  ma::Secret credential;  // the raw key the page acts with; in memory only
  int64_t expires_at = 0;
};

}  // namespace

class Console::Impl {
 public:
  Impl(Registry& reg, Logger& log, ConsoleOptions o) : reg_(reg), log_(log), opts_(std::move(o)) {
    auto colon = opts_.listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == opts_.listen.size())
      throw std::invalid_argument("--console must be HOST:PORT");
    host_ = opts_.listen.substr(0, colon);
    try {
      size_t used = 0;
      port_ = std::stoi(opts_.listen.substr(colon + 1), &used);
      if (used != opts_.listen.size() - colon - 1 || port_ < 0 || port_ > 65535) throw 0;
    } catch (...) {
      throw std::invalid_argument("--console: the port must be a number from 0 to 65535");
    }
    bind_host_ = host_;
    if (bind_host_.size() > 2 && bind_host_.front() == '[' && bind_host_.back() == ']')
      bind_host_ = bind_host_.substr(1, bind_host_.size() - 2);
    if (opts_.tls_cert.empty() != opts_.tls_key.empty())
      throw std::invalid_argument("--tls-cert and --tls-key go together");
    if (!ma::detail::is_loopback_host(bind_host_)) {
      if (!opts_.allow_remote)
        throw std::invalid_argument("--console " + opts_.listen +
                                    " is not a loopback address: add --console-allow-remote "
                                    "(and --tls-cert/--tls-key) to serve the console remotely");
      if (opts_.tls_cert.empty())
        throw std::invalid_argument("--console on a non-loopback address needs --tls-cert and --tls-key");
      if (bind_host_ == "0.0.0.0" || bind_host_ == "::")
        throw std::invalid_argument("--console needs the address people will use, not a wildcard");
    }
    if (opts_.regions.empty()) throw std::invalid_argument("the console needs at least one region");
  }

  ~Impl() { stop(); }

  std::string start() {
    scheme_ = opts_.tls_cert.empty() ? "http" : "https";
    if (opts_.tls_cert.empty()) {
      http_ = std::make_unique<httplib::Server>();
    } else {
      auto tls = std::make_unique<httplib::SSLServer>(opts_.tls_cert.c_str(), opts_.tls_key.c_str());
      if (!tls->is_valid()) throw std::runtime_error("the console cannot use --tls-cert/--tls-key");
      http_ = std::move(tls);
    }
    http_->new_task_queue = [] { return new httplib::ThreadPool(4); };
    http_->set_payload_max_length(kMaxBodyBytes);
    http_->set_read_timeout(10);
    http_->set_write_timeout(10);
    http_->set_keep_alive_timeout(5);
    http_->set_default_headers({{"Content-Security-Policy", kCsp},
                                {"X-Content-Type-Options", "nosniff"},
                                {"X-Frame-Options", "DENY"},
                                {"Referrer-Policy", "no-referrer"},
                                {"Cross-Origin-Opener-Policy", "same-origin"},
                                {"Cross-Origin-Resource-Policy", "same-origin"},
                                {"Cache-Control", "no-store"}});
    routes();
    int port = port_ == 0 ? http_->bind_to_any_port(bind_host_)
                          : (http_->bind_to_port(bind_host_, port_) ? port_ : -1);
    if (port <= 0) throw std::runtime_error("the console cannot listen on " + opts_.listen);
    port_ = port;
    const std::string p = std::to_string(port_);
    hosts_ = {host_ + ":" + p};
    if (ma::detail::is_loopback_host(bind_host_)) hosts_.push_back("localhost:" + p);
    {
      std::lock_guard lock(mu_);
      code_ = ma::Secret(random_token(32));
    }
    // listen() was done by the bind: connections queue until this thread accepts them.
    thread_ = std::thread([this] { http_->listen_after_bind(); });
    log_.event("console on " + scheme_ + "://" + hosts_.front() + "/");
    std::lock_guard lock(mu_);
    return scheme_ + "://" + hosts_.front() + "/#code=" + code_.reveal();
  }

  void stop() {
    if (http_) http_->stop();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    sessions_.clear();
  }

 private:
  using Req = httplib::Request;
  using Res = httplib::Response;

  void routes() {
    http_->set_pre_routing_handler([this](const Req& req, Res& res) {
      // DNS rebinding: a page of another site resolved to our address still names its own host.
      const std::string host = req.get_header_value("Host");
      if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()) {
        error(res, 421, "This console answers only at " + scheme_ + "://" + hosts_.front() + "/.");
        return httplib::Server::HandlerResponse::Handled;
      }
      const std::string origin = req.get_header_value("Origin");
      const bool changes = req.method != "GET" && req.method != "HEAD";
      if (!origin.empty() && origin != scheme_ + "://" + host) {
        error(res, 403, "Requests from other sites are refused.");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (changes && origin.empty()) {
        error(res, 403, "Requests without an Origin header are refused.");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (changes && req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
        error(res, 415, "Send JSON (Content-Type: application/json).");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http_->set_error_handler([this](const Req& req, Res& res) {
      if (res.status == 404 && !res.body.empty()) return;
      if (res.status == 404) error(res, 404, "There is no page at " + req.path + ".");
    });

    http_->Get(R"(/(index\.html)?|/console\.js|/console\.css|/favicon\.svg)",
               [](const Req& req, Res& res) {
                 const ConsoleAsset* a = find_console_asset(req.path == "/" ? "/index.html" : req.path);
                 if (!a) return;
                 res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->type);
               });
    http_->Get("/api/session", [this](const Req& req, Res& res) {
      api(req, res, [&](CallRecord& rec) {
        Current c = current(req, false, rec);
        return session_json(c);
      });
    });
    http_->Post("/api/signin", [this](const Req& req, Res& res) {
      api(req, res, [&](CallRecord& rec) { return sign_in(req, res, rec); });
    });
    http_->Post("/api/signout", [this](const Req& req, Res& res) {
      api(req, res, [&](CallRecord& rec) {
        Current c = current(req, true, rec);
        {
          std::lock_guard lock(mu_);
          sessions_.erase(c.id_hash);
        }
        res.set_header("Set-Cookie", cookie("", 0));
        return json{{"signedOut", true}};
      });
    });
    http_->Post("/api/tokens", [this](const Req& req, Res& res) {
      api(req, res, [&](CallRecord& rec) { return generate(req, rec); });
    });
    http_->Get("/api/keys", [this](const Req& req, Res& res) {
      api(req, res, [&](CallRecord& rec) { return list_keys(req, rec); });
    });
    http_->Post("/api/keys/revoke", [this](const Req& req, Res& res) {
      api(req, res, [&](CallRecord& rec) { return revoke(req, rec); });
    });
  }

  void error(Res& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(json{{"error", message}}.dump(), "application/json");
  }

  // Runs one API call: JSON out, every failure as a status and a sentence, one log line.
  template <class F>
  void api(const Req& req, Res& res, F&& f) {
    CallRecord rec;
    rec.method = "console " + req.method + " " + req.path;  // paths never carry secrets
    rec.wanted = log_.enabled();
    rec.peer = req.remote_addr;
    rec.caller = "-";
    const auto start = std::chrono::steady_clock::now();
    int status = 200;
    try {
      json out = f(rec);
      res.set_content(out.dump(), "application/json");
    } catch (const HttpError& e) {
      status = e.status;
      error(res, status, e.message);
    } catch (const ServiceError& e) {
      status = e.code() == grpc::StatusCode::UNAUTHENTICATED     ? 401
               : e.code() == grpc::StatusCode::PERMISSION_DENIED ? 403
               : e.code() == grpc::StatusCode::INVALID_ARGUMENT  ? 400
                                                                 : 500;
      error(res, status,
            status == 401   ? std::string(kSignInAgain)
            : status == 403 ? std::string(kInsufficient) +
                                  ": the key you signed in with cannot do this. Super-user keys "
                                  "are minted by a console session (the server's sign-in link)."
            : status == 400 ? std::string(e.what()) + "."
                            : std::string("The server could not do this: ") + e.what());
    } catch (const ma::Error& e) {
      status = 400;
      error(res, status, std::string(e.what()) + ".");
    } catch (const std::exception&) {
      status = 500;
      error(res, status, "The server failed to answer; see its log.");
    }
    rec.status = std::to_string(status);
    if (status != 200) rec.message = json::parse(res.body, nullptr, false).value("error", "");
    rec.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    log_.call(rec);
  }

  std::string cookie(const std::string& value, int max_age) const {
    return std::string(kCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
           std::to_string(max_age) + (scheme_ == "https" ? "; Secure" : "");
  }

  // The caller's session, checked against the registry on every call.
  struct Current {
    std::string id_hash;
    std::string csrf;
    ma::Secret credential;
    int64_t expires_at = 0;
    PrincipalRef principal;
  };

  Current current(const Req& req, bool changes, CallRecord& rec) {
    const std::string id = cookie_value(req, kCookie);
    if (id.empty()) fail(401, "You are not signed in.");
    Current c;
    c.id_hash = sha256(id);
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(c.id_hash);
      if (it == sessions_.end() || it->second.expires_at <= reg_.now()) {
        if (it != sessions_.end()) sessions_.erase(it);
        fail(401, kSignInAgain);
      }
      c.csrf = it->second.csrf;
      c.credential = it->second.credential;
      c.expires_at = it->second.expires_at;
    }
    if (changes && !ma::constant_time_equal(req.get_header_value("X-CSRF-Token"), c.csrf))
      fail(403, "The request carries no valid CSRF token. Reload the page and try again.");
    try {
      c.principal = reg_.authenticate(c.credential.reveal());
    } catch (const ServiceError&) {
      std::lock_guard lock(mu_);
      sessions_.erase(c.id_hash);
      fail(401, kSignInAgain);
    }
    rec.key_id = c.principal->key_id;
    return c;
  }

  json session_json(const Current& c) const {
    json regions = json::array();
    for (const auto& r : opts_.regions)
      regions.push_back({{"provider", r.provider}, {"region", r.region}, {"endpoint", r.endpoint}});
    const Caller who = c.principal->caller();
    return {{"csrf", c.csrf},
            {"keyId", c.principal->key_id},
            {"keyClass", key_class_name(c.principal->key.cls)},
            {"expiresAt", c.expires_at},
            {"canMintSuperUser", allowed(who, Operation::GenerateSuperUser)},
            {"canManageKeys", allowed(who, Operation::ManageKeys)},
            {"regions", regions}};
  }

  json sign_in(const Req& req, Res& res, CallRecord& rec) {
    const int64_t now = reg_.now();
    {
      std::lock_guard lock(mu_);
      while (!failures_.empty() && failures_.front() <= now - 60) failures_.pop_front();
      if (failures_.size() >= kSignInFailuresPerMinute)
        fail(429, "Too many failed sign-in attempts. Wait a minute and try again.");
    }
    auto refuse = [&](const std::string& why) {
      std::lock_guard lock(mu_);
      failures_.push_back(now);
      fail(401, why);
    };
    json b = body_of(req);
    Current c;
    c.expires_at = now + opts_.session_seconds;
    if (b.contains("code")) {
      ma::Secret code(string_field(b, "code"));
      bool ok = false;
      {
        std::lock_guard lock(mu_);
        ok = !code_.empty() && ma::constant_time_equal(code.reveal(), code_.reveal());
        if (ok) code_ = ma::Secret();  // one time only
      }
      if (!ok)
        refuse("This sign-in link is not valid or was already used. Paste a super-user key, or "
               "restart the server for a new link.");
      // A console session acts with a session key of its own, as Momento's console does.
      permission_messages::Permissions su;
      su.set_super_user(permission_messages::SuperUser);
      Minted m = reg_.mint(KeyClass::Session, su, static_cast<uint32_t>(opts_.session_seconds), {},
                           "console sign-in");
      c.credential = ma::Secret(std::move(m.api_key));
      rec.detail = "signed in by link, session key " + m.key_id;
    } else {
      c.credential = raw_key_of(string_field(b, "key"));
      rec.caller = ma::redact(c.credential.reveal());
    }
    try {
      c.principal = reg_.authenticate(c.credential.reveal());
    } catch (const ServiceError&) {
      refuse("That key is not valid on this server: it is unknown, expired or revoked.");
    }
    rec.key_id = c.principal->key_id;
    const int64_t key_end = c.principal->key.valid_until;
    if (key_end != 0) c.expires_at = std::min(c.expires_at, key_end);

    const std::string id = random_token(32);
    c.csrf = random_token(32);
    c.id_hash = sha256(id);
    {
      std::lock_guard lock(mu_);
      for (auto it = sessions_.begin(); it != sessions_.end();)
        it = it->second.expires_at <= now ? sessions_.erase(it) : std::next(it);
      if (sessions_.size() >= kMaxSessions) {
        auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
          return a.second.expires_at < b.second.expires_at;
        });
        sessions_.erase(oldest);
      }
      sessions_[c.id_hash] = Session{c.csrf, c.credential, c.expires_at};
    }
    res.set_header("Set-Cookie", cookie(id, static_cast<int>(c.expires_at - now)));
    return session_json(c);
  }

  json generate(const Req& req, CallRecord& rec) {
    Current c = current(req, true, rec);
    json b = body_of(req);
    const std::string provider = string_field(b, "provider"), region = string_field(b, "region");
    auto r = std::find_if(opts_.regions.begin(), opts_.regions.end(), [&](const ConsoleRegion& x) {
      return x.provider == provider && x.region == region;
    });
    if (r == opts_.regions.end()) fail(400, "Pick a cloud provider and a region this server offers.");

    ::auth::_GenerateApiTokenRequest g;
    const std::string expiry = string_field(b, "expiry");
    if (expiry == "never") {
      g.mutable_never();
    } else if (expiry == "days") {
      auto d = b.value("days", json());
      if (!d.is_number_integer()) fail(400, "Pick how many days the key is valid for.");
      g.mutable_expires()->set_valid_for_seconds(ma::ExpiresIn::days(d.get<int64_t>()).valid_for_seconds());
    } else if (expiry == "date") {
      // The page sends the end of the chosen day in the browser's time zone.
      auto e = b.value("validUntil", json());
      if (!e.is_number_integer()) fail(400, "Pick an expiry date.");
      if (e.get<int64_t>() <= reg_.now()) fail(400, "The expiry date is in the past. Pick a later date.");
      g.mutable_expires()->set_valid_for_seconds(
          ma::ExpiresIn::at_epoch(e.get<int64_t>(), reg_.now()).valid_for_seconds());
    } else {
      fail(400, "Pick an expiry: never, a number of days or a date.");
    }
    ma::scope_to_proto(scope_of(b), ma::ScopeUse::ApiKey, g.mutable_permissions());
    g.set_description(string_field(b, "description"));
    g.set_auth_token(c.credential.reveal());
    Minted m;
    try {
      m = reg_.generate_api_key(g);  // the very call GenerateApiToken makes
    } catch (const ServiceError& e) {
      ma::wipe(*g.mutable_auth_token());
      if (e.code() == grpc::StatusCode::PERMISSION_DENIED && g.permissions().has_super_user())
        fail(403, std::string(kInsufficient) +
                      ": only a console session (the server's sign-in link) can mint SuperUser "
                      "keys; a super-user key can mint AllDataReadWrite and fine-grained keys.");
      throw;
    }
    ma::wipe(*g.mutable_auth_token());
    rec.detail = "minted=" + m.key_id;
    ma::Token tf;
    tf.api_key = ma::Secret(ma::encode_envelope(m.endpoint, m.api_key));
    tf.refresh_token = ma::Secret(m.refresh_token);
    tf.valid_until = m.valid_until ? ma::ExpiresAt::from_epoch(m.valid_until) : ma::ExpiresAt::never();
    ma::wipe(m.api_key);
    ma::wipe(m.refresh_token);
    return json{{"authToken", tf.api_key.reveal()},
                {"refreshToken", tf.refresh_token.reveal()},
                {"validUntil", m.valid_until},
                {"endpoint", m.endpoint},
                {"keyId", m.key_id},
                {"downloadJson", ma::token_file_json(tf)}};
  }

  void need_manage(const Current& c) {
    if (!allowed(c.principal->caller(), Operation::ManageKeys))
      fail(403, std::string(kInsufficient) +
                    ": only a super-user key or a console session can list and revoke keys.");
  }

  json list_keys(const Req& req, CallRecord& rec) {
    Current c = current(req, false, rec);
    need_manage(c);
    const int64_t now = reg_.now();
    json keys = json::array();
    for (const auto& k : reg_.store().list_keys()) {
      keys.push_back({{"id", k.key_id()},
                      {"scope", scope_text(k)},
                      {"description", k.description},
                      {"createdAt", k.created_at},
                      {"validUntil", k.valid_until},
                      {"state", key_state(k, now)},
                      {"bootstrap", k.bootstrap},
                      {"yours", k.key_hash == c.principal->key.key_hash}});
    }
    return json{{"keys", keys}};
  }

  json revoke(const Req& req, CallRecord& rec) {
    Current c = current(req, true, rec);
    need_manage(c);
    const std::string id = string_field(body_of(req), "id");
    auto k = reg_.store().find_key_by_id(id);
    if (id.empty() || !k || k->key_id() != id) fail(404, "There is no key with id '" + id + "'.");
    if (k->revoked) fail(409, "Key " + id + " is already revoked.");
    reg_.store().revoke_key(k->key_hash);
    rec.detail = "revoked=" + id;
    return json{{"revoked", id}};
  }

  Registry& reg_;
  Logger& log_;
  ConsoleOptions opts_;
  std::string host_, bind_host_, scheme_;
  int port_ = 0;
  std::vector<std::string> hosts_;  // Host header values we answer to
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;  // by SHA-256 of the cookie value
  ma::Secret code_;                                     // the one-time sign-in code
  std::deque<int64_t> failures_;                        // times of recent failed sign-ins
};

Console::Console(Registry& reg, Logger& log, ConsoleOptions opts)
    : impl_(std::make_unique<Impl>(reg, log, std::move(opts))) {}
Console::~Console() = default;
std::string Console::start() { return impl_->start(); }
void Console::stop() { impl_->stop(); }

}  // namespace momento::server

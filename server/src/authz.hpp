// Request validation (docs/wire.md §9.3) and permission evaluation (§9.2, §9.4), on the wire
// messages themselves so that nothing is lost in translation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "momento/auth/scope.hpp"
#include "store.hpp"

namespace permission_messages { class Permissions; }

namespace momento::server {

using momento::auth::ScopeUse;

// Structural checks of a Permissions message. Returns an error text naming the problem,
// or nullopt when the message is valid for the given use.
std::optional<std::string> validate_permissions(const permission_messages::Permissions& p,
                                                ScopeUse use);

enum class Operation {
  GenerateSuperUser,  // GenerateApiToken with super_user permissions
  GenerateExplicit,   // GenerateApiToken with explicit permissions
  GenerateDisposable,
  CreateCache,
  DeleteCache,
  FlushCache,
  ListCaches,
  Read,   // Get
  Write,  // Set, Delete
  ManageKeys,  // list and revoke the server's keys (the web console's keys page)
};

// Who is calling: the class of the caller's key and its permissions (serialized).
struct Caller {
  KeyClass cls = KeyClass::Explicit;
  const permission_messages::Permissions* permissions = nullptr;  // may be null for session/legacy
  bool anonymous = false;  // empty authorization accepted by --anonymous: super-user rights
};

// True if the caller has super-user rights (super-user key, or a v2 key configured so).
bool has_super_user(const Caller& c);

// §9.2 and §9.4. For data operations pass the cache name and item key.
bool allowed(const Caller& c, Operation op, std::string_view cache = {},
             std::string_view key = {});

}  // namespace momento::server

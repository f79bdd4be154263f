// Scope model, validation and the Permissions mapping (docs/wire.md §7, §9.3).
#include "core_test_util.hpp"
#include "momento/auth/scope.hpp"
#include "permissionmessages.pb.h"

using namespace momento::auth;
using core_test::contains;
using core_test::expect_invalid;
namespace pm = permission_messages;
using PT = pm::PermissionsType;

namespace {

pm::Permissions to_proto(const PermissionScope& s, ScopeUse use = ScopeUse::ApiKey) {
  pm::Permissions p;
  scope_to_proto(s, use, &p);
  return p;
}

std::string hex_of(const pm::Permissions& p) {
  std::string bytes;
  REQUIRE(p.SerializeToString(&bytes));
  return core_test::to_hex(bytes);
}

CachePermission cache_perm(CacheRole r, CacheSelector c, ItemSelector i = ItemSelector::unset()) {
  return CachePermission{r, std::move(c), std::move(i)};
}

}  // namespace

TEST_CASE("AllDataReadWrite: three entries in JS order", "[scope]") {
  const PermissionScope s = PermissionScope::all_data_read_write();
  REQUIRE_FALSE(s.is_super_user());
  REQUIRE(s.permissions().size() == 3);
  pm::Permissions p = to_proto(s);
  REQUIRE(p.kind_case() == pm::Permissions::kExplicit);
  const auto& list = p.explicit_().permissions();
  REQUIRE(list.size() == 3);

  REQUIRE(list[0].kind_case() == PT::kCachePermissions);
  const auto& c = list[0].cache_permissions();
  CHECK(c.role() == pm::CacheReadWrite);
  CHECK(c.cache_case() == PT::CachePermissions::kAllCaches);
  CHECK(c.cache_item_case() == PT::CachePermissions::CACHE_ITEM_NOT_SET);

  REQUIRE(list[1].kind_case() == PT::kTopicPermissions);
  const auto& t = list[1].topic_permissions();
  CHECK(t.role() == pm::TopicReadWrite);
  CHECK(t.cache_case() == PT::TopicPermissions::kAllCaches);
  CHECK(t.topic_case() == PT::TopicPermissions::kAllTopics);

  REQUIRE(list[2].kind_case() == PT::kFunctionPermissions);
  const auto& f = list[2].function_permissions();
  CHECK(f.role() == pm::FunctionInvoke);
  CHECK(f.cache_case() == PT::FunctionPermissions::kAllCaches);
  CHECK(f.function_case() == PT::FunctionPermissions::kAllFunctions);

  // Bytes, computed from the field table of docs/wire.md §2.3 by hand:
  // explicit(2){ permissions(1){cache(1){role=1, all_caches{}}},
  //              permissions{topic(2){role=1, all_caches{}, all_topics{}}},
  //              permissions{function(3){role=1, all_caches{}, all_functions{}}} }
  CHECK(hex_of(p) ==
        "121c"
        "0a06" "0a04" "0801" "1200"
        "0a08" "1206" "0801" "1200" "2200"
        "0a08" "1a06" "0801" "1200" "2200");
  CHECK(scope_from_proto(p) == s);
}

TEST_CASE("AllDataReadOnly: cache ReadOnly then topic ReadOnly", "[scope]") {
  pm::Permissions p = to_proto(PermissionScope::all_data_read_only());
  const auto& list = p.explicit_().permissions();
  REQUIRE(list.size() == 2);
  CHECK(list[0].cache_permissions().role() == pm::CacheReadOnly);
  CHECK(list[0].cache_permissions().cache_case() == PT::CachePermissions::kAllCaches);
  CHECK(list[0].cache_permissions().cache_item_case() == PT::CachePermissions::CACHE_ITEM_NOT_SET);
  CHECK(list[1].topic_permissions().role() == pm::TopicReadOnly);
  CHECK(list[1].topic_permissions().topic_case() == PT::TopicPermissions::kAllTopics);
  CHECK(scope_from_proto(p) == PermissionScope::all_data_read_only());
}

TEST_CASE("super user is 08 00 and rejected for disposable tokens", "[scope]") {
  pm::Permissions p = to_proto(PermissionScope::super_user());
  CHECK(hex_of(p) == "0800");
  CHECK(p.kind_case() == pm::Permissions::kSuperUser);
  CHECK(scope_from_proto(p).is_super_user());
  CHECK(contains(expect_invalid([] { validate_scope(PermissionScope::super_user(), ScopeUse::DisposableToken); }),
                 "unrecognized token scope"));
  pm::Permissions q;
  expect_invalid([&] { scope_to_proto(PermissionScope::super_user(), ScopeUse::DisposableToken, &q); });
}

TEST_CASE("fine-grained entries keep caller order and selectors", "[scope]") {
  PermissionScope s = PermissionScope::of({
      TopicPermission{TopicRole::PublishOnly, CacheSelector::named("c1"), NameSelector::prefix("news-")},
      cache_perm(CacheRole::WriteOnly, CacheSelector::named("c2")),
      FunctionPermission{FunctionRole::PermitNone, CacheSelector::all_caches(), NameSelector::named("fn")},
      TopicPermission{TopicRole::SubscribeOnly, CacheSelector::all_caches(), NameSelector::named("t")},
      FunctionPermission{FunctionRole::Invoke, CacheSelector::named("c3"), NameSelector::prefix("f-")},
      cache_perm(CacheRole::WriteOnly, CacheSelector::named("c2")),  // duplicates are kept
  });
  pm::Permissions p = to_proto(s);
  const auto& l = p.explicit_().permissions();
  REQUIRE(l.size() == 6);
  CHECK(l[0].topic_permissions().role() == pm::TopicWriteOnly);
  CHECK(l[0].topic_permissions().cache_selector().cache_name() == "c1");
  CHECK(l[0].topic_permissions().topic_selector().topic_name_prefix() == "news-");
  CHECK(l[1].cache_permissions().role() == pm::CacheWriteOnly);
  CHECK(l[1].cache_permissions().cache_selector().cache_name() == "c2");
  // PermitNone is role 0: not emitted on the wire, but the entry exists.
  CHECK(l[2].function_permissions().role() == pm::FunctionPermitNone);
  CHECK(l[2].function_permissions().function_selector().function_name() == "fn");
  {
    pm::PermissionsType only;
    *only.mutable_function_permissions() = l[2].function_permissions();
    std::string bytes;
    only.SerializeToString(&bytes);
    // 1a 08 { 12 00 (all_caches) 2a 04 { 0a 02 "fn" } } — no 08 role tag.
    CHECK(core_test::to_hex(bytes) == "1a0812002a040a02666e");
  }
  CHECK(l[3].topic_permissions().topic_selector().topic_name() == "t");
  CHECK(l[4].function_permissions().function_selector().function_name_prefix() == "f-");
  CHECK(l[5].cache_permissions().cache_selector().cache_name() == "c2");
  CHECK(scope_from_proto(p) == s);
}

TEST_CASE("item selectors for disposable tokens", "[scope][disposable]") {
  PermissionScope s = PermissionScope::of({
      cache_perm(CacheRole::ReadWrite, CacheSelector::named("c"), ItemSelector::key("user:1")),
      cache_perm(CacheRole::ReadOnly, CacheSelector::all_caches(), ItemSelector::key_prefix("pre")),
      cache_perm(CacheRole::WriteOnly, CacheSelector::named("d"), ItemSelector::all_items()),
      cache_perm(CacheRole::ReadOnly, CacheSelector::named("e")),
      // Mixed with a topic entry: restrictions must not be dropped.
      TopicPermission{TopicRole::PublishSubscribe, CacheSelector::all_caches(), NameSelector::all()},
  });
  pm::Permissions p = to_proto(s, ScopeUse::DisposableToken);
  const auto& l = p.explicit_().permissions();
  REQUIRE(l.size() == 5);
  CHECK(l[0].cache_permissions().item_selector().key() == "user:1");
  CHECK(l[0].cache_permissions().item_selector().kind_case() == PT::CacheItemSelector::kKey);
  CHECK(l[1].cache_permissions().item_selector().key_prefix() == "pre");
  CHECK(l[2].cache_permissions().cache_item_case() == PT::CachePermissions::kAllItems);
  CHECK(l[3].cache_permissions().cache_item_case() == PT::CachePermissions::CACHE_ITEM_NOT_SET);
  CHECK(scope_from_proto(p) == s);

  std::string bytes;
  pm::PermissionsType one = l[0];
  one.SerializeToString(&bytes);
  // 0a len { 08 01, 1a 03 {0a 01 "c"}, 2a 08 {0a 06 "user:1"} }
  CHECK(core_test::to_hex(bytes) == "0a1108011a030a01632a080a06757365723a31");

  // The same scope is refused for API keys.
  CHECK(contains(expect_invalid([&] { validate_scope(s, ScopeUse::ApiKey); }), "disposable"));
  expect_invalid([] {
    validate_scope(PermissionScope::of({cache_perm(CacheRole::ReadOnly, CacheSelector::named("c"),
                                                   ItemSelector::all_items())}),
                   ScopeUse::ApiKey);
  });
}

TEST_CASE("scope validation errors", "[scope][negative]") {
  auto both = [](const PermissionScope& s) {
    std::string a = expect_invalid([&] { validate_scope(s, ScopeUse::ApiKey); });
    expect_invalid([&] { validate_scope(s, ScopeUse::DisposableToken); });
    pm::Permissions p;
    expect_invalid([&] { scope_to_proto(s, ScopeUse::ApiKey, &p); });
    return a;
  };
  CHECK(contains(both(PermissionScope::of({})), "permissions list cannot be empty"));

  std::vector<Permission> eleven(11, cache_perm(CacheRole::ReadOnly, CacheSelector::all_caches()));
  CHECK(contains(both(PermissionScope::of(eleven)), "at most 10"));
  std::vector<Permission> ten(10, cache_perm(CacheRole::ReadOnly, CacheSelector::all_caches()));
  CHECK_NOTHROW(validate_scope(PermissionScope::of(ten), ScopeUse::ApiKey));

  CHECK(contains(both(PermissionScope::of({cache_perm(CacheRole::ReadOnly, CacheSelector::named(""))})),
                 "cache name"));
  CHECK(contains(both(PermissionScope::of({cache_perm(CacheRole::ReadOnly, CacheSelector::named(" \t"))})),
                 "cache name"));
  both(PermissionScope::of({TopicPermission{TopicRole::PublishOnly, CacheSelector::all_caches(), NameSelector::named("")}}));
  both(PermissionScope::of({TopicPermission{TopicRole::PublishOnly, CacheSelector::all_caches(), NameSelector::prefix("  ")}}));
  both(PermissionScope::of({FunctionPermission{FunctionRole::Invoke, CacheSelector::named(""), NameSelector::all()}}));
  both(PermissionScope::of({FunctionPermission{FunctionRole::Invoke, CacheSelector::all_caches(), NameSelector::prefix("")}}));
  // Second entry is bad: the message names it.
  CHECK(contains(both(PermissionScope::of({cache_perm(CacheRole::ReadOnly, CacheSelector::all_caches()),
                                           cache_perm(CacheRole::ReadOnly, CacheSelector::named(""))})),
                 "permission 2:"));

  auto disposable_only = [](ItemSelector item) {
    return expect_invalid([&] {
      validate_scope(PermissionScope::of({cache_perm(CacheRole::ReadOnly, CacheSelector::named("c"), item)}),
                     ScopeUse::DisposableToken);
    });
  };
  CHECK(contains(disposable_only(ItemSelector::key("")), "key"));
  CHECK(contains(disposable_only(ItemSelector::key(" \n ")), "key"));
  CHECK(contains(disposable_only(ItemSelector::key_prefix("")), "prefix"));

  // Unknown enum values.
  both(PermissionScope::of({cache_perm(static_cast<CacheRole>(7), CacheSelector::all_caches())}));
  both(PermissionScope::of({TopicPermission{static_cast<TopicRole>(-1), CacheSelector::all_caches(), NameSelector::all()}}));
  both(PermissionScope::of({FunctionPermission{static_cast<FunctionRole>(2), CacheSelector::all_caches(), NameSelector::all()}}));
  NameSelector weird;
  weird.kind = static_cast<NameSelector::Kind>(9);
  both(PermissionScope::of({TopicPermission{TopicRole::PublishOnly, CacheSelector::all_caches(), weird}}));
  ItemSelector weird_item;
  weird_item.kind = static_cast<ItemSelector::Kind>(9);
  expect_invalid([&] {
    validate_scope(PermissionScope::of({cache_perm(CacheRole::ReadOnly, CacheSelector::all_caches(), weird_item)}),
                   ScopeUse::DisposableToken);
  });

  expect_invalid([] { scope_to_proto(PermissionScope::super_user(), ScopeUse::ApiKey, nullptr); });
}

TEST_CASE("scope_from_proto structural checks (docs/wire.md 9.3 'both')", "[scope][negative]") {
  SECTION("kind unset") {
    pm::Permissions p;
    expect_invalid([&] { scope_from_proto(p); });
  }
  SECTION("explicit with zero entries is left to the caller") {
    pm::Permissions p;
    p.mutable_explicit_();
    PermissionScope s = scope_from_proto(p);
    CHECK_FALSE(s.is_super_user());
    CHECK(s.permissions().empty());
  }
  SECTION("undefined super_user value") {
    pm::Permissions p;
    p.set_super_user(static_cast<pm::SuperUserPermissions>(3));
    expect_invalid([&] { scope_from_proto(p); });
  }
  auto with_entry = [](auto fill) {
    pm::Permissions p;
    fill(p.mutable_explicit_()->add_permissions());
    return p;
  };
  auto bad = [](const pm::Permissions& p) { return expect_invalid([&] { scope_from_proto(p); }); };
  SECTION("entry kind unset") { bad(with_entry([](PT*) {})); }
  SECTION("cache oneof unset") {
    bad(with_entry([](PT* t) { t->mutable_cache_permissions()->set_role(pm::CacheReadOnly); }));
    bad(with_entry([](PT* t) { t->mutable_topic_permissions()->mutable_all_topics(); }));
    bad(with_entry([](PT* t) { t->mutable_function_permissions()->mutable_all_functions(); }));
  }
  SECTION("topic / function oneof unset") {
    bad(with_entry([](PT* t) { t->mutable_topic_permissions()->mutable_all_caches(); }));
    bad(with_entry([](PT* t) { t->mutable_function_permissions()->mutable_all_caches(); }));
  }
  SECTION("selector inner oneof unset or empty") {
    bad(with_entry([](PT* t) { t->mutable_cache_permissions()->mutable_cache_selector(); }));
    bad(with_entry([](PT* t) { t->mutable_cache_permissions()->mutable_cache_selector()->set_cache_name(""); }));
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_cache_permissions();
      c->mutable_all_caches();
      c->mutable_item_selector();
    }));
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_cache_permissions();
      c->mutable_all_caches();
      c->mutable_item_selector()->set_key("");
    }));
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_cache_permissions();
      c->mutable_all_caches();
      c->mutable_item_selector()->set_key_prefix("");
    }));
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_topic_permissions();
      c->mutable_all_caches();
      c->mutable_topic_selector();
    }));
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_topic_permissions();
      c->mutable_all_caches();
      c->mutable_topic_selector()->set_topic_name_prefix("");
    }));
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_function_permissions();
      c->mutable_all_caches();
      c->mutable_function_selector()->set_function_name("");
    }));
  }
  SECTION("undefined roles") {
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_cache_permissions();
      c->set_role(static_cast<pm::CacheRole>(9));
      c->mutable_all_caches();
    }));
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_topic_permissions();
      c->set_role(static_cast<pm::TopicRole>(4));
      c->mutable_all_caches();
      c->mutable_all_topics();
    }));
    bad(with_entry([](PT* t) {
      auto* c = t->mutable_function_permissions();
      c->set_role(static_cast<pm::FunctionRole>(2));
      c->mutable_all_caches();
      c->mutable_all_functions();
    }));
  }
  SECTION("PermitNone entries are valid") {
    pm::Permissions p = with_entry([](PT* t) {
      auto* c = t->mutable_cache_permissions();
      c->mutable_all_caches();
    });
    PermissionScope s = scope_from_proto(p);
    REQUIRE(s.permissions().size() == 1);
    CHECK(std::get<CachePermission>(s.permissions()[0]).role == CacheRole::PermitNone);
  }
  SECTION("more than ten entries are accepted structurally") {
    pm::Permissions p;
    for (int i = 0; i < 12; ++i) {
      auto* c = p.mutable_explicit_()->add_permissions()->mutable_cache_permissions();
      c->set_role(pm::CacheReadOnly);
      c->mutable_all_caches();
    }
    CHECK(scope_from_proto(p).permissions().size() == 12);
  }
}

TEST_CASE("names inside scopes are 1-255 bytes of UTF-8 without control characters", "[scope][negative]") {
  auto cache = [](std::string name) {
    return PermissionScope::of({cache_perm(CacheRole::ReadOnly, CacheSelector::named(std::move(name)))});
  };
  auto topic = [](NameSelector s) {
    return PermissionScope::of({TopicPermission{TopicRole::PublishOnly, CacheSelector::all_caches(), std::move(s)}});
  };
  auto function = [](NameSelector s) {
    return PermissionScope::of({FunctionPermission{FunctionRole::Invoke, CacheSelector::all_caches(), std::move(s)}});
  };
  const std::string max(255, 'n'), over(256, 'n');
  CHECK_NOTHROW(validate_scope(cache(max), ScopeUse::ApiKey));
  CHECK_NOTHROW(validate_scope(topic(NameSelector::named(max)), ScopeUse::ApiKey));
  CHECK_NOTHROW(validate_scope(cache("caf\xc3\xa9"), ScopeUse::ApiKey));
  const std::vector<std::pair<PermissionScope, const char*>> bad = {
      {cache(over), "cache name must be at most 255 bytes"},
      {cache(std::string(1 << 20, 'c')), "cache name must be at most 255 bytes"},
      {cache("a\x1b[2Jb"), "cache name must not contain control characters"},
      {cache("a\xc2\x9b" "b"), "cache name must not contain control characters"},
      {cache("a\xff"), "cache name must be valid UTF-8"},
      {topic(NameSelector::named(over)), "topic name must be at most 255 bytes"},
      {topic(NameSelector::prefix("t\n")), "topic name prefix must not contain control characters"},
      {function(NameSelector::named(over)), "function name must be at most 255 bytes"},
      {function(NameSelector::prefix(over)), "function name prefix must be at most 255 bytes"},
  };
  for (const auto& item : bad) {
    const PermissionScope& scope = item.first;  // not a structured binding: clang 14 cannot capture those
    const char* message = item.second;
    INFO(message);
    CHECK(contains(expect_invalid([&] { validate_scope(scope, ScopeUse::ApiKey); }), message));
    // The decoder (the server's side) applies the same rule to the wire message.
    pm::Permissions p;
    auto entry = scope.permissions()[0];
    // Write the entry unchecked by encoding a valid twin and patching the name in.
    scope_to_proto(cache("x"), ScopeUse::ApiKey, &p);
    std::visit([&](const auto& e) {
      using E = std::decay_t<decltype(e)>;
      auto* t = p.mutable_explicit_()->mutable_permissions(0);
      if constexpr (std::is_same_v<E, CachePermission>) {
        t->mutable_cache_permissions()->mutable_cache_selector()->set_cache_name(e.cache.name);
      } else if constexpr (std::is_same_v<E, TopicPermission>) {
        auto* m = t->mutable_topic_permissions();
        m->set_role(pm::TopicReadWrite);
        m->mutable_all_caches();
        if (e.topic.kind == NameSelector::Kind::Name) m->mutable_topic_selector()->set_topic_name(e.topic.value);
        else m->mutable_topic_selector()->set_topic_name_prefix(e.topic.value);
      } else {
        auto* m = t->mutable_function_permissions();
        m->set_role(pm::FunctionInvoke);
        m->mutable_all_caches();
        if (e.function.kind == NameSelector::Kind::Name) m->mutable_function_selector()->set_function_name(e.function.value);
        else m->mutable_function_selector()->set_function_name_prefix(e.function.value);
      }
    }, entry);
    CHECK(contains(expect_invalid([&] { scope_from_proto(p); }), message));
  }
  // Item keys in disposable-token scopes: at most 64 KiB.
  auto item = [](std::string key) {
    return PermissionScope::of({cache_perm(CacheRole::ReadOnly, CacheSelector::named("c"), ItemSelector::key(std::move(key)))});
  };
  CHECK_NOTHROW(validate_scope(item(std::string(64 * 1024, 'k')), ScopeUse::DisposableToken));
  CHECK(contains(expect_invalid([&] { validate_scope(item(std::string(64 * 1024 + 1, 'k')), ScopeUse::DisposableToken); }),
                 "item key must be at most 64 KiB"));
}

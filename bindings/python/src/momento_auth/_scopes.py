"""Permission scopes for API keys and disposable tokens.

A scope is immutable once built. :class:`PermissionScopes` and :class:`DisposableTokenScopes`
build the common ones; scopes add up with ``+``; the predefined scopes are the constants
:data:`SuperUser`, :data:`AllDataReadWrite` and :data:`AllDataReadOnly`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterable, Optional, Tuple, Type, TypeVar, Union

from . import _native
from ._errors import InvalidArgumentTypeError, invalid_argument

__all__ = [
    "AllCaches",
    "CacheName",
    "AllTopics",
    "TopicName",
    "TopicNamePrefix",
    "AllFunctions",
    "FunctionName",
    "FunctionNamePrefix",
    "AllCacheItems",
    "CacheItemKey",
    "CacheItemKeyPrefix",
    "CacheRole",
    "TopicRole",
    "FunctionRole",
    "CachePermission",
    "TopicPermission",
    "FunctionPermission",
    "DisposableTokenCachePermission",
    "PermissionScope",
    "DisposableTokenScope",
    "PredefinedScope",
    "PermissionScopes",
    "DisposableTokenScopes",
    "SuperUser",
    "AllDataReadWrite",
    "AllDataReadOnly",
]


# ---- selectors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AllCaches:
    """Selects every cache."""


@dataclass(frozen=True)
class CacheName:
    """Selects the cache with this exact name."""

    name: str


@dataclass(frozen=True)
class AllTopics:
    """Selects every topic."""


@dataclass(frozen=True)
class TopicName:
    """Selects the topic with this exact name."""

    name: str


@dataclass(frozen=True)
class TopicNamePrefix:
    """Selects every topic whose name starts with this prefix."""

    prefix: str


@dataclass(frozen=True)
class AllFunctions:
    """Selects every function."""


@dataclass(frozen=True)
class FunctionName:
    """Selects the function with this exact name."""

    name: str


@dataclass(frozen=True)
class FunctionNamePrefix:
    """Selects every function whose name starts with this prefix."""

    prefix: str


@dataclass(frozen=True)
class AllCacheItems:
    """Selects every item of a cache (disposable tokens)."""


@dataclass(frozen=True)
class CacheItemKey:
    """Selects the item with exactly this key (str is encoded as UTF-8)."""

    key: Union[str, bytes]


@dataclass(frozen=True)
class CacheItemKeyPrefix:
    """Selects every item whose key starts with these bytes (str is encoded as UTF-8)."""

    key_prefix: Union[str, bytes]


CacheSelector = Union[AllCaches, CacheName, str, Type[AllCaches]]
TopicSelector = Union[AllTopics, TopicName, TopicNamePrefix, str, Type[AllTopics]]
FunctionSelector = Union[AllFunctions, FunctionName, FunctionNamePrefix, str, Type[AllFunctions]]
ItemSelector = Union[AllCacheItems, CacheItemKey, CacheItemKeyPrefix, Type[AllCacheItems]]


# ---- roles ---------------------------------------------------------------------------------


class CacheRole(Enum):
    """What a cache permission allows."""

    READ_WRITE = "read_write"
    READ_ONLY = "read_only"
    WRITE_ONLY = "write_only"
    PERMIT_NONE = "permit_none"


class TopicRole(Enum):
    """What a topic permission allows."""

    PUBLISH_SUBSCRIBE = "publish_subscribe"
    SUBSCRIBE_ONLY = "subscribe_only"
    PUBLISH_ONLY = "publish_only"
    PERMIT_NONE = "permit_none"


class FunctionRole(Enum):
    """What a function permission allows."""

    INVOKE = "invoke"
    PERMIT_NONE = "permit_none"


# ---- permissions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CachePermission:
    """Grants ``role`` on the selected cache(s)."""

    role: CacheRole
    cache: CacheSelector


@dataclass(frozen=True)
class TopicPermission:
    """Grants ``role`` on the selected topic(s) of the selected cache(s)."""

    role: TopicRole
    cache: CacheSelector
    topic: TopicSelector


@dataclass(frozen=True)
class FunctionPermission:
    """Grants ``role`` on the selected function(s) of the selected cache(s)."""

    role: FunctionRole
    cache: CacheSelector
    function: FunctionSelector


@dataclass(frozen=True)
class DisposableTokenCachePermission:
    """Grants ``role`` on some items of the selected cache(s); disposable tokens only."""

    role: CacheRole
    cache: CacheSelector
    item: ItemSelector


Permission = Union[CachePermission, TopicPermission, FunctionPermission, DisposableTokenCachePermission]


def _cache_name(sel: object) -> Optional[str]:
    if sel is AllCaches or isinstance(sel, AllCaches):
        return None
    if isinstance(sel, CacheName):
        sel = sel.name
    if isinstance(sel, str):
        return sel  # the library checks the name
    raise InvalidArgumentTypeError(f"a cache must be AllCaches, CacheName or str, got {type(sel).__name__}")


def _named(
    sel: object, all_cls: type, name_cls: type, prefix_cls: type, what: str
) -> Tuple[int, Optional[str]]:
    if sel is all_cls or isinstance(sel, all_cls):
        return _native.SELECT_ALL, None
    if isinstance(sel, name_cls):
        sel = sel.name  # type: ignore[attr-defined]
    if isinstance(sel, prefix_cls):
        value, kind = sel.prefix, _native.SELECT_PREFIX  # type: ignore[attr-defined]
    elif isinstance(sel, str):
        value, kind = sel, _native.SELECT_NAME
    else:
        raise InvalidArgumentTypeError(
            f"a {what} must be {all_cls.__name__}, {name_cls.__name__}, {prefix_cls.__name__} "
            f"or str, got {type(sel).__name__}"
        )
    if not isinstance(value, str):
        raise invalid_argument(f"a {what} name or prefix must be a str")
    return kind, value  # the library checks the name


def _item(sel: object) -> Tuple[int, Union[str, bytes, None]]:
    if sel is AllCacheItems or isinstance(sel, AllCacheItems):
        return _native.ITEMS_ALL, None
    if isinstance(sel, CacheItemKey):
        kind, value = _native.ITEMS_KEY, sel.key
    elif isinstance(sel, CacheItemKeyPrefix):
        kind, value = _native.ITEMS_KEY_PREFIX, sel.key_prefix
    else:
        raise InvalidArgumentTypeError(
            "an item must be AllCacheItems, CacheItemKey or CacheItemKeyPrefix, "
            f"got {type(sel).__name__}"
        )
    if not isinstance(value, (str, bytes)):
        raise invalid_argument("an item key or key prefix must be a str or bytes")
    return kind, value  # the library checks the key


# The library's values of the roles, by the names of the members.
_ROLES = {CacheRole: _native.CACHE_ROLES, TopicRole: _native.TOPIC_ROLES, FunctionRole: _native.FUNCTION_ROLES}


def _role(enum: type, role: object, what: str) -> int:
    if isinstance(role, enum):
        return _ROLES[enum][role.name]  # type: ignore[attr-defined]
    raise invalid_argument(f"{what} must be one of {', '.join(_ROLES[enum])}, got {role!r}")


def _add(native: "_native.Scope", p: object) -> None:
    if isinstance(p, CachePermission):
        native.add_cache(_role(CacheRole, p.role, "a cache role"), _cache_name(p.cache))
    elif isinstance(p, TopicPermission):
        kind, topic = _named(p.topic, AllTopics, TopicName, TopicNamePrefix, "topic")
        native.add_topic(_role(TopicRole, p.role, "a topic role"), _cache_name(p.cache), kind, topic)
    elif isinstance(p, FunctionPermission):
        kind, fn = _named(p.function, AllFunctions, FunctionName, FunctionNamePrefix, "function")
        native.add_function(_role(FunctionRole, p.role, "a function role"), _cache_name(p.cache), kind, fn)
    elif isinstance(p, DisposableTokenCachePermission):
        kind, item = _item(p.item)
        native.add_cache_items(_role(CacheRole, p.role, "a cache role"), _cache_name(p.cache), kind, item)
    else:
        raise InvalidArgumentTypeError(f"not a permission: {type(p).__name__}")


# ---- scopes --------------------------------------------------------------------------------

_S = TypeVar("_S", bound="PermissionScope")


class PermissionScope:
    """An explicit list of permissions (at most ten) for an API key.

    Checked when built: a bad selector or role raises :class:`InvalidArgumentError`.
    """

    __slots__ = ("_permissions", "_native", "__weakref__")

    def __init__(self, permissions: Iterable[Permission]) -> None:
        """A scope granting every permission in ``permissions``."""
        if isinstance(permissions, (str, bytes)) or not hasattr(permissions, "__iter__"):
            raise InvalidArgumentTypeError("permissions must be an iterable of permission objects")
        perms = tuple(permissions)
        native = _native.Scope()
        for p in perms:
            _add(native, p)
        self._permissions: Tuple[Permission, ...] = perms
        self._native = native

    @property
    def permissions(self) -> Tuple[Permission, ...]:
        """The permissions, in order."""
        return self._permissions

    def __add__(self: _S, other: "PermissionScope") -> _S:
        if not isinstance(other, PermissionScope):
            return NotImplemented
        cls = DisposableTokenScope if isinstance(other, DisposableTokenScope) else type(self)
        return cls(self._permissions + other._permissions)  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PermissionScope):
            return NotImplemented
        return self._permissions == other._permissions

    def __hash__(self) -> int:
        return hash(self._permissions)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._permissions)!r})"


class DisposableTokenScope(PermissionScope):
    """A scope for a disposable token: like PermissionScope, and may restrict cache items."""

    __slots__ = ()


class PredefinedScope:
    """One of the service's named scopes: SuperUser, AllDataReadWrite, AllDataReadOnly."""

    __slots__ = ("_name", "_native", "__weakref__")

    def __init__(self, name: str, make: "Callable[[], _native.Scope]") -> None:
        """Internal: use the module constants instead."""
        self._name = name
        self._native = make()

    @property
    def name(self) -> str:
        """The scope's name, e.g. ``"AllDataReadWrite"``."""
        return self._name

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self) -> str:
        return self._name


#: Everything, including minting further keys (only a session may grant it).
SuperUser = PredefinedScope("SuperUser", _native.Scope.super_user)
#: Read and write every cache, publish and subscribe every topic, invoke every function.
AllDataReadWrite = PredefinedScope("AllDataReadWrite", _native.Scope.all_data_read_write)
#: Read every cache and subscribe to every topic.
AllDataReadOnly = PredefinedScope("AllDataReadOnly", _native.Scope.all_data_read_only)

AnyScope = Union[PermissionScope, PredefinedScope]


class PermissionScopes:
    """Builders of common API-key scopes."""

    @staticmethod
    def super_user() -> PredefinedScope:
        """The SuperUser scope."""
        return SuperUser

    @staticmethod
    def all_data_read_write() -> PredefinedScope:
        """The AllDataReadWrite scope."""
        return AllDataReadWrite

    @staticmethod
    def all_data_read_only() -> PredefinedScope:
        """The AllDataReadOnly scope."""
        return AllDataReadOnly

    @staticmethod
    def cache_read_write(cache: CacheSelector) -> PermissionScope:
        """Read and write the selected cache(s)."""
        return PermissionScope([CachePermission(CacheRole.READ_WRITE, cache)])

    @staticmethod
    def cache_read_only(cache: CacheSelector) -> PermissionScope:
        """Read the selected cache(s)."""
        return PermissionScope([CachePermission(CacheRole.READ_ONLY, cache)])

    @staticmethod
    def cache_write_only(cache: CacheSelector) -> PermissionScope:
        """Write the selected cache(s)."""
        return PermissionScope([CachePermission(CacheRole.WRITE_ONLY, cache)])

    @staticmethod
    def topic_publish_subscribe(cache: CacheSelector, topic: TopicSelector) -> PermissionScope:
        """Publish and subscribe to the selected topic(s)."""
        return PermissionScope([TopicPermission(TopicRole.PUBLISH_SUBSCRIBE, cache, topic)])

    @staticmethod
    def topic_subscribe_only(cache: CacheSelector, topic: TopicSelector) -> PermissionScope:
        """Subscribe to the selected topic(s)."""
        return PermissionScope([TopicPermission(TopicRole.SUBSCRIBE_ONLY, cache, topic)])

    @staticmethod
    def topic_publish_only(cache: CacheSelector, topic: TopicSelector) -> PermissionScope:
        """Publish to the selected topic(s)."""
        return PermissionScope([TopicPermission(TopicRole.PUBLISH_ONLY, cache, topic)])

    @staticmethod
    def function_invoke(cache: CacheSelector, function: FunctionSelector) -> PermissionScope:
        """Invoke the selected function(s)."""
        return PermissionScope([FunctionPermission(FunctionRole.INVOKE, cache, function)])


def _items(role: CacheRole, cache: CacheSelector, item: ItemSelector) -> DisposableTokenScope:
    return DisposableTokenScope([DisposableTokenCachePermission(role, cache, item)])


class DisposableTokenScopes:
    """Builders of common disposable-token scopes, down to single cache items."""

    @staticmethod
    def cache_key_read_write(cache: CacheSelector, key: Union[str, bytes]) -> DisposableTokenScope:
        """Read and write one item."""
        return _items(CacheRole.READ_WRITE, cache, CacheItemKey(key))

    @staticmethod
    def cache_key_read_only(cache: CacheSelector, key: Union[str, bytes]) -> DisposableTokenScope:
        """Read one item."""
        return _items(CacheRole.READ_ONLY, cache, CacheItemKey(key))

    @staticmethod
    def cache_key_write_only(cache: CacheSelector, key: Union[str, bytes]) -> DisposableTokenScope:
        """Write one item."""
        return _items(CacheRole.WRITE_ONLY, cache, CacheItemKey(key))

    @staticmethod
    def cache_key_prefix_read_write(
        cache: CacheSelector, key_prefix: Union[str, bytes]
    ) -> DisposableTokenScope:
        """Read and write the items whose keys start with ``key_prefix``."""
        return _items(CacheRole.READ_WRITE, cache, CacheItemKeyPrefix(key_prefix))

    @staticmethod
    def cache_key_prefix_read_only(
        cache: CacheSelector, key_prefix: Union[str, bytes]
    ) -> DisposableTokenScope:
        """Read the items whose keys start with ``key_prefix``."""
        return _items(CacheRole.READ_ONLY, cache, CacheItemKeyPrefix(key_prefix))

    @staticmethod
    def cache_key_prefix_write_only(
        cache: CacheSelector, key_prefix: Union[str, bytes]
    ) -> DisposableTokenScope:
        """Write the items whose keys start with ``key_prefix``."""
        return _items(CacheRole.WRITE_ONLY, cache, CacheItemKeyPrefix(key_prefix))

    @staticmethod
    def cache_read_write(cache: CacheSelector) -> DisposableTokenScope:
        """Read and write every item of the selected cache(s)."""
        return DisposableTokenScope([CachePermission(CacheRole.READ_WRITE, cache)])

    @staticmethod
    def cache_read_only(cache: CacheSelector) -> DisposableTokenScope:
        """Read every item of the selected cache(s)."""
        return DisposableTokenScope([CachePermission(CacheRole.READ_ONLY, cache)])

    @staticmethod
    def cache_write_only(cache: CacheSelector) -> DisposableTokenScope:
        """Write every item of the selected cache(s)."""
        return DisposableTokenScope([CachePermission(CacheRole.WRITE_ONLY, cache)])

    @staticmethod
    def topic_publish_subscribe(cache: CacheSelector, topic: TopicSelector) -> DisposableTokenScope:
        """Publish and subscribe to the selected topic(s)."""
        return DisposableTokenScope([TopicPermission(TopicRole.PUBLISH_SUBSCRIBE, cache, topic)])

    @staticmethod
    def topic_subscribe_only(cache: CacheSelector, topic: TopicSelector) -> DisposableTokenScope:
        """Subscribe to the selected topic(s)."""
        return DisposableTokenScope([TopicPermission(TopicRole.SUBSCRIBE_ONLY, cache, topic)])

    @staticmethod
    def topic_publish_only(cache: CacheSelector, topic: TopicSelector) -> DisposableTokenScope:
        """Publish to the selected topic(s)."""
        return DisposableTokenScope([TopicPermission(TopicRole.PUBLISH_ONLY, cache, topic)])

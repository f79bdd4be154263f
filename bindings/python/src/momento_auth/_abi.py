"""Loads the native layer and checks that it matches libmomento_auth."""

from __future__ import annotations

from types import ModuleType


def check(loaded_abi: int, expected_abi: int, library_version: str) -> None:
    """Raises ImportError unless the loaded library's ABI is the one this package was built for."""
    if loaded_abi != expected_abi:
        raise ImportError(
            f"momento_auth was built for libmomento_auth ABI {expected_abi}, but the loaded "
            f"libmomento_auth {library_version} has ABI {loaded_abi}. Reinstall momento-auth so "
            "that the package and its library match (a wheel carries its own copy)."
        )


def load() -> ModuleType:
    """Imports momento_auth._native, checks the ABI and wires the errors."""
    try:
        from . import _native
    except ImportError as e:
        raise ImportError(
            "momento_auth could not load its native part (_native and libmomento_auth.so.1): "
            f"{e}. Install the momento-auth wheel for this platform and Python version."
        ) from e
    check(_native.abi_version(), _native.HEADER_ABI_VERSION, _native.library_version())
    from ._errors import make_error

    _native.set_error_factory(make_error)
    return _native

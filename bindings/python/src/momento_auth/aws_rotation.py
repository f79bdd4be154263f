"""AWS Secrets Manager rotation for Momento API keys, as a Lambda function.

Deploy with ``momento_auth.aws_rotation.handler`` as the handler (packaging/aws/rotation.yaml,
docs/aws-rotation.md). It answers the two kinds of event a Momento key rotation sees:

* Secrets Manager's rotation events ``{"SecretId", "ClientRequestToken", "Step"}`` with the
  four steps ``createSecret``, ``setSecret``, ``testSecret`` and ``finishSecret``;
* a manual or scheduled invocation, as Momento's own refresh function takes it:
  ``{"momento_auth_token_secret_name": "name[,name...]"}``, or any other event, which rotates
  the comma-separated secret names in ``MOMENTO_AUTH_TOKEN_SECRET_NAME`` (default
  ``momento/authentication-token``) by running the four steps here, in order.

The secret keeps the shape Momento's refresh function and console use: a JSON object with
``authToken`` (or ``apiKey``/``apiToken``), ``refreshToken`` and ``validUntil`` (epoch seconds, a
number or a decimal string). The new value is written with the same member names and the same
type of ``validUntil``; other members are kept. The library reads and writes it, as its
Secrets Manager store does, and its refresh policy decides which failures were refused and when a
lost answer may be replayed.

Why it cannot lose the only valid key:

* The new key lives in the ``AWSPENDING`` version (version id = the ClientRequestToken) until
  ``testSecret`` has checked it; readers keep ``AWSCURRENT``, whose key stays valid until it
  expires (a Momento refresh does not revoke the old key).
* Before the refresh call, ``createSecret`` writes a journal version (staging label
  ``MOMENTO_REFRESH_JOURNAL``, no secrets in it) naming the key being refreshed and when. A
  retry after a lost answer or a crash finds it and sends the same refresh token again while
  the server's replay window is open (the server answers a replay with the same key); after
  that it refuses, because sending a used refresh token again would revoke the key's family.
  A refreshed key left in the pending version of an unfinished rotation is carried over to the
  next rotation instead of refreshing again.
* Every step checks what is already done first, so Secrets Manager may repeat any of them.

Environment: ``MOMENTO_AUTH_TOKEN_SECRET_NAME`` (names, comma-separated),
``MOMENTO_AUTH_ENDPOINT`` (``host:port`` for every Momento request instead of the key's own
endpoints, e.g. a local momento-auth-server), ``MOMENTO_AUTH_INSECURE=1`` (plaintext to that
endpoint; tests only), ``MOMENTO_AUTH_TIMEOUT_SECONDS`` (each refresh call; 15 by default).
boto3 (present in the Lambda runtime) talks to Secrets Manager.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _native
from ._client import AuthClient
from ._credentials import CredentialProvider
from ._expiry import ExpiresIn
from ._scopes import DisposableTokenScopes
from ._errors import MomentoError, PermissionDeniedError

__all__ = ["handler", "Rotation", "RotationError", "DEFAULT_SECRET_NAME", "JOURNAL_STAGE"]

log = logging.getLogger("momento_auth.aws_rotation")

#: The secret name Momento's refresh function uses when none is configured.
DEFAULT_SECRET_NAME = "momento/authentication-token"
#: Staging label of the journal version written before each refresh call.
JOURNAL_STAGE = "MOMENTO_REFRESH_JOURNAL"
CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
# Version ids of journal entries: a name-based UUID of the rotation token and the old key.
_JOURNAL_NS = uuid.UUID("6f1c9a52-4a3e-4a8e-9d3c-2b1f6e0a7c45")


class RotationError(Exception):
    """A rotation step cannot go on; the message names the secret and never holds a secret."""


def _parse(text: Optional[str], what: str) -> Tuple[Any, Any]:
    """(shape, key): the secret's JSON shape and its key as native objects, read by the library."""
    if text is None:
        raise RotationError(f"{what} has no SecretString")
    try:
        return _native.TokenJson.parse(text)
    except MomentoError as e:
        raise RotationError(f"{what}: {e}") from None


def _fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class Rotation:
    """The four rotation steps over one Secrets Manager client.

    Args:
        secrets_manager: a boto3 ``secretsmanager`` client.
        endpoint: ``host:port`` for Momento requests instead of the key's endpoints.
        secure: False for plaintext to ``endpoint`` (tests).
        timeout: seconds per refresh call; None for the library's default.
        clock: returns epoch seconds (tests).
    """

    def __init__(self, secrets_manager: Any, *, endpoint: Optional[str] = None, secure: bool = True,
                 timeout: Optional[float] = None, clock: Callable[[], float] = time.time) -> None:
        self.sm = secrets_manager
        self.endpoint = endpoint
        self.secure = secure
        self.timeout = timeout
        self.clock = clock

    # ---- Secrets Manager helpers ----

    def _stages(self, arn: str) -> Dict[str, List[str]]:
        return self.sm.describe_secret(SecretId=arn).get("VersionIdsToStages", {})

    def _get(self, arn: str, **which: str) -> Optional[Dict[str, Any]]:
        try:
            return self.sm.get_secret_value(SecretId=arn, **which)
        except self.sm.exceptions.ResourceNotFoundException:
            return None

    def _check_token(self, arn: str, token: str, step: str) -> bool:
        """False when the rotation `token` already finished; raises when it is not one."""
        stages = self._stages(arn).get(token)
        if stages is not None and CURRENT in stages:
            log.info("%s %s: version %s is already AWSCURRENT", step, arn, token)
            return False
        if stages is not None and PENDING not in stages:
            raise RotationError(f"{step} {arn}: version {token} is not AWSPENDING")
        if stages is None and step != "createSecret":
            raise RotationError(f"{step} {arn}: no version {token} to rotate to")
        return True

    def _pending(self, arn: str, token: str) -> Any:
        """The key in version `token` (a native Token), or None."""
        got = self._get(arn, VersionId=token)
        if got is None or got.get("SecretString") is None:
            return None  # Secrets Manager's placeholder for a rotation not yet created
        return _parse(got["SecretString"], f"secret {arn} version {token}")[1]

    # ---- the four steps ----

    def create_secret(self, arn: str, token: str) -> None:
        """Refreshes the AWSCURRENT key into version `token` with stage AWSPENDING."""
        if not self._check_token(arn, token, "createSecret") or self._pending(arn, token):
            return
        cur = self._get(arn, VersionStage=CURRENT)
        if cur is None:
            raise RotationError(f"createSecret {arn}: the secret has no AWSCURRENT value")
        shape, current = _parse(cur.get("SecretString"), f"secret {arn}")
        if not current.refresh_token or current.valid_until == 0:
            raise RotationError(f"createSecret {arn}: the key has no refresh token or never expires")

        journal = self._journal(arn)
        started = self.clock()
        replay = False
        if journal and journal.get("keyFingerprint") == _fingerprint(current.api_key):
            carried = self._pending(arn, journal.get("rotation", "")) if journal.get("rotation") != token else None
            if carried is not None and carried.api_key != current.api_key:
                log.info("createSecret %s: carrying over the key refreshed by rotation %s",
                         arn, journal.get("rotation"))
                self._put_pending(arn, token, shape, carried)
                return
            # This key's refresh was sent before and its answer never stored.
            started = float(journal.get("startedAt", 0))
            replay = True
            if _native.replay_delay_ms(1, _ms(started), _ms(self.clock())) is None:
                raise RotationError(
                    f"createSecret {arn}: a refresh of the current key was sent at {int(started)} and its "
                    "answer was lost; the server's replay window has passed, and sending its refresh "
                    "token again would revoke the key's family. The current key stays in service "
                    "until it expires; store a new key in the secret to recover.")
        else:
            self._write_journal(arn, token, current, started)

        self._put_pending(arn, token, shape, self._refresh(arn, current, started, replay))

    def set_secret(self, arn: str, token: str) -> None:
        """Nothing to set: the refresh already made the new key live at Momento."""
        if self._check_token(arn, token, "setSecret") and self._pending(arn, token) is None:
            raise RotationError(f"setSecret {arn}: version {token} holds no key yet")

    def test_secret(self, arn: str, token: str) -> None:
        """Checks the pending key: it parses, has a refresh token, expires later than now and no
        earlier than the current key, and Momento accepts it in a real call."""
        if not self._check_token(arn, token, "testSecret"):
            return
        pending = self._pending(arn, token)
        if pending is None:
            raise RotationError(f"testSecret {arn}: version {token} holds no key")
        CredentialProvider.from_string(pending.api_key)  # raises (redacted) when it is no key
        cur = self._get(arn, VersionStage=CURRENT)
        current = _parse(cur.get("SecretString") if cur else None, f"secret {arn}")[1]
        now = self.clock()
        if not pending.refresh_token:
            raise RotationError(f"testSecret {arn}: the new key has no refresh token")
        if pending.valid_until != 0 and (pending.valid_until <= now or pending.valid_until < current.valid_until):
            raise RotationError(f"testSecret {arn}: the new key expires at {pending.valid_until}, "
                                f"before the current key ({current.valid_until}) or now")
        self._check_accepted(arn, pending.api_key)

    def _check_accepted(self, arn: str, api_key: str) -> None:
        """An authenticated call with the key: a one-minute disposable token for one cache item,
        never used or kept. PermissionDeniedError (only super-user keys mint these) still proves
        Momento authenticated the key; anything else fails the step, and Secrets Manager retries it."""
        provider = CredentialProvider.from_string(api_key, endpoint=self.endpoint, secure=self.secure)
        with AuthClient(provider, timeout=self.timeout, interruptible=False) as client:
            try:
                client.generate_disposable_token(
                    DisposableTokenScopes.cache_key_read_only("momento-auth-rotation-test", "testSecret"),
                    ExpiresIn.minutes(1))
            except PermissionDeniedError:
                pass
            except MomentoError as e:
                raise RotationError(f"testSecret {arn}: Momento did not accept the new key: {e}") from None

    def finish_secret(self, arn: str, token: str) -> None:
        """Moves AWSCURRENT to version `token` (the old one becomes AWSPREVIOUS)."""
        stages = self._stages(arn)
        if token not in stages:
            raise RotationError(f"finishSecret {arn}: no version {token}")
        current = next((v for v, s in stages.items() if CURRENT in s), None)
        if current != token:
            self.sm.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token,
                                                RemoveFromVersionId=current)
            log.info("finishSecret %s: version %s is AWSCURRENT", arn, token)
        if PENDING in stages.get(token, []):
            self.sm.update_secret_version_stage(SecretId=arn, VersionStage=PENDING, RemoveFromVersionId=token)

    def step(self, step: str, arn: str, token: str) -> None:
        steps = {"createSecret": self.create_secret, "setSecret": self.set_secret,
                 "testSecret": self.test_secret, "finishSecret": self.finish_secret}
        if step not in steps:
            raise RotationError(f"unknown rotation step {step!r}")
        steps[step](arn, token)

    def rotate(self, secret: str) -> str:
        """All four steps here, for a manual or scheduled rotation; returns the new version id.
        An unfinished rotation (an AWSPENDING version that is not AWSCURRENT) is resumed."""
        stages = self._stages(secret)
        token = next((v for v, s in stages.items() if PENDING in s and CURRENT not in s), None)
        token = token or str(uuid.uuid4())
        for name in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            self.step(name, secret, token)
        return token

    # ---- the refresh and its journal ----

    def _journal(self, arn: str) -> Optional[Dict[str, Any]]:
        got = self._get(arn, VersionStage=JOURNAL_STAGE)
        try:
            j = json.loads(got["SecretString"]) if got else None
        except (TypeError, ValueError):
            return None
        entry = j.get("momentoRefreshJournal") if isinstance(j, dict) else None
        return entry if isinstance(entry, dict) else None

    def _write_journal(self, arn: str, token: str, current: Any, started: float) -> None:
        fingerprint = _fingerprint(current.api_key)
        entry = {"momentoRefreshJournal": {"rotation": token, "keyFingerprint": fingerprint,
                                           "startedAt": started}}
        vid = str(uuid.uuid5(_JOURNAL_NS, f"{token}/{fingerprint}"))
        try:
            self.sm.put_secret_value(SecretId=arn, ClientRequestToken=vid, SecretString=json.dumps(entry),
                                     VersionStages=[JOURNAL_STAGE])
        except self.sm.exceptions.ResourceExistsException:
            pass  # written by an earlier try of this very step

    def _refresh(self, arn: str, current: Any, started: float, replay: bool) -> Any:
        """The refreshed key (a native Token). A failure the server may have committed is replayed
        with the same refresh token, as the library's policy times it, while its window is open."""
        provider = CredentialProvider.from_string(current.api_key, endpoint=self.endpoint, secure=self.secure)
        failures = 0
        with AuthClient(provider, timeout=self.timeout, interruptible=False) as client:
            while True:
                try:
                    fresh = client.refresh_api_key(current.refresh_token)._token
                    log.info("createSecret %s: refreshed%s; new key expires at %d", arn,
                             " (replayed a lost answer)" if replay else "", fresh.valid_until)
                    return fresh
                except MomentoError as e:
                    if _native.failure_is_definite(e.code):
                        raise RotationError(f"createSecret {arn}: the refresh was refused: {e}") from None
                    failures += 1
                    delay = _native.replay_delay_ms(failures, _ms(started), _ms(self.clock()))
                    if delay is None:
                        raise RotationError(f"createSecret {arn}: refresh failed: {e}; a retry of this "
                                            "step replays it while the server's window is open") from None
                    log.warning("createSecret %s: refresh failed (%s); replaying in %.1f s", arn,
                                type(e).__name__, delay / 1000)
                    time.sleep(delay / 1000)
                    replay = True

    def _put_pending(self, arn: str, token: str, shape: Any, key: Any) -> None:
        self.sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=shape.render(key),
                                 VersionStages=[PENDING])


def _names(value: str) -> List[str]:
    return [n.strip() for n in value.split(",") if n.strip()]


def _from_environment() -> Tuple[Rotation, List[str]]:
    import boto3  # present in the Lambda runtime; not a dependency of momento_auth

    env = os.environ
    rotation = Rotation(
        # Lambda sets AWS_REGION (and AWS_DEFAULT_REGION); older botocore reads only the latter.
        boto3.client("secretsmanager", region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")),
        endpoint=env.get("MOMENTO_AUTH_ENDPOINT") or None,
        secure=env.get("MOMENTO_AUTH_INSECURE", "") not in ("1", "true", "yes"),
        timeout=float(env["MOMENTO_AUTH_TIMEOUT_SECONDS"]) if env.get("MOMENTO_AUTH_TIMEOUT_SECONDS") else None,
    )
    return rotation, _names(env.get("MOMENTO_AUTH_TOKEN_SECRET_NAME") or DEFAULT_SECRET_NAME)


def handler(event: Dict[str, Any], context: Any = None) -> Dict[str, Any]:
    """The Lambda entry point (see the module documentation)."""
    rotation, names = _from_environment()
    if isinstance(event, dict) and {"SecretId", "ClientRequestToken", "Step"} <= event.keys():
        rotation.step(event["Step"], event["SecretId"], event["ClientRequestToken"])
        return {"secret": event["SecretId"], "step": event["Step"]}
    if isinstance(event, dict) and isinstance(event.get("momento_auth_token_secret_name"), str):
        names = _names(event["momento_auth_token_secret_name"])
    rotated, failed = {}, {}
    for name in names:
        try:
            rotated[name] = rotation.rotate(name)
        except Exception as e:  # one secret's failure does not stop the others
            log.error("rotation of %s failed: %s", name, e)
            failed[name] = str(e)
    if failed:
        raise RotationError("rotation failed for " + ", ".join(sorted(failed)))
    return {"rotated": rotated}

"""Operator authentication: verify an EdDSA-signed JWT and hand routes its role × jurisdiction claims."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from xueji_contracts.auth import OperatorClaims, Role, SubscriberClaims, province_of

Claims = TypeVar("Claims", OperatorClaims, SubscriberClaims)
D = TypeVar("D", bound=Mapping[str, Any])  # a stored document
_bearer = HTTPBearer(auto_error=False, description="operator token: `make token ROLE=county CODE=350602`")


class TokenVerifier:
    """Checks a token's signature, issuer, audience and expiry, then that it is one for this deployment: `serves` is
    the province it serves ("35"), "" for the national tier, None for no such check (the development issuer)."""

    def __init__(self, public_key: str, issuer: str, audience: str, *, serves: str | None = None) -> None:
        self._key = public_key
        self._issuer = issuer
        self._audience = audience
        self._serves = serves

    def verify(self, token: str) -> OperatorClaims:
        operator = self._claims(token, OperatorClaims)
        # R50: the Ministry handles deletions and inter-provincial coordination, so it acts in every deployment;
        # every other level acts in its own province's deployment only.
        if self._serves is None or operator.role is Role.MINISTRY:
            return operator
        province = province_of(operator.code)  # "" for the nation
        if province != self._serves:
            raise _unauthorized(f"code: token for {_named(province)}; {self._served()}")
        return operator

    def verify_subscriber(self, token: str) -> SubscriberClaims:
        """Another system's token (R52): signed like an operator's, naming the subscriber instead of a role; one that
        names a province is for that province's deployment only."""
        subscriber = self._claims(token, SubscriberClaims)
        if self._serves is not None and subscriber.province is not None and subscriber.province != self._serves:
            raise _unauthorized(f"province: token for {_named(subscriber.province)}; {self._served()}")
        return subscriber

    def _served(self) -> str:
        if self._serves == "":
            return "this deployment serves the nation: only the Ministry's operators act here"
        return f"this deployment serves {self._serves}"

    def subject(self, token: str) -> str | None:
        """Who signed a valid token (operator or subscriber), or None: the caller an Idempotency-Key belongs to."""
        if not self._key:
            return None
        try:
            return str(self._decode(token)["sub"])
        except jwt.InvalidTokenError:
            return None

    def _decode(self, token: str) -> dict[str, Any]:
        raw: dict[str, Any] = jwt.decode(
            token,
            self._key,
            algorithms=["EdDSA"],
            issuer=self._issuer,
            audience=self._audience,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        return raw

    def _claims(self, token: str, claims: type[Claims]) -> Claims:
        if not self._key:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no token verification key is configured")
        try:
            return claims.model_validate(self._decode(token))
        except jwt.ExpiredSignatureError:
            raise _unauthorized("token expired") from None
        except jwt.InvalidTokenError as exc:
            raise _unauthorized(f"invalid token: {exc}") from None
        except ValidationError as exc:
            raise _unauthorized(f"invalid claims: {_claim_problem(exc)}") from None


def _named(province: str) -> str:
    return "the nation" if province in ("", "00") else f"province {province}"


def _claim_problem(exc: ValidationError) -> str:
    """Which claim is wrong and why (`code: Field required`, a token issued with no jurisdiction), without its value."""
    error = exc.errors()[0]
    claim = ".".join(str(part) for part in error.get("loc", ()))
    reason = str(error["msg"]).removeprefix("Value error, ")
    return reason if not claim or reason.startswith(f"{claim}:") else f"{claim}: {reason}"


def message_operator(verifier: TokenVerifier, headers: Mapping[str, Any]) -> OperatorClaims:
    """The operator who signed a message: its `authorization: Bearer <token>` Kafka header, verified like an HTTP
    request's. ValueError naming the header otherwise, so the message is dead-lettered rather than retried."""
    raw = headers.get("authorization")
    value = raw.decode() if isinstance(raw, bytes) else raw
    if not value or not str(value).startswith("Bearer "):
        raise ValueError("authorization: a decision message carries its operator's token as `Bearer <token>`")
    try:
        return verifier.verify(str(value).removeprefix("Bearer ").strip())
    except HTTPException as exc:
        raise ValueError(f"authorization: {exc.detail}") from None


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]  # the request's bearer token, if any


def _presented(request: Request, credentials: HTTPAuthorizationCredentials | None) -> tuple[TokenVerifier, str]:
    """The app's verifier and the bearer token the request presents (401 without one)."""
    if credentials is None:
        raise _unauthorized("missing bearer token")
    return request.app.state.token_verifier, credentials.credentials


def current_operator(request: Request, credentials: Bearer) -> OperatorClaims:
    verifier, token = _presented(request, credentials)
    return verifier.verify(token)


Operator = Annotated[OperatorClaims, Depends(current_operator)]


def current_subscriber(request: Request, credentials: Bearer) -> SubscriberClaims:
    verifier, token = _presented(request, credentials)
    return verifier.verify_subscriber(token)


Subscriber = Annotated[SubscriberClaims, Depends(current_subscriber)]


def require_jurisdiction(operator: OperatorClaims, code: str, *, at_least: Role = Role.SCHOOL) -> None:
    """403 unless the operator's level is high enough and `code` lies in their jurisdiction (R50)."""
    if not operator.at_least(at_least):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {operator.role} may not do this; needs {at_least}")
    if not operator.covers(code):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"{code} is outside the jurisdiction {operator.code} of this operator"
        )


def found_in_jurisdiction(
    operator: OperatorClaims, doc: D | None, code: str, missing: str, *, at_least: Role = Role.SCHOOL
) -> D:
    """`doc`, whose jurisdiction is `doc[code]`, for an operator it concerns: 404 `missing` when there is none or it
    lies outside the operator's jurisdiction (what a missing one answers: R50 tells nothing of others' records), 403
    when the operator's level is below `at_least`."""
    if doc is None or not operator.covers(doc[code]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    require_jurisdiction(operator, doc[code], at_least=at_least)
    return doc


def mint_token(
    private_key: str,
    claims: OperatorClaims | SubscriberClaims,
    *,
    issuer: str = "xueji",
    audience: str = "xueji",
    ttl: timedelta = timedelta(hours=12),
    now: datetime | None = None,
) -> str:
    """Sign a token for local development and tests; production tokens come from the identity provider."""
    issued = now or datetime.now(UTC)
    body = {
        **claims.model_dump(mode="json", exclude_none=True),
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(body, private_key, algorithm="EdDSA")

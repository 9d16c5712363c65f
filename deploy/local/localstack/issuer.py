"""The local stack's development token issuer (`make run` only; a province's identity provider does this).

The workbench keeps an operator signed in for a working day by asking, before its token runs out, for a fresh one:
POST /refresh with the still-valid token in the Authorization header answers a new token for the same operator
(same sub, role and code, a new expiry). An expired or forged token gets 401. Tokens travel only in headers and
bodies, never in an address, and nothing here logs them. Sign-in links carry a one-time code instead of a token:
POST /exchange {"code": ...} answers the code's token once, then the code is spent.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, Field

from xueji_contracts.auth import OperatorClaims
from xueji_kit.security import TokenVerifier, mint_token

WORKING_DAY = timedelta(hours=12)


class Exchange(BaseModel):
    code: str = Field(min_length=16, max_length=128)


def create_issuer(private_key: str, public_key: str, origins: list[str], ttl: timedelta = WORKING_DAY) -> FastAPI:
    app = FastAPI(title="xueji development token issuer", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["POST"],
                       allow_headers=["Authorization", "Content-Type"], allow_credentials=False)  # fmt: skip
    verifier = TokenVerifier(public_key, "xueji", "xueji")
    codes: dict[str, OperatorClaims] = {}

    def fresh(claims: OperatorClaims) -> dict[str, Any]:
        return {"token": mint_token(private_key, claims, ttl=ttl), "expires_in": int(ttl.total_seconds())}

    @app.post("/refresh")
    async def refresh(request: Request) -> dict[str, Any]:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise HTTPException(401, "send the token to refresh as `Authorization: Bearer <token>`")
        claims = verifier.verify(header.removeprefix("Bearer "))  # 401 once expired: sign in again
        return fresh(claims)

    @app.post("/exchange")
    async def exchange(body: Exchange) -> dict[str, Any]:
        claims = codes.pop(body.code, None)
        if claims is None:
            raise HTTPException(401, "this sign-in code was used already or never issued: ask for a new link")
        return fresh(claims)

    def sign_in_code(role: str, code: str, sub: str = "dev-operator") -> str:
        """A one-time code a sign-in link carries instead of a token."""
        once = secrets.token_urlsafe(24)
        codes[once] = OperatorClaims.model_validate({"sub": sub, "role": role, "code": code})
        return once

    app.state.sign_in_code = sign_in_code
    return app


def serve_in_thread(app: FastAPI, port: int) -> Any:
    """Run the issuer beside the stack's supervisor (the process that prints the sign-in links holds the codes)."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    threading.Thread(target=server.run, name="token-issuer", daemon=True).start()
    return server

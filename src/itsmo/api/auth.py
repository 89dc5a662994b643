"""API authentication: personal bearer tokens, or the browser session (with CSRF)."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from itsmo.accounts.services import authenticate_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class ActiveSession(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


AUTH = [BearerToken(), ActiveSession()]

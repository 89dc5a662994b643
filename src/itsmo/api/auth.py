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
    """The browser session of an active user; its unsafe requests need the CSRF token."""

    def _get_key(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            # No signed-in session, so nothing for CSRF to protect: answer 401, not a
            # misleading 403 "CSRF check failed" (e.g. a revoked token on a POST).
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


AUTH = [BearerToken(), ActiveSession()]

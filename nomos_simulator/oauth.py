"""The OAuth server: hosted sign-in pages, the token endpoint, server metadata."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from . import pages, token_faults
from .state import (
    CODE_LIFETIME,
    REGISTERED_REDIRECTS,
    AuthCode,
    Client,
    Login,
    SimulatorState,
    _code_for,
    _html,
)


def _language(request: web.Request) -> str:
    """Return the language of the browser that asks (German or English)."""
    return pages.language_of(request.headers.get("Accept-Language", ""))


class OAuthRoutes(SimulatorState):
    """The OAuth server: hosted sign-in pages, the token endpoint, server metadata."""

    async def _well_known(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.json_response(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "response_types_supported": ["code"],
                "grant_types_supported": [
                    "authorization_code",
                    "client_credentials",
                    "refresh_token",
                ],
                "code_challenge_methods_supported": ["S256", "plain"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "scopes_supported": ["read", "write"],
            }
        )

    @staticmethod
    def _redirect_allowed(uri: str) -> bool:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        if parts.hostname in ("localhost", "127.0.0.1", "::1"):
            return True
        return any(uri.startswith(origin) for origin in REGISTERED_REDIRECTS)

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        client = self.clients.get(query.get("client_id", ""))
        if client is None or "authorization_code" not in client.grants:
            return _html(
                pages.error_page("Unknown client_id: this app is not registered with Nomos."), 400
            )
        redirect_uri = query.get("redirect_uri", "")
        if not self._redirect_allowed(redirect_uri):
            return _html(pages.error_page("The redirect_uri is not registered for this app."), 400)
        if query.get("response_type") != "code":
            return _html(pages.error_page("response_type must be 'code'."), 400)
        method = query.get("code_challenge_method", "plain" if query.get("code_challenge") else "")
        if query.get("code_challenge") and method not in ("S256", "plain"):
            return _html(pages.error_page("code_challenge_method must be S256 or plain."), 400)
        login_id = secrets.token_urlsafe(16)
        self.logins[login_id] = Login(
            client, redirect_uri, query.get("state"), query.get("code_challenge"), method
        )
        return _html(pages.email_page(login_id, language=_language(request)))

    async def _login(self, request: web.Request) -> tuple[Login, str, Any]:
        form = await request.post()
        login_id = str(form.get("login", ""))
        login = self.logins.get(login_id)
        if login is None:
            raise web.HTTPBadRequest(
                text=pages.error_page("This sign-in has expired. Start again from Home Assistant."),
                content_type="text/html",
            )
        return login, login_id, form

    async def _authorize_email(self, request: web.Request) -> web.Response:
        login, login_id, form = await self._login(request)
        language = _language(request)
        customer = self.customer_by_email(str(form.get("email", "")))
        if customer is None:
            return _html(pages.email_page(login_id, pages.TEXTS[language]["no_contract"], language))
        login.customer = customer
        login.otp = f"{secrets.randbelow(10**6):06d}"
        return _html(pages.code_page(login_id, customer.email, login.otp, language=language))

    async def _authorize_verify(self, request: web.Request) -> web.Response:
        login, login_id, form = await self._login(request)
        language = _language(request)
        if login.customer is None or login.otp is None:
            return _html(pages.email_page(login_id, language=language))
        if str(form.get("otp", "")).strip() != login.otp:
            return _html(
                pages.code_page(
                    login_id,
                    login.customer.email,
                    login.otp,
                    pages.TEXTS[language]["wrong_code"],
                    language,
                )
            )
        login.verified = True
        customer_name = f"{login.customer.first_name} {login.customer.last_name}"
        return _html(pages.consent_page(login_id, login.client.name, customer_name, language))

    async def _authorize_consent(self, request: web.Request) -> web.Response:
        login, login_id, form = await self._login(request)
        if not login.verified or login.customer is None:
            return _html(pages.email_page(login_id, language=_language(request)))
        del self.logins[login_id]
        params: dict[str, str] = {}
        if form.get("decision") == "approve":
            code = secrets.token_urlsafe(24)
            self.codes[code] = AuthCode(
                login.client.client_id,
                login.customer.id,
                login.redirect_uri,
                login.challenge,
                login.method,
                self.clock.now() + CODE_LIFETIME,
            )
            params["code"] = code
        else:
            params["error"] = "access_denied"
            params["error_description"] = "The customer denied access."
        if login.state is not None:
            params["state"] = login.state
        separator = "&" if "?" in login.redirect_uri else "?"
        raise web.HTTPFound(login.redirect_uri + separator + urlencode(params))

    def _client_from_basic(self, request: web.Request) -> Client | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            return None
        return client

    def _token_error(self, status: int, oauth_error: str, message: str) -> web.Response:
        return self.error(
            status,
            _code_for(status),
            message,
            error=oauth_error,
            error_description=message,
        )

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            try:
                raw = await request.json()
            except ValueError:
                return self._token_error(400, "invalid_request", "Malformed JSON body")
            body = {str(key): str(value) for key, value in raw.items()}
        else:
            body = {key: str(value) for key, value in (await request.post()).items()}
        self.token_requests.append(
            {
                "grant_type": body.get("grant_type"),
                "basic_auth": request.headers.get("Authorization", "").startswith("Basic "),
                "body_keys": sorted(body),
                "body": dict(body),
            }
        )
        client = self._client_from_basic(request)
        if client is None:
            return self._token_error(401, "invalid_client", "Client authentication failed")
        # As strict as the spec: a client authenticated with Basic sends
        # neither its id nor its secret in the body.
        if "client_secret" in body or "client_id" in body:
            return self._token_error(
                400, "invalid_request", "Send the client credentials with HTTP Basic only"
            )
        grant = body.get("grant_type")
        if grant not in client.grants:
            return self._token_error(400, "unauthorized_client", f"Grant {grant!r} is not allowed")
        if grant == "authorization_code":
            return self._exchange_code(client, body)
        if grant == "refresh_token":
            refresh = self.refresh_tokens.get(body.get("refresh_token", ""))
            if refresh is None or refresh.client_id != client.client_id:
                return self._token_error(401, "invalid_grant", "Unknown refresh token")
            if refresh.used or refresh.revoked:
                return self._token_error(401, "invalid_grant", "Refresh token is no longer valid")
            refresh.used = True
            tokens = self.issue_tokens(refresh.customer_id, client.client_id, refresh.scope)
            self.refresh_rotated.set()
            if self.refresh_answer_delay:
                await asyncio.sleep(self.refresh_answer_delay)
            await token_faults.before_refresh_answer(self)
            return web.json_response(tokens)
        # client_credentials: personal clients act for their own customer
        if client.customer_id is None:
            return self._token_error(400, "unauthorized_client", "This client has no customer")
        return web.json_response(self.issue_tokens(client.customer_id, client.client_id))

    def _exchange_code(self, client: Client, body: dict[str, str]) -> web.Response:
        code = self.codes.get(body.get("code", ""))
        if code is None or code.client_id != client.client_id:
            return self._token_error(400, "invalid_grant", "Unknown authorization code")
        if code.used:
            return self._token_error(400, "invalid_grant", "Authorization code was already used")
        code.used = True
        if code.expires_at <= self.clock.now():
            return self._token_error(400, "invalid_grant", "Authorization code has expired")
        if "redirect_uri" in body and body["redirect_uri"] != code.redirect_uri:
            return self._token_error(400, "invalid_grant", "redirect_uri does not match")
        if code.challenge is not None:
            verifier = body.get("code_verifier", "")
            self.verifiers_seen.append(verifier)
            if code.method == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            else:
                computed = verifier
            if not verifier or not secrets.compare_digest(computed, code.challenge):
                return self._token_error(400, "invalid_grant", "PKCE verification failed")
        return web.json_response(self.issue_tokens(code.customer_id, client.client_id))

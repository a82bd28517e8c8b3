"""Loopback OAuth2 endpoints for tests: a real HTTP token endpoint our code calls, and a token
introspection endpoint (RFC 7662) that Dovecot's oauth2 passdb and the test SMTP server ask.

    endpoints = OAuth2Endpoints(tls=True).start()  # https for the token side (MSAL talks only https;
                                                   #   tls=False: plain http, enough for google-auth)
    endpoints.token_url          # Google's refresh-token grant: POST here
    endpoints.authority          # Microsoft: MSAL reads <authority>/v2.0/.well-known/openid-configuration,
                                 #   then POSTs the client-credentials grant to the token endpoint it names
    endpoints.introspection_url  # always plain http on loopback (Dovecot's side)
    endpoints.token_requests     # every token request's form, in order
    endpoints.close()

The token endpoint checks the client id and secret (and the refresh token for Google) and issues a
new random token each time, good for ``lifetime`` seconds. The introspection endpoint says a token
is active only if this endpoint issued it and it was not revoked; ``issue_rejected = True`` makes
the next tokens ones introspection will refuse (a token revoked on the provider's side).
"""

from __future__ import annotations

import json
import secrets
import ssl
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.smtp_server import make_certificate

CLIENT_ID = "intake-app"
CLIENT_SECRET = "client-secret-for-tests"
REFRESH_TOKEN = "refresh-token-for-tests"
TENANT = "contoso-tenant"
MAILBOX = "complaints@example.org"


class OAuth2Endpoints:
    def __init__(self, *, tls: bool = False, username: str = MAILBOX) -> None:
        self.username = username
        self.lifetime = 3600
        self.issue_rejected = False
        self.token_requests: list[dict[str, str]] = []
        self.introspected: list[str] = []
        self.accepted: set[str] = set()
        self.lock = threading.Lock()
        self._certdir = tempfile.TemporaryDirectory(prefix="oauth-test-") if tls else None
        self.cert = make_certificate(Path(self._certdir.name))[0] if tls else None
        self.token_server = _server(self, self._certdir)
        self.introspection_server = _server(self, None)

    # -- addresses ----------------------------------------------------------------------------------

    @property
    def token_base(self) -> str:
        scheme = "https" if self.cert else "http"
        return f"{scheme}://127.0.0.1:{self.token_server.server_port}"

    @property
    def token_url(self) -> str:
        return f"{self.token_base}/token"

    @property
    def authority(self) -> str:
        return f"{self.token_base}/{TENANT}"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.introspection_server.server_port}/introspect"

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> OAuth2Endpoints:
        for server in (self.token_server, self.introspection_server):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        for server in (self.token_server, self.introspection_server):
            server.shutdown()
            server.server_close()
        if self._certdir is not None:
            self._certdir.cleanup()

    # -- what the endpoints decide ------------------------------------------------------------------

    def grant(self, form: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token" and form.get("refresh_token") != REFRESH_TOKEN:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        if grant_type not in ("refresh_token", "client_credentials"):
            return 400, {"error": "unsupported_grant_type"}
        token = secrets.token_urlsafe(24)
        if not self.issue_rejected:
            with self.lock:
                self.accepted.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime,
                     "scope": form.get("scope", "")}

    def introspect(self, token: str) -> dict:
        with self.lock:
            self.introspected.append(token)
            if token in self.accepted:
                return {"active": True, "username": self.username}
        return {"active": False}

    def openid_configuration(self) -> dict:
        return {"issuer": f"{self.authority}/v2.0", "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.authority}/oauth2/v2.0/token"}


def _server(endpoints: OAuth2Endpoints, certdir) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.endpoints = endpoints
    if certdir is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(Path(certdir.name) / "cert.pem", Path(certdir.name) / "key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Dovecot's and requests' clients expect

    def do_GET(self) -> None:
        endpoints = self.server.endpoints
        if self.path.endswith("/v2.0/.well-known/openid-configuration"):
            self._reply(200, endpoints.openid_configuration())
        else:
            self._reply(404, {"error": "not_found"})

    def do_POST(self) -> None:
        endpoints = self.server.endpoints
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
        if self.path == "/introspect":
            self._reply(200, endpoints.introspect(form.get("token", "")))
        elif self.path in ("/token", f"/{TENANT}/oauth2/v2.0/token"):
            self._reply(*endpoints.grant(form))
        else:
            self._reply(404, {"error": "not_found"})

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # quiet: pytest shows failures, not every request
        pass

"""The storefront and admin console's files (``web/dist``), served by the local gateway at its own address, as
CloudFront serves them from S3 on AWS (``template.yaml``: ``WebBucket``, ``WebDistribution``).

Only what no API route takes: ``GET /`` (the storefront), ``/index.html``, ``/admin.html``, ``/assets/...`` and
``/config.json`` (written here: the API is this same origin). The pages route after the ``#``, so no page path ever
meets an API path. The headers are the ones the distribution's response headers policy sets: a content security
policy that lets the pages load nothing from anywhere but here (images by URL excepted), and no framing.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

# The same policy as WebSecurityHeaders in template.yaml (tests/unit/local/test_static_site.py compares them).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self' https:; frame-src https://js.stripe.com https://hooks.stripe.com; form-action 'self' https:; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


@dataclass
class StaticSite:
    root: Path
    config: dict[str, object] = field(default_factory=dict)

    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    def answer(self, method: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        """The file for ``path`` (status, headers, body), or ``None`` when it is not one of the site's."""
        if method not in ("GET", "HEAD"):
            return None
        if path == "/config.json":
            body = json.dumps({"apiUrl": "", "localCloud": True, "stripePublishableKey": None, **self.config}).encode()
            return 200, {"content-type": "application/json", "cache-control": "no-store", **SECURITY_HEADERS}, body
        name = "index.html" if path in ("/", "") else path.lstrip("/")
        if not (name.endswith(".html") and "/" not in name) and not name.startswith("assets/"):
            return None
        file = (self.root / name).resolve()
        if not file.is_relative_to(self.root.resolve()) or not file.is_file():
            return None
        kind = TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        # Vite names each asset by its content's hash: kept for a year; the pages themselves are asked for every time.
        cache = "public, max-age=31536000, immutable" if name.startswith("assets/") else "no-cache"
        return 200, {"content-type": kind, "cache-control": cache, **SECURITY_HEADERS}, file.read_bytes()

"""Server addresses as they may be stored or printed: without credentials.

A base URL can carry a password (``http://user:pass@host/v1``) or a token in its query string
(``?api_key=...``). Results, cache rows, predictions and messages record where a model or judge
was served from, so they get this form; the SDK client keeps the original.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["redact_url"]

_SENSITIVE = ("key", "token", "secret", "password", "passwd", "pwd", "auth", "sig", "credential",
              "session", "code")


def redact_url(url: object) -> str | None:
    """``url`` without user info, and with sensitive query values replaced by ``REDACTED``."""
    if url is None:
        return None
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "REDACTED" if any(s in k.lower() for s in _SENSITIVE) else v)
                           for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

"""Warehouse pack URLs: parse them, and show them without their password.

A pack is a folder, a ``.duckdb`` file, or a URL naming an engine and where its tables are:

* ``postgres://user@host:5432/db?schema=ops`` (``postgresql://`` too): PostgreSQL;
* ``spark://local[2]?warehouse=/data/lake&database=ops``: an embedded Spark session on this machine
  reading the Parquet tables under ``<warehouse>/<database>.db/``;
* ``spark://host:7077?database=ops`` or ``sc://host:15002?database=ops``: a Spark cluster (standalone
  master, or Spark Connect), its tables from the cluster's catalog.

Query options every engine reads: ``timeout`` (seconds per query, default :data:`DEFAULT_TIMEOUT`),
``password_env`` (the environment variable holding the password). A password is never taken from
the stored URL: it comes from the environment (``PGPASSWORD`` or ``password_env``) or
``~/.pgpass``. A password written in a URL is used for the connection but removed everywhere the
URL is shown (:func:`redact`): the manifest, params, HTML, logs and error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from opsnb.errors import OpsnbError

#: URL scheme → engine name (:data:`opsnb.pack.engine.ENGINES`).
SCHEMES: dict[str, str] = {"postgres": "postgres", "postgresql": "postgres", "spark": "spark", "sc": "spark"}
#: Seconds a query may run before it is cancelled (``?timeout=`` or ``pack.yaml``'s ``timeout``).
DEFAULT_TIMEOUT = 600.0
#: Query options read by every engine.
COMMON_OPTIONS = ("timeout", "password_env")

_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]*)@")
_PASSWORD_OPTION = re.compile(r"([?&]password=)[^&\s]*", re.IGNORECASE)


class PackURLError(OpsnbError):
    """A pack URL that cannot be understood (the message names the part and the fix)."""


def is_url(text: object) -> bool:
    """Whether ``text`` names a warehouse pack (a URL of a known scheme) rather than a path."""
    if not isinstance(text, str) or "://" not in text:
        return False
    return text.split("://", 1)[0].lower() in SCHEMES


def redact(text: str, *secrets: str) -> str:
    """``text`` with every URL password (``user:pw@``, ``password=``) and every one of ``secrets`` removed."""
    out = _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}@", text)
    out = _PASSWORD_OPTION.sub(r"\1***", out)
    for s in secrets:
        if s:
            out = out.replace(s, "***")
    return out


@dataclass(frozen=True)
class PackURL:
    """A parsed pack URL (see the module doc)."""

    scheme: str
    engine: str
    user: str = ""
    host: str = ""
    port: int | None = None
    database: str = ""
    options: dict[str, str] = field(default_factory=dict)
    #: Only when the URL carried one; never shown (see :meth:`shown`).
    password: str = field(default="", repr=False)

    @property
    def schema(self) -> str:
        """The schema (PostgreSQL) or database (Spark) holding the tables: ``?schema=`` / ``?database=``."""
        return self.options.get("schema") or self.options.get("database") or ""

    @property
    def timeout(self) -> float:
        """Seconds a query may run."""
        raw = self.options.get("timeout", "")
        if not raw:
            return DEFAULT_TIMEOUT
        try:
            value = float(raw)
        except ValueError:
            raise PackURLError(f"{self.shown()}: timeout={raw!r} is not a number of seconds "
                               "(write e.g. ?timeout=600)") from None
        if value <= 0:
            raise PackURLError(f"{self.shown()}: timeout must be more than 0 seconds, got {raw}")
        return value

    def shown(self) -> str:
        """The URL as it may be shown and stored: no password."""
        auth = f"{self.user}@" if self.user else ""
        hostport = self.host + (f":{self.port}" if self.port is not None else "")
        path = f"/{self.database}" if self.database else ""
        query = "&".join(f"{k}={v}" for k, v in sorted(self.options.items()) if k.lower() != "password")
        return f"{self.scheme}://{auth}{hostport}{path}" + (f"?{query}" if query else "")

    def __str__(self) -> str:
        return self.shown()

    @property
    def stash(self) -> str:
        """The environment variable a password written in this URL is set aside in (:func:`set_aside`)."""
        import hashlib

        return "OPSNB_PW_" + hashlib.sha256(self.shown().encode()).hexdigest()[:12].upper()


def set_aside(text: str) -> str:
    """``text`` without its password; the password goes to the environment under :attr:`PackURL.stash`.

    So a run can hand the URL to its kernels (which inherit the environment) and write it into
    params.yaml, the notebooks and the manifest without the password. Only this URL finds it there.
    """
    import os

    url = parse(text)
    if not url.password:
        return text
    os.environ[url.stash] = url.password
    return url.shown()


def parse(text: str) -> PackURL:
    """Parse a pack URL.

    Raises
    ------
    PackURLError
        For an unknown scheme, a bad port, or a Spark URL without a master.
    """
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme not in SCHEMES:
        raise PackURLError(f"{redact(text)}: not a pack URL; use a folder, a .duckdb file, or one of "
                           + ", ".join(f"{s}://…" for s in ("postgres", "spark", "sc")))
    if scheme == "spark" and text[len("spark://"):].startswith("local"):
        # local[2] is not a host name: urlsplit would reject the brackets
        rest = text[len("spark://"):]
        master, _, query = rest.partition("?")
        return PackURL(scheme, "spark", host=master, options=dict(parse_qsl(query)))
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise PackURLError(f"{redact(text)}: {exc} (the port must be a number, e.g. :5432)") from None
    options = dict(parse_qsl(parts.query))
    password = unquote(parts.password or "") or options.pop("password", "")
    if scheme in ("spark", "sc") and not parts.hostname:
        raise PackURLError(f"{redact(text)}: a Spark pack names its master: spark://local[2], spark://host:7077 "
                           "or sc://host:15002")
    return PackURL(scheme, SCHEMES[scheme], unquote(parts.username or ""), parts.hostname or "", port,
                   parts.path.lstrip("/"), options, password)

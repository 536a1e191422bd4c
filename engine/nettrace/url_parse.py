"""Step 1 of typing a URL: what did the user type — a URL or a search — and what does it mean?

A browser's address bar takes both. Text with a space, or a single word with no dot, is a
search; a scheme, `localhost`, an IP address or a dotted host name is a URL (https assumed, as
browsers now try first). International names are turned into their ASCII form (IDNA 2008 with
the UTS 46 mapping, the `idna` library: `bücher.example` → `xn--bcher-kva.example`), since DNS
only carries ASCII.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
SEARCH_ENGINE = "https://duckduckgo.com/?q="
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
# Schemes a browser knows and does not fetch over the network. Typed without "//" they must not
# be read as host:port or user@host ("mailto:x@y.com" is not https://y.com/).
_OTHER_SCHEMES = {"about", "blob", "data", "file", "ftp", "javascript", "mailto", "tel",
                  "view-source", "ws", "wss"}


@dataclass(frozen=True)
class ParsedUrl:
    """What the address bar decided. For a search, `url` is the search engine's URL."""

    typed: str  # what the user typed, trimmed
    url: str  # what will be fetched
    scheme: str
    host: str  # as the user reads it (lowercase, Unicode)
    ascii_host: str  # what DNS is asked (IDNA A-labels); an IP address as it is
    port: int
    path: str  # path and query as sent (percent-encoded), "/" at least
    is_search: bool
    reason: str  # why it is a URL or a search, in words
    is_ip: bool = False

    @property
    def origin(self) -> str:
        """scheme://host[:port], the key of a browser's connection pool."""
        host = f"[{self.ascii_host}]" if ":" in self.ascii_host else self.ascii_host
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")

    @property
    def international(self) -> bool:
        return self.host != self.ascii_host


def parse_url(typed: str, search_engine: str = SEARCH_ENGINE) -> ParsedUrl:
    """Decide URL or search and split the URL; ValueError (one line) for what cannot be
    fetched: an empty line, a scheme other than http(s), a bad port or host name."""
    text = typed.strip()
    if not text:
        raise ValueError("nothing typed: enter a URL such as https://example.com/")
    scheme_match = _SCHEME.match(text)
    has_scheme = scheme_match is not None and text[scheme_match.end():].startswith("//")
    if has_scheme:
        reason = "it starts with a scheme"  # a space in it is only percent-encoded
    elif any(ch.isspace() for ch in text):
        return _search(text, search_engine, "it contains a space, so the browser searches")
    else:
        if text.startswith("?"):
            return _search(text[1:], search_engine, "a leading ? asks for a search")
        if scheme_match is not None and scheme_match.group(1).lower() in _OTHER_SCHEMES:
            raise ValueError("only http:// and https:// URLs are fetched, not "
                             f"{scheme_match.group(1).lower()}:")
        if isinstance(_ip(text), ipaddress.IPv6Address):
            text = f"[{text}]"  # a bare IPv6 address: its colons are not a port's
        host_part = urlsplit("//" + text).hostname or ""
        if not _looks_like_host(host_part):
            return _search(text, search_engine,
                           "one word with no dot is not a host name, so the browser searches")
        reason = "it looks like a host name, so the browser assumes https://"
        text = "https://" + text
    return _split(text, typed.strip(), reason)


def _looks_like_host(host: str) -> bool:
    if host == "localhost" or _ip(host) is not None:
        return True
    return "." in host.strip(".") and not host.startswith(".")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """A host whose last label is a number is an IPv4 address to a browser (the WHATWG URL
    standard), in any of the old forms: `0x7f.1` is 127.0.0.1, `2130706433` too. None when the
    last label is not numeric (a name); ValueError when it is but the address is invalid."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    if _ipv4_number(labels[-1]) is None:
        return None
    numbers = [_ipv4_number(label) for label in labels]
    if len(labels) > 4 or any(n is None for n in numbers):
        raise ValueError(f"{host!r} ends in a number, so it must be an IPv4 address, and it "
                         "is not one")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise ValueError(f"{host!r} is not a valid IPv4 address: a part is too large")
    address = values[-1]
    for index, part in enumerate(values[:-1]):
        address += part << (8 * (3 - index))
    return ipaddress.IPv4Address(address)


def _ipv4_number(label: str) -> int | None:
    """One part of a WHATWG IPv4 address: decimal, 0x hex, or 0-led octal."""
    try:
        if label[:2].lower() == "0x":
            return int(label[2:] or "0", 16)
        if len(label) > 1 and label.startswith("0"):
            return int(label[1:], 8)
        return int(label, 10) if label.isdigit() else None
    except ValueError:
        return None


def _search(query: str, search_engine: str, reason: str) -> ParsedUrl:
    parsed = _split(search_engine + quote(query, safe=""), query, reason)
    return ParsedUrl(query, parsed.url, parsed.scheme, parsed.host, parsed.ascii_host,
                     parsed.port, parsed.path, True, reason)


def _split(url: str, typed: str, reason: str) -> ParsedUrl:
    try:
        parts = urlsplit(url)
    except ValueError as error:  # urllib's own words, e.g. "Invalid IPv6 URL"
        raise ValueError(f"not a URL: {error} in {url!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"only http:// and https:// URLs are fetched, not {scheme}://")
    try:
        # `is None`, not `or`: an explicit port 0 must reach the check below, not become 443.
        port = DEFAULT_PORTS[scheme] if parts.port is None else parts.port
    except ValueError:
        raise ValueError(f"the port in {url!r} is not a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("port 0 cannot be connected to")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"no host name in {url!r}")
    address = _ip(host) or whatwg_ipv4(host)
    ascii_host = str(address) if address is not None else ascii_name(host)
    raw_path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path = quote(raw_path, safe="/?=&%:@+,;~!$*()'")  # what goes on the request line
    shown_host = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    default = port == DEFAULT_PORTS[scheme]
    normal = f"{scheme}://{shown_host}{'' if default else f':{port}'}{path}"
    return ParsedUrl(typed, normal, scheme, host.lower(), ascii_host, port, path, False, reason,
                     is_ip=address is not None)


def ascii_name(host: str) -> str:
    """The host name DNS is asked: IDNA A-labels, each label checked (LDH, ≤ 63 bytes, the
    whole ≤ 253). ValueError names what is wrong."""
    if host.isascii():
        name = host.lower()
    else:
        import idna  # only international names pay for it

        try:
            name = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise ValueError(f"{host!r} is not a valid international name: {error}") from None
    if len(name) > 253:
        raise ValueError(f"a host name has at most 253 characters; this one has {len(name)}")
    for label in name.split("."):
        if not _LABEL.match(label):
            raise ValueError(f"{label!r} is not a valid host name label in {host!r} (letters, "
                             "digits and inner hyphens, 1–63 of them)")
    return name

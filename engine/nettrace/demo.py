"""A small internet on loopback: the whole walk with no network (offline demos and the tests).

On 127.0.0.1, random ports: name servers for a root, the `test.` TLD and the `demo.test.` zone
(so the iterative walk really walks), a recursive resolver in front of them, a demo CA made at
start with web servers whose certificates it signed (HTTP/2 and HTTP/1.1, a redirect chain), a
plain-HTTP server that redirects to https, one that accepts and never answers, and a port with
nothing behind it. Until the user chooses to trust the demo CA, verification fails against the
system's trust store — honestly, as it would for any unknown CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .browser import Settings
from .running import StartStop

if TYPE_CHECKING:  # imported by start(): listing the names costs no server, key or CA
    from .demo_ca import DemoCA
    from .dns_server import DemoDns

ZONE = "demo.test"
HOSTS = ("www", "expired", "wrong", "silent", "refused")  # all 127.0.0.1; web.demo.test is a CNAME
# What `start()` offers, in its order: known before anything starts, so a wrong name costs nothing.
NAMES = ("home", "http", "http1", "redirects", "cname", "not-found", "nxdomain", "refused",
         "timeout", "expired", "wrong-host")


@dataclass(frozen=True)
class DemoUrl:
    name: str  # what `http --demo NAME` and the screen's list call it
    url: str
    shows: str  # what this URL demonstrates


class DemoInternet(StartStop):
    """Start with `start()` (or `with DemoInternet() as net:`); `urls` lists what to visit."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.urls: dict[str, DemoUrl] = {}
        self._servers: list = []
        self.dns: DemoDns | None = None
        self.ca: DemoCA | None = None

    def start(self) -> DemoInternet:
        from .demo_ca import DemoCA
        from .dns_server import DemoDns
        from .web_server import (
            SilentServer,
            WebServer,
            closed_port,
            html_page,
            redirect,
            stylesheet,
        )

        try:
            self.dns = dns = DemoDns(hosts={name: "127.0.0.1" for name in HOSTS},
                                     zone=f"{ZONE}.")
            dns.start()
            self._servers.append(dns)
            self.ca = ca = DemoCA()
            now = datetime.now(UTC)
            good = ca.issue([f"www.{ZONE}", f"web.{ZONE}"])
            certs = {f"www.{ZONE}": good, f"web.{ZONE}": good,
                     f"expired.{ZONE}": ca.issue([f"expired.{ZONE}"],
                                                 not_before=now - timedelta(days=60),
                                                 not_after=now - timedelta(days=30)),
                     f"wrong.{ZONE}": ca.issue([f"other.{ZONE}"])}
            page = html_page("The demo internet")
            routes = {"/": page, "/style.css": stylesheet(), "/old": redirect("/moved", 301),
                      "/moved": redirect("/", 302)}
            https = self._run(WebServer(routes, certs=certs, default_cert=good))
            http1 = self._run(WebServer(routes, certs=certs, default_cert=good, http2=False))
            home = f"https://www.{ZONE}:{https.address[1]}/"
            plain = self._run(WebServer({"/": redirect(home, 301)}))
            silent = self._run(SilentServer())
            refused = closed_port()
        except BaseException:
            self.stop()
            raise
        port, plain_port = https.address[1], plain.address[1]
        self.urls = {u.name: u for u in (
            DemoUrl("home", home, "the whole walk: DNS from the root, TCP, TLS 1.3, HTTP/2, "
                                  "the DOM"),
            DemoUrl("http", f"http://www.{ZONE}:{plain_port}/",
                    "plain HTTP, redirected to https: two hops"),
            DemoUrl("http1", f"https://www.{ZONE}:{http1.address[1]}/",
                    "the same page over HTTP/1.1 (the server offers no h2)"),
            DemoUrl("redirects", f"https://www.{ZONE}:{port}/old",
                    "301 then 302: each hop its own trace, the connection reused"),
            DemoUrl("cname", f"https://web.{ZONE}:{port}/", "a CNAME followed in DNS"),
            DemoUrl("not-found", f"https://www.{ZONE}:{port}/missing", "an HTTP 404"),
            DemoUrl("nxdomain", f"https://nx.{ZONE}:{port}/", "a name that does not exist"),
            DemoUrl("refused", f"https://refused.{ZONE}:{refused}/",
                    "nothing listens: the connection is refused"),
            DemoUrl("timeout", f"https://silent.{ZONE}:{silent.address[1]}/",
                    "a server that accepts and never answers: the TLS step times out"),
            DemoUrl("expired", f"https://expired.{ZONE}:{port}/",
                    "a certificate that expired 30 days ago"),
            DemoUrl("wrong-host", f"https://wrong.{ZONE}:{port}/",
                    "a certificate for another name"),
        )}
        return self

    def _run(self, server):
        server.start()
        self._servers.append(server)
        return server

    def settings(self, trust_ca: bool = False, **overrides) -> Settings:
        """Browser settings that resolve through the demo's resolver and walk from its root;
        `trust_ca` adds the demo CA to the system's trust store for this browser only."""
        assert self.dns is not None and self.ca is not None, "start() the demo first"
        values: dict[str, Any] = dict(
            timeout=self.timeout, resolver=self.dns.resolver, roots=self.dns.roots,
            port_for=self.dns.port_for, walk_timeout=min(self.timeout, 1.0),
            cadata=self.ca.ca_pem.decode() if trust_ca else None,
            forget_resolver_cache=self.dns.recursive.flush)
        values.update(overrides)
        return Settings(**values)

    def stop(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()



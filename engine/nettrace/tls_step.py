"""Step 4: the TLS handshake on a connected socket, and what it agreed on.

ClientHello (ciphers, a key share, SNI = the host name, ALPN = h2 and http/1.1) → ServerHello,
the certificate chain, Finished. One round trip in TLS 1.3, two in 1.2. The chain is read with
`cryptography`; when verification fails, the reason is OpenSSL's own ("certificate has
expired", "Hostname mismatch", "unable to get local issuer certificate").
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC
from typing import Any

ALPN = ("h2", "http/1.1")
POLL_SECONDS = 0.05  # how often a waiting handshake looks at the cancel flag
_DER = 2  # _ssl.ENCODING_DER: the chain methods' format argument


@dataclass(frozen=True)
class CertInfo:
    """One certificate of the chain, as a person reads it."""

    subject: str
    issuer: str
    sans: tuple[str, ...]
    not_before: str  # ISO 8601, UTC
    not_after: str
    key: str  # "EC P-256", "RSA 2048"
    is_ca: bool
    self_signed: bool
    sha256: str  # the fingerprint's first 16 hex digits


def cert_info(der: bytes) -> CertInfo:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    cert = x509.load_der_x509_certificate(der)
    try:
        sans = tuple(str(name.value) for name in
                     cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        sans = ()
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    public = cert.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        key = f"RSA {public.key_size}"
    elif isinstance(public, ec.EllipticCurvePublicKey):
        key = f"EC {public.curve.name}"
    elif isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key = type(public).__name__.removesuffix("PublicKey")
    else:
        key = type(public).__name__
    return CertInfo(
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(), sans=sans,
        not_before=cert.not_valid_before_utc.astimezone(UTC).isoformat(timespec="seconds"),
        not_after=cert.not_valid_after_utc.astimezone(UTC).isoformat(timespec="seconds"),
        key=key, is_ca=is_ca, self_signed=cert.subject == cert.issuer,
        sha256=hashlib.sha256(der).hexdigest()[:16])


def make_context(*, insecure: bool = False, cafile: str | None = None,
                 cadata: str | None = None) -> ssl.SSLContext:
    """The client's TLS settings: the system's trust store (plus `cafile`/`cadata`, e.g. the
    demo CA the user chose to trust), or no verification at all (`insecure`)."""
    context = ssl.create_default_context()
    if cafile:
        context.load_verify_locations(cafile=cafile)
    if cadata:
        context.load_verify_locations(cadata=cadata)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(list(ALPN))
    return context


@dataclass
class TlsResult:
    sock: ssl.SSLSocket | None
    elapsed: float
    sni: str
    version: str = ""
    cipher: str = ""
    bits: int = 0
    alpn: str = ""
    group: str = ""  # the key exchange group, where this Python exposes it (3.13+ does not yet)
    verified: bool = False
    session_reused: bool = False
    chain: list[CertInfo] = field(default_factory=list)
    chain_source: str = ""  # "verified chain" / "as sent by the server" / "leaf only"
    error: str = ""
    verify_message: str = ""  # OpenSSL's reason when verification failed

    @property
    def round_trips(self) -> int:
        if not self.version:
            return 1
        return 1 if self.version == "TLSv1.3" or self.session_reused else 2

    def detail(self) -> dict[str, Any]:
        return {"sni": self.sni, "version": self.version, "cipher": self.cipher,
                "bits": self.bits, "alpn": self.alpn or None, "group": self.group or None,
                "verified": self.verified, "session_reused": self.session_reused,
                "verify_error": self.verify_message or None, "chain_source": self.chain_source,
                "chain": [asdict(cert) for cert in self.chain]}


def handshake(sock: socket.socket, server_name: str, context: ssl.SSLContext,
              session: ssl.SSLSession | None = None, timeout: float = 5.0,
              cancel=None) -> TlsResult:
    """Wrap `sock` and run the handshake; on failure the socket is closed and `error` says why.
    `server_name` goes in SNI and is what the certificate must name (an IP address is sent
    without SNI, as browsers do). `cancel` (an Event) is looked at every POLL_SECONDS."""
    sni = None if _is_ip(server_name) else server_name
    began = time.perf_counter()
    sock.settimeout(timeout)
    try:
        wrapped = context.wrap_socket(sock, server_hostname=server_name,
                                      do_handshake_on_connect=False, session=session)
    except (ssl.SSLError, ValueError, OSError) as error:
        sock.close()
        return TlsResult(None, time.perf_counter() - began, server_name, error=str(error))
    try:
        _handshake_until(wrapped, began + timeout, cancel)
    except _Cancelled:
        wrapped.close()
        return TlsResult(None, time.perf_counter() - began, server_name, error="cancelled")
    except ssl.SSLCertVerificationError as error:
        wrapped.close()
        message = error.verify_message or str(error)
        return TlsResult(None, time.perf_counter() - began, server_name,
                         error=f"certificate not trusted: {message}", verify_message=message)
    except TimeoutError:
        wrapped.close()
        return TlsResult(None, time.perf_counter() - began, server_name,
                         error=f"no answer to the ClientHello within {timeout:g} s")
    except (ssl.SSLError, OSError) as error:
        wrapped.close()
        return TlsResult(None, time.perf_counter() - began, server_name,
                         error=f"handshake failed: {getattr(error, 'reason', None) or error}")
    elapsed = time.perf_counter() - began
    wrapped.settimeout(timeout)
    cipher = wrapped.cipher() or ("", "", 0)
    verified = context.verify_mode != ssl.CERT_NONE
    chain, source = peer_chain(wrapped, verified)
    group = getattr(wrapped, "group", None)
    return TlsResult(
        wrapped, elapsed, sni or server_name, version=wrapped.version() or "", cipher=cipher[0],
        bits=cipher[2] or 0, alpn=wrapped.selected_alpn_protocol() or "",
        group=(group() or "") if callable(group) else "", verified=verified,
        session_reused=bool(wrapped.session_reused), chain=chain, chain_source=source)


class _Cancelled(Exception):
    pass


def _handshake_until(wrapped: ssl.SSLSocket, deadline: float, cancel) -> None:
    """do_handshake in slices of POLL_SECONDS, so a cancel is seen while the server is silent.
    A slice that times out leaves OpenSSL mid-handshake; calling again carries on from there.
    TimeoutError once `deadline` (perf_counter) has passed."""
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError
        if cancel is not None and cancel.is_set():
            raise _Cancelled
        wrapped.settimeout(min(POLL_SECONDS, left) if cancel is not None else left)
        try:
            wrapped.do_handshake()
            return
        except TimeoutError:
            continue


def peer_chain(wrapped: ssl.SSLSocket, verified: bool) -> tuple[list[CertInfo], str]:
    """The chain as verified (leaf → root), else as the server sent it, else the leaf alone.
    Python 3.13 made these methods public; 3.11 and 3.12 have them on the SSL object."""
    sslobj = getattr(wrapped, "_sslobj", None)
    name = "get_verified_chain" if verified else "get_unverified_chain"
    method = getattr(wrapped, name, None) or getattr(sslobj, name, None)
    if method is not None:
        try:
            certs = method()
        except (ssl.SSLError, ValueError):
            certs = None
        if certs:
            ders = [c if isinstance(c, bytes) else c.public_bytes(_DER) for c in certs]
            return [cert_info(der) for der in ders], (
                "verified chain" if verified else "as sent by the server")
    leaf = wrapped.getpeercert(binary_form=True)
    return ([cert_info(leaf)] if leaf else []), "leaf only"


def offered_chain(sock: socket.socket, server_name: str, timeout: float) -> list[CertInfo]:
    """What a server presents, read without verifying (after verification failed, so the trace
    can show the certificate that was refused). Closes the socket."""
    context = make_context(insecure=True)
    result = handshake(sock, server_name, context, timeout=timeout)
    if result.sock is not None:
        result.sock.close()
    return result.chain


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

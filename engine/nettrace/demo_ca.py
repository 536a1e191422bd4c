"""A demo certificate authority for the loopback internet, generated fresh at every start.

A real site's certificate is trusted through a chain: the leaf (names the host) is signed by an
intermediate CA, which is signed by a root CA that the client's trust store already holds. The
demo builds the same three links with `cryptography` — nothing is hand-made or written to the
repository — so a client verifies against the system store and fails honestly ("unable to get
local issuer certificate"), then succeeds once the user chooses to trust `DemoCA.ca_pem`.

EC P-256 keys: key generation takes microseconds, where RSA-2048 takes tens of milliseconds.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import idna
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Leaves live a month, CAs ten years: the usual shape, and far from any test's clock.
LEAF_LIFETIME = timedelta(days=30)
CA_LIFETIME = timedelta(days=3650)
# Backdating absorbs clock skew between whoever issues and whoever verifies.
LEAF_BACKDATE = timedelta(hours=1)
CA_BACKDATE = timedelta(days=1)

# Labels of letters, digits, '-' and '_' (service names), at most 63 each; "*." may lead.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_DNS_NAME = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*\.?")


@dataclass(frozen=True)
class IssuedCert:
    """A server's certificate and key, PEM-encoded, ready for `ssl.SSLContext.load_cert_chain`."""

    cert_pem: bytes  # the leaf alone
    key_pem: bytes  # the leaf's private key: PKCS#8, unencrypted
    chain_pem: bytes  # leaf then intermediate: what the server sends in its Certificate message


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "microgpt-tui demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_usage() -> x509.KeyUsage:
    # An ECDHE handshake uses the leaf key only to sign: digitalSignature is all it needs.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _san_entry(host: str) -> x509.GeneralName:
    """An IP string becomes an IPAddress SAN (clients match IPs only there), a name a DNSName
    in its ASCII A-label form, which is what SNI carries and what the client compares."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.isascii():
        if not _DNS_NAME.fullmatch(host) or len(host) > 253:
            raise ValueError(f"not a host name: {host!r}")
        return x509.DNSName(host.lower().removesuffix("."))  # SANs carry no root dot
    try:
        return x509.DNSName(idna.encode(host, uts46=True).decode("ascii"))
    except idna.IDNAError as error:
        raise ValueError(f"not a host name: {host!r} ({error})") from None


def _checked(hosts: Sequence[str]) -> Sequence[str]:
    # A bare string is a Sequence too: "example.test" would become 12 one-letter names.
    if isinstance(hosts, str) or not hosts:
        raise ValueError("hosts must be a non-empty sequence of host names or IP addresses")
    return hosts


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, e.g. datetime.now(UTC)")
    return moment


def _leaf(
    hosts: Sequence[str],
    public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """A TLS server certificate for `hosts`, signed by `issuer_key` (its own, if self-signed)."""
    sans = [_san_entry(host) for host in _checked(hosts)]
    return (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


class DemoCA:
    """A root CA and one intermediate, made in memory; `issue` signs leaves with the intermediate.

    The root is what a client chooses to trust (`ca_pem`, `write_ca`); servers send the leaf and
    the intermediate (`IssuedCert.chain_pem`), as real servers do, and never the root.
    """

    def __init__(self, name: str = "microgpt-tui Demo Root CA") -> None:
        now = datetime.now(UTC)
        not_before, not_after = now - CA_BACKDATE, now + CA_LIFETIME
        self._root_key = _new_key()
        root_name = _name(name)
        self._root = self._ca_cert(
            root_name, self._root_key, root_name, self._root_key, 1, not_before, not_after
        )
        self._intermediate_key = _new_key()
        self._intermediate = self._ca_cert(
            _name(f"{name} - Intermediate"),
            self._intermediate_key,
            root_name,
            self._root_key,
            0,  # may sign leaves only, never another CA
            not_before,
            not_after,
        )

    @staticmethod
    def _ca_cert(
        subject: x509.Name,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name,
        issuer_key: ec.EllipticCurvePrivateKey,
        path_length: int,
        not_before: datetime,
        not_after: datetime,
    ) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
            .sign(issuer_key, hashes.SHA256())
        )

    @property
    def ca_pem(self) -> bytes:
        """The root certificate alone, PEM: what a client chooses to trust (`cadata`, --cafile)."""
        return _pem(self._root)

    @property
    def intermediate_pem(self) -> bytes:
        """The intermediate CA certificate, PEM (servers send it after the leaf)."""
        return _pem(self._intermediate)

    def issue(
        self,
        hosts: Sequence[str],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> IssuedCert:
        """A server certificate for `hosts` (names and/or IP strings; the first is its CN).

        Valid by default from an hour ago to 30 days ahead; pass a `not_after` in the past for an
        expired certificate (then `not_before` defaults to a day before it). Times are aware
        datetimes. Raises ValueError for an empty host list, a bad name or an empty validity.
        """
        now = datetime.now(UTC)
        after = _aware(not_after, "not_after") if not_after is not None else now + LEAF_LIFETIME
        if not_before is not None:
            before = _aware(not_before, "not_before")
        else:
            before = min(now - LEAF_BACKDATE, after - timedelta(days=1))
        if before >= after:
            raise ValueError(f"empty validity: not_before {before} is not before not_after {after}")
        key = _new_key()
        leaf = _leaf(
            hosts,
            key.public_key(),
            self._intermediate.subject,
            self._intermediate_key,
            before,
            after,
        )
        return IssuedCert(
            cert_pem=_pem(leaf),
            key_pem=_key_pem(key),
            chain_pem=_pem(leaf) + self.intermediate_pem,
        )

    def write_ca(self, path: Path) -> Path:
        """Write the root certificate as PEM to `path` (for `--cafile`) and return the path."""
        path = Path(path)
        path.write_bytes(self.ca_pem)
        return path


def self_signed(hosts: Sequence[str]) -> IssuedCert:
    """A leaf for `hosts` that signs itself: no CA vouches for it, so verification fails with
    "self-signed certificate" unless the client trusts this very certificate."""
    now = datetime.now(UTC)
    key = _new_key()
    subject = _name(_checked(hosts)[0])
    leaf = _leaf(hosts, key.public_key(), subject, key, now - LEAF_BACKDATE, now + LEAF_LIFETIME)
    return IssuedCert(cert_pem=_pem(leaf), key_pem=_key_pem(key), chain_pem=_pem(leaf))

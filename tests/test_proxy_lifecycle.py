"""The proxy as a service: readiness and liveness, SIGTERM under load, HTTPS, configured by env.

Real processes on loopback: a backend (tests/proxy_backend.py) and ``python -m
grpcgw proxy``, asked over real HTTP.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from .proxyutil import (
    PROXY_ENV,
    PingLoad,
    Processes,
    Protos,
)


def _healthcheck(url: str, *args: str, env: dict[str, str] | None = None) -> int:
    """``grpcgw healthcheck`` as a container runs it, told the proxy's address by env."""
    address = url.split("://", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "grpcgw", "healthcheck", *args],
        env={**PROXY_ENV, "GRPCGW_HTTP_ADDRESS": address, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr
    return result.returncode


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, object]:
    async with http.get(url) as resp:
        return resp.status, await resp.json()


async def test_readiness_follows_the_target_and_liveness_the_process(
    protos: tuple[Protos, Protos],
    sock_dir: Path,
    processes: Processes,
    http: aiohttp.ClientSession,
) -> None:
    target = f"unix://{sock_dir}/backend.sock"
    backend = await processes.backend(protos[0], target, "--health")
    _, url = await processes.proxy(sock_dir, "--target", target, "--reflect", "--ready-cache", "0")
    assert await _get(http, f"{url}/livez") == (200, {"live": True})
    assert await _get(http, f"{url}/readyz") == (200, {"ready": True, "routes": 16})
    async with http.head(f"{url}/readyz") as resp:
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "no-store"

    backend.signal(signal.SIGUSR1)  # the backend's health says NOT_SERVING
    await asyncio.to_thread(backend.out.until, "health NOT_SERVING")
    assert await _get(http, f"{url}/readyz") == (
        503,
        {"ready": False, "routes": 16, "reason": "target NOT_SERVING"},
    )
    assert await asyncio.to_thread(_healthcheck, url, "--ready") == 1
    assert await asyncio.to_thread(_healthcheck, url) == 0  # alive all the same
    backend.stop()
    processes.remove(backend)
    status, body = await _get(http, f"{url}/readyz")
    assert (status, body) == (503, {"ready": False, "routes": 16, "reason": "target unreachable"})
    assert await _get(http, f"{url}/livez") == (200, {"live": True})

    # A backend without the health service is ready once it answers at all; the
    # probe connects afresh (no reconnect backoff after a failure).
    await processes.backend(protos[0], target)
    assert await _get(http, f"{url}/readyz") == (200, {"ready": True, "routes": 16})


async def test_sigterm_under_load_loses_no_accepted_request(
    protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    """c=16 clients on keep-alive connections to a slow backend; SIGTERM; every
    request the proxy took is answered, then it exits 0."""
    target = f"unix://{sock_dir}/backend.sock"
    await processes.backend(protos[0], target, "--ping-delay", "0.2")
    proxy, url = await processes.proxy(
        sock_dir, "--target", target, "--reflect", "--shutdown-grace", "20"
    )
    load = PingLoad(url)
    done_before_sigterm = await load.start()
    proxy.signal(signal.SIGTERM)
    code = await asyncio.to_thread(proxy.proc.wait, 40)
    processes.remove(proxy)
    await load.finish()
    ok, bad, refused = load.ok, load.bad, load.refused
    text = proxy.out.drain()
    assert code == 0, text
    stopped = re.search(
        r"stopped: served (\d+) requests, (\d+) of them after the shutdown began; "
        r"(\d+) cut short",
        text,
    )
    assert stopped is not None, text
    served, after, cut = (int(n) for n in stopped.groups())
    print(
        f"SIGTERM drain: {served} served, {after} after SIGTERM, {ok - done_before_sigterm} "
        f"answered after it, {cut} cut short, {refused} refused"
    )
    assert bad == []
    assert cut == 0
    assert served == ok  # every request the proxy answered reached its client
    assert after >= 1  # requests were in flight when SIGTERM came, and finished
    assert ok > done_before_sigterm
    assert refused == 16  # and then each client found the door closed
    assert re.search(r"shutting down: \d+ requests in flight", text)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_listener_configured_by_file_and_environment(
    protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    target = f"unix://{sock_dir}/backend.sock"
    await processes.backend(protos[1], target)
    cert, key = _self_signed(sock_dir)
    config = sock_dir / "proxy.toml"
    config.write_text(f'target = "{target}"\nreflect = true\n[gateway]\nuse_proto_names = true\n')
    proxy, url = await processes.proxy(
        sock_dir,
        env={
            "GRPCGW_CONFIG": str(config),
            "GRPCGW_TLS_CERT": str(cert),
            "GRPCGW_TLS_KEY": str(key),
            "GRPCGW_LOG_FORMAT": "json",
            "GRPCGW_CORS_ALLOW_ORIGINS": "https://app.example",
        },
    )
    assert url.startswith("https://127.0.0.1:")
    trust = ssl.create_default_context(cafile=str(cert))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.get(f"{url}/v1/ping", ssl=trust) as resp:
            assert resp.status == 200
            assert await resp.json() == {"message": "Pong", "served_by": "v2"}  # proto names
        async with session.get(f"{url}/readyz", ssl=trust) as resp:
            assert resp.status == 200
        preflight = {
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
        }
        async with session.options(f"{url}/v1/ping", ssl=trust, headers=preflight) as resp:
            assert resp.status == 204
            assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
        tls_env = {"GRPCGW_TLS_CERT": str(cert), "GRPCGW_TLS_KEY": str(key)}
        assert await asyncio.to_thread(_healthcheck, url, "--ready", env=tls_env) == 0
        assert await asyncio.to_thread(_healthcheck, url) == 1  # http to an https port
        plain = url.replace("https://", "http://")
        with pytest.raises(aiohttp.ClientError):
            async with session.get(f"{plain}/v1/ping") as resp:
                await resp.read()
    # The log is JSON, one object per line.
    line = proxy.out.until('"logger":"grpcgw.access"')
    assert line.lstrip().startswith("{")

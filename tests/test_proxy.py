"""``grpcgw proxy`` in front of gRPC servers grpcgw did not build, over real HTTP.

Each backend is another process (tests/proxy_backend.py): a plain ``grpc.aio``
server with grpcio-reflection, running code protoc generated at test time into
a temporary directory. The proxy runs as ``python -m grpcgw proxy`` with only
grpcgw's sources on its path, so the service's protos reach it only through
reflection or a descriptor set.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from .proxyutil import (
    PROXY_ENV,
    Process,
    Processes,
    Protos,
    protoc,
    run_proxy,
)


@pytest.fixture
def work(sock_dir: Path) -> Path:
    return sock_dir


async def call(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None, **kwargs: Any
) -> tuple[int, Any]:
    data = json.dumps(body) if body is not None and not isinstance(body, bytes) else body
    async with http.request(method, url, data=data, **kwargs) as resp:
        raw = await resp.read()
        if resp.content_type == "application/json" and raw:
            return resp.status, json.loads(raw)
        return resp.status, raw


PING_COMMENT = 'The smallest useful service: GET /v1/ping answers {"message":"Pong"}.'
SHELF_COMMENT = "A small library service that exercises every HttpRule mapping rule:"
PATCH_COMMENT = "PATCH with a field mask; the path binds a nested field of the body message."


async def comments(http: aiohttp.ClientSession, url: str) -> dict[str, str | None]:
    """The first line of each service's description (its comment) in the served
    /openapi.json, by service; ``None`` where there is none."""
    status, document = await call(http, "GET", f"{url}/openapi.json")
    assert status == 200, document
    return {
        tag["name"]: tag["description"].splitlines()[0] if "description" in tag else None
        for tag in document["tags"]
    }


async def exercise_example(http: aiohttp.ClientSession, url: str) -> None:
    """The example's routes, every kind of binding, through the proxy."""
    assert await call(http, "GET", f"{url}/v1/ping") == (200, {"message": "Pong"})
    status, shelf = await call(
        http,
        "POST",
        f"{url}/v1/shelves?shelf_id=7",
        {"theme": "maps", "genre": "GENRE_HISTORY", "createTime": "2024-05-01T10:00:00Z"},
    )
    assert status == 201, shelf  # x-http-code metadata
    assert shelf["name"] == "shelves/7"
    assert shelf["createTime"] == "2024-05-01T10:00:00Z"  # a WKT of the proxy's own pool
    assert shelf["bookCount"] == "0"
    assert (await call(http, "GET", f"{url}/v1/shelves/7"))[1]["theme"] == "maps"
    # The additional binding: a single-segment variable, %2F decoded.
    assert (await call(http, "GET", f"{url}/v1/shelf/shelves%2F7"))[1]["theme"] == "maps"
    status, listed = await call(
        http, "GET", f"{url}/v1/shelves?genre=GENRE_HISTORY&page_size=5&location.floor=1"
    )
    assert status == 200
    assert [s["name"] for s in listed["shelves"]] == ["shelves/7"]
    status, patched = await call(http, "PATCH", f"{url}/v1/shelves/7", {"theme": "charts"})
    assert (status, patched["theme"], patched["genre"]) == (200, "charts", "GENRE_HISTORY")
    status, book = await call(
        http,
        "POST",
        f"{url}/v1/shelves/7/books",
        {
            "book": {"title": "Atlas", "readTime": "1.5s", "rating": 4.5, "pageCount": "300"},
            "bookId": "a1",
        },
    )
    assert status == 200, book
    assert (book["name"], book["readTime"], book["rating"]) == ("shelves/7/books/a1", "1.500s", 4.5)
    status, got = await call(http, "GET", f"{url}/v1/books/shelves/7/books/a1")
    assert (status, got["title"]) == (200, "Atlas")
    status, moved = await call(
        http, "POST", f"{url}/v1/shelves/7/books/a1:move", {"destinationShelf": "shelves/7"}
    )
    assert (status, moved["name"]) == (200, "shelves/7/books/a1")  # response_body: "book"
    cover = bytes(range(256))
    status, _ = await call(
        http,
        "PUT",
        f"{url}/v1/shelves/7/books/a1/cover",
        cover,
        headers={"Content-Type": "image/png"},
    )
    assert status == 200
    async with http.get(f"{url}/v1/shelves/7/books/a1/cover") as resp:
        assert (resp.status, resp.content_type, await resp.read()) == (200, "image/png", cover)
    async with http.get(f"{url}/v1/shelves:watch") as resp:
        lines = [json.loads(line) for line in (await resp.read()).splitlines()]
    assert [line["result"]["name"] for line in lines] == ["shelves/7"]
    books = b"\n".join(
        json.dumps({"parent": "shelves/7", "book": {"title": t}}).encode() for t in ("x", "y")
    )
    status, imported = await call(http, "POST", f"{url}/v1/books:import", books)
    assert (status, imported["imported"]) == (200, 2)
    async with http.head(f"{url}/v1/library") as resp:
        assert resp.status == 200
    status, library = await call(http, "GET", f"{url}/v1/library")
    assert (status, library["shelfCount"]) == (200, "1")  # int64: a string
    status, error = await call(http, "GET", f"{url}/v1/shelves/404")
    assert (status, error["code"], error["message"]) == (404, 5, "shelves/404 not found")
    assert (await call(http, "DELETE", f"{url}/v1/ping"))[0] == 405
    assert (await call(http, "POST", f"{url}/example.v1.ShelfService/Audit", {}))[0] == 404


def test_the_proxy_process_cannot_import_the_backend_protos(protos: tuple[Protos, Protos]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import example.v1.ping_pb2"],
        env=PROXY_ENV,
        cwd=protos[0].gen.parent.parent,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "No module named 'example'" in result.stderr


@pytest.mark.parametrize("protocol", ["v1", "v1alpha"])
async def test_reflect_serves_the_example(
    protos: tuple[Protos, Protos],
    work: Path,
    processes: Processes,
    http: aiohttp.ClientSession,
    protocol: str,
) -> None:
    """v1 is asked first; a server with only v1alpha (grpcio-reflection's) is asked that."""
    target = f"unix://{work}/backend.sock"
    await processes.backend(protos[0], target, reflection=protocol)
    process, url = await processes.proxy(work, "--target", target, "--reflect")
    assert f"(reflection {protocol})" in process.out.text
    await exercise_example(http, url)
    # Reflection serves descriptors without source info: no comments to describe with.
    assert await comments(http, url) == {"PingService": None, "ShelfService": None}


async def test_descriptor_set_serves_the_example(
    protos: tuple[Protos, Protos],
    work: Path,
    processes: Processes,
    http: aiohttp.ClientSession,
) -> None:
    target = f"unix://{work}/backend.sock"
    await processes.backend(protos[0], target, reflection="none")
    _, url = await processes.proxy(
        work, "--target", target, "--descriptor-set", str(protos[0].descriptor_set)
    )
    await exercise_example(http, url)
    # The set was built with --include_source_info: the served documents have its comments.
    assert await comments(http, url) == {"PingService": PING_COMMENT, "ShelfService": SHELF_COMMENT}
    status, swagger = await call(http, "GET", f"{url}/swagger.json")
    assert status == 200
    assert swagger["paths"]["/v1/shelves/{name}"]["patch"]["summary"] == PATCH_COMMENT


async def test_service_flag_limits_what_is_served(
    protos: tuple[Protos, Protos],
    work: Path,
    processes: Processes,
    http: aiohttp.ClientSession,
) -> None:
    target = f"unix://{work}/backend.sock"
    await processes.backend(protos[0], target)
    _, url = await processes.proxy(
        work, "--target", target, "--reflect", "--service", "example.v1.PingService"
    )
    assert await call(http, "GET", f"{url}/v1/ping") == (200, {"message": "Pong"})
    assert (await call(http, "GET", f"{url}/v1/shelves"))[0] == 404


def _one_line_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("grpcgw")]
    assert len(lines) == 1, result.stderr
    assert message in lines[0], result.stderr


async def test_reflection_turned_off(
    protos: tuple[Protos, Protos], work: Path, processes: Processes
) -> None:
    target = f"unix://{work}/backend.sock"
    await processes.backend(protos[0], target, reflection="none")
    result = await asyncio.to_thread(run_proxy, work, "--target", target, "--reflect")
    _one_line_error(
        result,
        f"the gRPC server at {target} does not serve reflection "
        "(neither grpc.reflection.v1 nor v1alpha)",
    )


async def test_named_service_missing_or_unannotated(
    protos: tuple[Protos, Protos], work: Path, processes: Processes
) -> None:
    target = f"unix://{work}/backend.sock"
    await processes.backend(protos[0], target)
    missing = await asyncio.to_thread(
        run_proxy, work, "--target", target, "--reflect", "--service", "no.such.Service"
    )
    _one_line_error(
        missing,
        f"the gRPC server at {target} (reflection v1) has no service no.such.Service (it has: "
        "example.v1.PingService, example.v1.ShelfService, "
        "grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection)",
    )
    bare = await asyncio.to_thread(
        run_proxy,
        work,
        "--target",
        target,
        "--reflect",
        "--service",
        "grpc.reflection.v1alpha.ServerReflection",
    )
    _one_line_error(
        bare,
        "no method of grpc.reflection.v1alpha.ServerReflection has a google.api.http annotation",
    )


async def test_no_annotated_method_at_all(work: Path, processes: Processes) -> None:
    src = work / "plain"
    (src / "plain" / "v1").mkdir(parents=True)
    (src / "plain" / "v1" / "plain.proto").write_text(
        'syntax = "proto3";\npackage plain.v1;\n'
        "service Plain { rpc Do(Msg) returns (Msg); }\nmessage Msg { string a = 1; }\n"
    )
    descriptor_set = work / "plain.binpb"
    protoc(src, f"--descriptor_set_out={descriptor_set}", "--include_imports")
    result = await asyncio.to_thread(
        run_proxy, work, "--target", "localhost:1", "--descriptor-set", str(descriptor_set)
    )
    _one_line_error(
        result,
        f"descriptor set {descriptor_set}: no method of plain.v1.Plain has a google.api.http "
        "annotation",
    )


async def test_unreachable_target_fails_within_the_time_given(work: Path) -> None:
    target = f"unix://{work}/nobody.sock"
    started = time.monotonic()
    result = await asyncio.to_thread(
        run_proxy, work, "--target", target, "--reflect", "--reflect-timeout", "0.5"
    )
    _one_line_error(result, f"cannot reach the gRPC server at {target} within 0.5 s")
    assert time.monotonic() - started < 30  # bounded: not grpc's 20 s reconnect backoff, twice


async def test_bad_descriptor_set_files(work: Path) -> None:
    garbage = work / "garbage.binpb"
    garbage.write_bytes(b"\xff\xff\xff not protobuf")
    result = await asyncio.to_thread(
        run_proxy, work, "--target", "localhost:1", "--descriptor-set", str(garbage)
    )
    _one_line_error(result, f"descriptor set {garbage} is not a FileDescriptorSet")
    missing = await asyncio.to_thread(
        run_proxy, work, "--target", "localhost:1", "--descriptor-set", str(work / "none.binpb")
    )
    _one_line_error(missing, f"cannot read descriptor set {work / 'none.binpb'}")


async def _wait_reloads(process: Process, n: int) -> None:
    await asyncio.to_thread(process.out.until, "reloaded from", n)


@pytest.mark.parametrize("trigger", ["sighup", "interval"])
async def test_reload_picks_up_a_method_the_restarted_backend_added(
    protos: tuple[Protos, Protos],
    work: Path,
    processes: Processes,
    http: aiohttp.ClientSession,
    trigger: str,
) -> None:
    target = f"unix://{work}/backend.sock"
    old = await processes.backend(protos[0], target)
    args = ["--target", target, "--reflect", "--reflect-timeout", "1"]
    if trigger == "interval":
        args += ["--reflect-interval", "0.2"]
    process, url = await processes.proxy(work, *args)
    assert (await call(http, "POST", f"{url}/v1/echo", {"text": "hi"}))[0] == 404

    old.stop()
    processes.remove(old)
    if trigger == "sighup":
        # The backend is down: the reload fails and the routes stay. (Asked without
        # reaching the backend: a bad query answers 400 from a route, 404 without.)
        process.signal(signal.SIGHUP)
        await asyncio.to_thread(process.out.until, "reload failed, still serving")
        status, error = await call(http, "GET", f"{url}/v1/shelves?page_size=many")
        assert (status, error["code"]) == (400, 3), error
    await processes.backend(protos[1], target)
    if trigger == "sighup":
        process.signal(signal.SIGHUP)
    await _wait_reloads(process, 1)
    status, echo = await call(http, "POST", f"{url}/v1/echo", {"text": "hi"})
    assert (status, echo["message"]) == (200, "echo: hi")
    # Replies are read with the new descriptors: a field v2 added is there.
    assert await call(http, "GET", f"{url}/v1/ping") == (
        200,
        {"message": "Pong", "servedBy": "v2"},
    )
    assert "17 routes (were 16)" in process.out.text
    if trigger == "sighup":  # asked again for nothing new: the log says so
        process.signal(signal.SIGHUP)
        await asyncio.to_thread(process.out.until, "unchanged, still serving its 17 routes")


async def test_reload_under_load_fails_no_request(
    protos: tuple[Protos, Protos],
    work: Path,
    processes: Processes,
    http: aiohttp.ClientSession,
) -> None:
    """c=16 clients while the routes are swapped 10 times: every request answered right."""
    target = f"unix://{work}/backend.sock"
    await processes.backend(protos[1], target, reflection="none")
    current = work / "current.binpb"
    versions = [protos[0].descriptor_set.read_bytes(), protos[1].descriptor_set.read_bytes()]
    current.write_bytes(versions[0])
    process, url = await processes.proxy(work, "--target", target, "--descriptor-set", str(current))

    swaps = 10
    done = asyncio.Event()
    progress = asyncio.Condition()
    outcomes: dict[str, int] = {"ok": 0}
    failures: list[str] = []

    async def client(n: int) -> None:
        deadline = time.monotonic() + 60  # bounded, whatever happens
        while not done.is_set() and time.monotonic() < deadline:
            if n % 2:
                status, body = await call(http, "GET", f"{url}/v1/ping")
                good = status == 200 and body["message"] == "Pong"
            else:
                status, body = await call(http, "GET", f"{url}/v1/library")
                good = status == 200 and "shelfCount" in body
            if good:
                outcomes["ok"] += 1
            else:
                failures.append(f"{status} {body!r}")
            async with progress:
                progress.notify_all()

    clients = [asyncio.create_task(client(n)) for n in range(16)]
    try:
        for swap in range(1, swaps + 1):
            wanted = outcomes["ok"] + 64
            staged = work / "staged.binpb"
            staged.write_bytes(versions[swap % 2])
            os.replace(staged, current)  # as a ConfigMap update does: whole, at once
            process.signal(signal.SIGHUP)
            await _wait_reloads(process, swap)
            async with progress:  # requests served by the new table before the next swap
                await asyncio.wait_for(
                    progress.wait_for(lambda: outcomes["ok"] >= wanted or bool(failures)),  # noqa: B023
                    30,
                )
            echo = (await call(http, "POST", f"{url}/v1/echo", {"text": "x"}))[0]
            assert echo == (200 if swap % 2 else 404), swap
            # The served description is the new set's, comments included.
            schemas = (await call(http, "GET", f"{url}/openapi.json"))[1]["components"]["schemas"]
            echo_request = schemas.get("example.v1.EchoRequest")
            text = echo_request["properties"]["text"] if echo_request else None
            assert text == (
                {"type": "string", "description": "What to echo."} if swap % 2 else None
            )
    finally:
        done.set()
        await asyncio.gather(*clients)
    assert failures == []
    assert outcomes["ok"] >= swaps * 64
    assert process.out.count("reloaded from") == swaps
    assert "reload failed" not in process.out.text

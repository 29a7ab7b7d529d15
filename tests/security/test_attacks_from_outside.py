"""Attacks on a running `python main.py` from outside, as another site's page, a rebound DNS name or a careless
script would make them: plain HTTP and websocket handshakes on a socket, the app's memory read from /proc."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.app_process import chat_app

API_KEY = "chat-key-for-attack-tests"
EVIL = "evil.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with chat_app(tmp_path_factory.mktemp("attacks"), CHAT_API_KEY=API_KEY) as running:
        yield running


def port_of(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def raw_request(port: int, request: str) -> tuple[int, str]:
    """Send bytes exactly as written (any Host, any Origin); the status and the headers that came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := connection.recv(65536)):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return int(head.split()[1]), head.lower()


def websocket_handshake(
    port: int, host: str, origin: str | None = None, page: str | None = "", cookie: str | None = None
) -> int:
    """A socket.io websocket opening; `page` is the client id NiceGUI's script names (None: it names none)."""
    query = "EIO=4&transport=websocket" + (f"&client_id={page}" if page is not None else "")
    lines = [
        f"GET /_nicegui_ws/socket.io/?{query} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *([f"Origin: {origin}"] if origin else []),
        *([f"Cookie: chat_session={cookie}"] if cookie else []),
    ]
    status, _ = raw_request(port, "\r\n".join(lines) + "\r\n\r\n")
    return status


def static_asset(server) -> str:
    return re.search(r'src="(/_nicegui/[^"]+\.js)"', httpx.get(server.url + "/").text).group(1)


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def a_browser_with_a_page(server) -> tuple[str, str]:
    """A browser session that opened the chat: its session cookie and its page's client id."""
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get("/")
        return browser.cookies["chat_session"], re.search(r"'client_id': '([0-9a-f-]+)'", page.text).group(1)


# -- DNS rebinding: only this server's own names are answered


def test_a_foreign_host_name_gets_no_page_no_api_and_no_socket(server):
    port = port_of(server)
    key = f"Authorization: Bearer {API_KEY}\r\n"
    routes = [
        ("GET", "/", ""),
        ("GET", "/c/some-conversation", ""),
        ("GET", "/login", ""),
        ("GET", static_asset(server), ""),
        ("GET", "/api/conversations", key),
        ("POST", "/api/chat", key),
        ("GET", "/_nicegui_ws/socket.io/?EIO=4&transport=polling", ""),
        ("POST", "/drafts/some-client", ""),
    ]
    for host in (EVIL, f"{EVIL}:{port}", "127.0.0.1.evil.example", "localhost.evil.example:80", "[::2]"):
        for method, path, extra in routes:
            request = (
                f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            status, _ = raw_request(port, request)
            assert status == 421, (host, path)
        assert websocket_handshake(port, host) == 403, host


def test_the_refusal_says_which_setting_lets_a_name_in(server):
    response = httpx.get(server.url + "/", headers={"Host": EVIL})

    assert response.status_code == 421 and "ALLOWED_HOSTS" in response.text
    assert "Conversations" not in response.text


def test_this_machines_own_names_are_answered(server):
    port = port_of(server)
    for host in ("127.0.0.1", "localhost", "LOCALHOST.", "[::1]"):
        status, _ = raw_request(port, f"GET /login HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n")
        assert status == 200, host
        cookie, page = a_browser_with_a_page(server)
        assert websocket_handshake(port, f"{host}:{port}", f"http://{host}:{port}", page, cookie) == 101, host


def test_a_pages_socket_opens_only_for_the_browser_that_opened_the_page(server):
    port = port_of(server)
    here = f"127.0.0.1:{port}"
    owner, page = a_browser_with_a_page(server)
    stranger, _ = a_browser_with_a_page(server)

    assert websocket_handshake(port, here, page=page, cookie=owner) == 101
    assert websocket_handshake(port, here, page=page, cookie=stranger) == 403
    assert websocket_handshake(port, here, page=page) == 403, "no session at all"
    assert websocket_handshake(port, here, page=None, cookie=owner) == 403, "a socket that names no page"


def test_a_pages_long_draft_is_taken_only_from_the_browser_that_opened_the_page(server):
    owner, page = a_browser_with_a_page(server)
    stranger, _ = a_browser_with_a_page(server)

    def post_draft(cookie: str | None) -> int:
        cookies = {"chat_session": cookie} if cookie else None
        return httpx.post(f"{server.url}/drafts/{page}", content=b"a long text", cookies=cookies).status_code

    assert post_draft(stranger) == post_draft(None) == 403
    assert post_draft(owner) == 204


# -- other sites' pages: no socket, no polling, no posts


def test_another_sites_page_can_open_no_socket_and_is_never_named_as_allowed(server):
    port = port_of(server)
    here = f"127.0.0.1:{port}"

    cookie, page = a_browser_with_a_page(server)  # the person's own page, open in their browser

    assert websocket_handshake(port, here, f"http://{here}", page, cookie) == 101
    for other_site in (f"http://{EVIL}", "null", f"http://127.0.0.1:{port + 1}", "file://"):
        assert websocket_handshake(port, here, other_site, page, cookie) == 403, other_site
    polling = (
        f"GET /_nicegui_ws/socket.io/?EIO=4&transport=polling&client_id={page} HTTP/1.1\r\n"
        f"Host: {here}\r\nCookie: chat_session={cookie}\r\n"
    )
    status, head = raw_request(port, polling + f"Origin: https://{EVIL}\r\nConnection: close\r\n\r\n")
    assert status == 403 and "access-control-allow-origin" not in head
    status, head = raw_request(port, polling + f"Origin: http://{here}\r\nConnection: close\r\n\r\n")
    assert status == 200 and EVIL not in head


def test_another_sites_page_cannot_post_to_the_api_or_a_draft(server):
    evil = {"Origin": f"http://{EVIL}", "Authorization": f"Bearer {API_KEY}"}

    assert httpx.post(server.url + "/api/chat", json={"message": "Hi"}, headers=evil).status_code == 403
    assert httpx.post(server.url + "/drafts/some-client", content=b"text", headers=evil).status_code == 403


# -- the API's door: key first, bounded bodies, short errors


def test_a_huge_body_without_a_key_is_refused_before_it_is_read(server):
    pid = server.process.pid
    before = rss_mib(pid)
    hundred_mib = b"x" * (100 * 1024 * 1024)
    statuses: list[object] = []

    def post() -> None:
        try:
            statuses.append(httpx.post(server.url + "/api/chat", content=hundred_mib, timeout=30).status_code)
        except httpx.TransportError as error:  # the server may answer and hang up while the body is still going
            statuses.append(type(error).__name__)

    started = time.monotonic()
    posts = [threading.Thread(target=post) for _ in range(4)]
    for thread in posts:
        thread.start()
    for thread in posts:
        thread.join()

    assert all(status in (401, "WriteError", "RemoteProtocolError", "ReadError") for status in statuses), statuses
    assert rss_mib(pid) - before < 50, "the bodies were read into memory"
    assert time.monotonic() - started < 20


def test_a_body_over_the_limit_is_a_413_even_with_a_key_and_without_a_length(server):
    pid = server.process.pid
    before = rss_mib(pid)
    headers = {"Authorization": f"Bearer {API_KEY}"}

    declared = httpx.post(server.url + "/api/chat", headers=headers, content=b"x" * (20 * 1024 * 1024), timeout=30)

    def chunks():
        for _ in range(100):
            yield b"x" * (1024 * 1024)

    try:
        streamed = httpx.post(server.url + "/api/chat", headers=headers, content=chunks(), timeout=30).status_code
    except httpx.TransportError:
        streamed = 413  # answered and hung up mid-body; what matters is the memory, below
    assert declared.status_code == 413 and declared.json()["error_code"] == "TOO_LARGE"
    assert streamed == 413
    assert rss_mib(pid) - before < 60


def test_errors_are_short_json_in_the_documented_shape(server):
    headers = {"Authorization": f"Bearer {API_KEY}"}
    huge_name = "m" * (10 * 1024 * 1024)

    unknown_model = httpx.post(
        server.url + "/api/chat", headers=headers, json={"message": "Hi", "model": huge_name}, timeout=30
    )
    no_route = httpx.get(server.url + "/api/no-such-route", headers=headers)
    wrong_method = httpx.get(server.url + "/api/chat", headers=headers)

    for response in (unknown_model, no_route, wrong_method):
        body = response.json()
        assert set(body) == {"error", "error_code"}, body
        assert len(response.content) < 1000
    assert unknown_model.status_code == 400 and no_route.status_code == wrong_method.status_code == 404


def test_wrong_api_keys_from_one_address_slow_down(tmp_path):
    with chat_app(tmp_path, CHAT_API_KEY=API_KEY) as server:
        statuses = [
            httpx.get(server.url + "/api/models", headers={"Authorization": f"Bearer guess-{n}"}) for n in range(12)
        ]
        right_key = httpx.get(server.url + "/api/models", headers={"Authorization": f"Bearer {API_KEY}"})

    assert [r.status_code for r in statuses[:10]] == [401] * 10
    assert statuses[11].status_code == 429 and statuses[11].json()["error_code"] == "RATE_LIMIT"
    assert int(statuses[11].headers["retry-after"]) >= 1
    assert right_key.status_code == 429, "while it waits, no key is tried at all"

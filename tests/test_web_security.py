"""The web server's defences, against a real uvicorn server: Host and Origin checks (DNS rebinding), the access token
of non-loopback binds, security headers on every response, bounded query parameters (4xx, never 500), HEAD."""

from __future__ import annotations

import httpx
import pytest

from databases import new_database
from influence_atlas.store import open_store
from test_web_api import running_server

PATHS = ("/", "/timeline", "/api/summary", "/api/documents", "/docs", "/openapi.json", "/static/app.js", "/nothing-here")


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    db = new_database(tmp_path_factory.mktemp("web-security"))
    open_store(db).close()
    return db


@pytest.fixture(scope="module")
def client(empty_db):
    with running_server(empty_db, allowed_hosts=("atlas.example.org",)) as base, \
            httpx.Client(base_url=base, timeout=30) as c:
        yield c


def test_foreign_host_header_is_refused(client):
    assert client.get("/api/summary").status_code == 200
    for host in ("evil.example.com", "attacker.test:8765", "127.0.0.1.evil.test", ""):
        r = client.get("/api/summary", headers={"Host": host})
        assert r.status_code == 421, (host, r.status_code)
        assert "documents" not in r.text
    assert client.get("/api/summary", headers={"Host": "localhost:9"}).status_code == 200
    assert client.get("/api/summary", headers={"Host": "atlas.example.org"}).status_code == 200


def test_cross_site_origin_is_refused(client):
    assert client.get("/api/summary", headers={"Origin": "https://evil.example.com"}).status_code == 403
    assert client.get("/api/summary", headers={"Origin": f"{client.base_url}".rstrip("/")}).status_code == 200


def test_every_response_carries_the_security_headers(client):
    for path in PATHS:
        for method in ("GET", "HEAD"):
            r = client.request(method, path)
            assert r.status_code in (200, 404), (method, path, r.status_code)
            h = r.headers
            assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY", path
            assert "content-security-policy" in h and "frame-ancestors 'none'" in h["content-security-policy"], path
            for name in ("permissions-policy", "cross-origin-opener-policy", "cross-origin-resource-policy", "cache-control",
                         "referrer-policy"):
                assert name in h, (path, name)
            if method == "HEAD":
                assert r.content == b""


@pytest.mark.parametrize("query", ["q=mali%00", "q=" + "mali " * 3000, "offset=9223372036854775807", "offset=-1",
                                   "limit=0", "limit=abc", "language=" + "x" * 100])
def test_malformed_parameters_get_a_4xx(client, query):
    r = client.get(f"/api/documents?{query}")
    assert 400 <= r.status_code < 500, (query, r.status_code)


def test_repeated_search_terms_cost_no_more_than_one(client):
    from influence_atlas.web.app import MAX_QUERY_TERMS, search_terms

    assert search_terms(" ".join(["wagner"] * 60) + " mali") == "wagner mali"
    assert len(search_terms(" ".join(f"t{i}" for i in range(80))).split()) == MAX_QUERY_TERMS
    r = client.get("/api/documents", params={"q": " ".join(["wagner"] * 60)})
    assert r.status_code == 200


def test_token_is_required_off_loopback(empty_db):
    with running_server(empty_db, token="s3cret-token") as base, httpx.Client(base_url=base, timeout=30) as c:
        assert c.get("/api/summary").status_code == 401
        assert c.get("/api/summary", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/summary", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        signed = c.get("/timeline?token=s3cret-token")
        assert signed.status_code == 303 and signed.headers["location"] == "/timeline"
        assert "HttpOnly" in signed.headers["set-cookie"] and "SameSite=Strict" in signed.headers["set-cookie"]
        assert c.get("/api/summary").status_code == 200  # the cookie now rides along

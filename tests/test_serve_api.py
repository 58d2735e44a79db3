"""`searchkit serve`'s JSON API (issue #15), in process: the same answers as the CLI's
--json, errors as 400/404 with a message, and the security rules (Host header, only
GET, no path out of the indexed folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from searchkit import Index
from searchkit.cli import cli
from searchkit.server import host_name, is_loopback, make_app

from .conftest import SEED, write

HOSTILE_TITLE = "<img src=x onerror=window.__pwned=1>"


@pytest.fixture
def client(indexed: Index, isolated_index: Path) -> TestClient:
    return TestClient(make_app(isolated_index, "127.0.0.1"), base_url="http://127.0.0.1:8000")


def cli_json(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("params", "options"),
    [
        ({"q": "好莱坞 罢工"}, []),
        ({"q": "AI", "limit": "3", "offset": "2"}, ["--limit", "3", "--offset", "2"]),
        ({"q": "AI", "sort": "-date", "facets": "tag,year"}, ["--sort", "-date", "--facets", "tag,year"]),
        ({"q": "tag:AI", "sort": "title", "facets": "author,source"}, ["--sort", "title", "--facets", "author,source"]),
        ({"q": "Clau", "prefix": "1"}, ["--prefix"]),
        ({"q": "卡梅隆 OR 区块链", "fields": "author,source,url"}, ["--fields", "author,source,url"]),
        ({"q": "没有这个词的笔记xyz"}, []),
        ({"q": "AI", "limit": "0", "facets": "tag"}, ["--limit", "0", "--facets", "tag"]),
    ],
)
def test_search_answers_as_the_cli_json(client: TestClient, params: dict[str, str], options: list[str]) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200
    answer = response.json()
    took = answer.pop("took_ms")
    assert isinstance(took, float) and took >= 0
    assert answer == cli_json("query", params["q"], "--json", *options)


def test_related_answers_as_the_cli_json(client: TestClient) -> None:
    response = client.get("/api/related", params={"path": SEED, "limit": "3"})
    assert response.status_code == 200
    assert response.json() == cli_json("related", SEED, "--limit", "3", "--json")


def test_a_document_comes_with_its_fields_text_and_the_ranges_the_query_matches(client: TestClient) -> None:
    document = client.get("/api/document", params={"path": SEED, "q": "好莱坞 罢工"}).json()
    assert document["title"].startswith("詹姆斯 · 卡梅隆")
    assert document["date"] == "2024-09-25" and "AI" in document["tags"]
    assert not document["text"].startswith("---")  # the frontmatter is shown as fields
    marked = {document["text"][start:end] for start, end in document["matches"]}
    assert marked == {"好莱坞", "罢工"}
    assert document["obsidian"] is None and document["file"].endswith(SEED)
    plain = client.get("/api/document", params={"path": SEED}).json()
    assert plain["matches"] == [] and plain["text"] == document["text"]


def test_an_obsidian_vault_gets_an_obsidian_link(vault: Path, isolated_index: Path) -> None:
    (vault / ".obsidian").mkdir()
    Index(isolated_index).update(vault)
    client = TestClient(make_app(isolated_index, "127.0.0.1"), base_url="http://127.0.0.1:8000")
    link = client.get("/api/document", params={"path": SEED}).json()["obsidian"]
    assert link.startswith("obsidian://open?vault=vault&file=01-%E5%8D%9A%E5%AE%A2%2F")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"q": '"好莱坞'}, "unclosed quote"),
        ({"q": "foo:bar"}, "unknown field"),
        ({"q": ""}, "give a query"),
        ({"q": "AI", "limit": "ten"}, "limit"),
        ({"q": "AI", "limit": "-1"}, "limit"),
        ({"q": "AI", "offset": "-3"}, "offset"),
        ({"q": "AI", "sort": "newest"}, "sort"),
        ({"q": "AI", "facets": "colour"}, "unknown facet"),
        ({"q": "AI", "fields": "secret"}, "fields"),
    ],
)
def test_a_bad_request_is_a_400_with_a_message(client: TestClient, params: dict[str, str], words: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    assert words in response.json()["error"]


def test_an_unknown_path_is_a_404(client: TestClient) -> None:
    for endpoint in ("/api/document", "/api/related"):
        response = client.get(endpoint, params={"path": "00-元语/没有这篇.md"})
        assert response.status_code == 404 and "not a document" in response.json()["error"]
    assert client.get("/api/nothing").status_code == 404
    assert client.get("/static/../searchkit/api.py").status_code == 404


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.evil.example", "", "[::2]"])
def test_a_request_for_another_host_is_refused(client: TestClient, host: str) -> None:
    response = client.get("/api/search", params={"q": "AI"}, headers={"host": host})
    assert response.status_code == 403
    assert client.get("/", headers={"host": host}).status_code == 403


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:1234", "[::1]:8000", "LOCALHOST"])
def test_loopback_names_are_served_on_any_port(client: TestClient, host: str) -> None:
    assert client.get("/api/search", params={"q": "AI"}, headers={"host": host}).status_code == 200


def test_only_get_is_allowed(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = client.request(method, "/api/search?q=AI")
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


def test_every_answer_has_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/static/app.js", "/api/search?q=AI", "/api/document?path=x", "/nothing"):
        response = client.get(path)
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers["x-content-type-options"] == "nosniff"
    page = client.get("/").text
    assert "http://" not in page and "https://" not in page  # nothing loaded from elsewhere


@pytest.mark.parametrize(
    "path",
    [
        "../outside.md",
        "00-元语/../../outside.md",
        "/etc/passwd",
        "./00-元语/Claude Code.md",
        "00-元语//Claude Code.md",
        "00-元语\\..\\..\\outside.md",
        "C:/Windows/win.ini",
        "%2e%2e/outside.md",
        "00-元语/Claude Code.md\x00",
    ],
)
def test_no_path_reaches_out_of_the_indexed_folder(client: TestClient, vault: Path, path: str) -> None:
    write(vault.parent / "outside.md", "# 外面\n\n秘密")
    for endpoint in ("/api/document", "/api/related"):
        response = client.get(endpoint, params={"path": path})
        assert 400 <= response.status_code < 500
        assert "秘密" not in response.text


def test_encoded_dots_in_the_raw_url_are_refused(client: TestClient, vault: Path) -> None:
    write(vault.parent / "outside.md", "# 外面\n\n秘密")
    for raw in ("/api/document?path=%2e%2e%2foutside.md", "/api/document?path=%252e%252e%252foutside.md"):
        response = client.get(raw)
        assert 400 <= response.status_code < 500 and "秘密" not in response.text


def test_a_document_replaced_by_a_symlink_out_of_the_folder_is_not_read(
    client: TestClient, vault: Path
) -> None:
    secret = write(vault.parent / "secret.md", "# 秘密\n\n银行密码")
    note = vault / SEED
    note.unlink()
    os.symlink(secret, note)
    for endpoint in ("/api/document", "/api/related"):
        response = client.get(endpoint, params={"path": SEED})
        assert response.status_code == 404 and "银行密码" not in response.text


def test_a_hostile_title_is_data_in_the_json(vault: Path, isolated_index: Path) -> None:
    write(vault / "hostile.md", f"---\ntitle: '{HOSTILE_TITLE}'\n---\n\n恶意标题测试 <script>alert(1)</script>")
    Index(isolated_index).update(vault)
    client = TestClient(make_app(isolated_index, "127.0.0.1"), base_url="http://127.0.0.1:8000")
    response = client.get("/api/search", params={"q": "恶意标题测试"})
    assert response.headers["content-type"] == "application/json"
    assert response.json()["hits"][0]["title"] == HOSTILE_TITLE


def test_loopback_and_host_names() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")
    assert host_name("[::1]:8000") == "[::1]" and host_name("LocalHost:80") == "localhost"
    assert host_name("localhost.evil.example") == "localhost.evil.example"


def test_serving_without_an_index_or_a_folder_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "none"), "--port", "0"])
    assert result.exit_code == 1
    assert "no index at" in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output

"""Articles by URL and from feeds, against a real HTTP server on 127.0.0.1 that the tests start
(pages, an RSS and an Atom feed, a slow page, a redirect loop, a 30 MB page, a binary): added
articles answer questions right away, a re-sync adds nothing twice, bad URLs get one line and
write nothing, and a private address is refused unless allowed."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.feeds import FeedStore, add_feed, sync_feeds
from assistant.fetch import FetchPolicy, fetch
from assistant.web_articles import add_urls
from corpus.errors import ArticleError, AssistantError
from corpus.loaders import load_corpus

pytestmark = pytest.mark.slow


def _page(title: str, site: str, date: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{title} | {site}</title><meta property='og:site_name' content='{site}'>"
        f"<meta property='og:title' content='{title}'><meta name='date' content='{date}'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/about'>About us</a> <a href='/subscribe'>Subscribe</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer>Share this post. Related articles. Copyright 2026 Example Media.</footer></body></html>"
    ).encode()


PAGES = {
    "/zig.html": _page("Zig in 2026", "Systems Weekly", "2026-05-04", [
        "Zig's comptime lets libraries generate specialised code at compile time without a macro language.",
        "Bun, the JavaScript runtime, is written in Zig and starts in a few milliseconds on a laptop.",
        "TigerBeetle, a financial transactions database, allocates all of its memory statically at start-up with Zig.",
    ]),
    "/elixir.html": _page("Elixir in 2026", "Functional Times", "2026-06-10", [
        "Phoenix LiveView pushes server-rendered updates to the browser over websockets.",
        "The BEAM virtual machine keeps millions of lightweight processes alive, each with its own heap.",
        "Discord scaled its chat service to eleven million concurrent users on Elixir.",
    ]),
    "/gleam.html": _page("Gleam in 2026", "Functional Times", "2026-07-01", [
        "Gleam brings static types to the BEAM and compiles to both Erlang and JavaScript.",
        "Its compiler, written in Rust, reports type errors with friendly explanations and suggested fixes.",
        "Lustre is a Gleam web framework modelled on the Elm architecture.",
    ]),
    "/odin.html": _page("Odin in 2026", "Systems Weekly", "2026-08-15", [
        "Odin is a data-oriented systems language with built-in support for structure-of-arrays layouts.",
        "JangaFX builds its real-time visual effects tools, EmberGen among them, in Odin.",
        "Odin ships vendor bindings for Vulkan, Metal and DirectX in its standard distribution.",
    ]),
}
TEXT = "Nim in 2026\n\nNim compiles to C and reaches C speed with a syntax close to Python's.\n\nThe Nimble package manager installs libraries straight from git repositories.\n"


def _rss(base: str) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>{base}{p}</link><guid>{base}{p}#id</guid><pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate></item>"
        for t, p in (("Elixir in 2026", "/elixir.html"), ("Gleam in 2026", "/gleam.html"))
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Functional Times</title><link>{base}/</link><description>x</description>{items}</channel></rss>".encode()


def _atom(base: str) -> bytes:
    entries = "".join(
        f"<entry><title>{t}</title><id>urn:example:{p}</id><link href='{base}{p}'/><updated>2026-08-15T10:00:00Z</updated></entry>"
        for t, p in (("Odin in 2026", "/odin.html"), ("Zig in 2026 (again)", "/zig.html"))
    )
    return f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Systems Weekly</title><id>urn:sw</id><updated>2026-08-15T10:00:00Z</updated>{entries}</feed>".encode()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        path = self.path
        self.server.hits.append(path)  # type: ignore[attr-defined]
        if path in PAGES:
            self._send(200, "text/html; charset=utf-8", PAGES[path])
        elif path == "/crystal.pdf":
            from test_bad_input import make_pdf

            lines = ["Crystal in 2026", "", "Crystal compiles Ruby-like code to native binaries through LLVM.",
                     "Its fibers and channels give concurrency without callbacks."]
            self._send(200, "application/pdf", make_pdf(lines))
        elif path == "/nim.txt":
            self._send(200, "text/plain; charset=utf-8", TEXT.encode())
        elif path == "/rss.xml":
            self._send(200, "application/rss+xml", _rss(base))
        elif path == "/atom.xml":
            self._send(200, "application/atom+xml", _atom(base))
        elif path == "/moved":
            self._send(302, "text/html", b"", {"Location": "/zig.html"})
        elif path == "/loop":
            self._send(302, "text/html", b"", {"Location": "/loop"})
        elif path == "/to-file":
            self._send(302, "text/html", b"", {"Location": "file:///etc/passwd"})
        elif path == "/slow.html":
            time.sleep(3)
            self._send(200, "text/html", PAGES["/zig.html"])
        elif path == "/big.html":  # 30 MB, no Content-Length: only reading shows the size
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n"
            try:
                for _ in range(30):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif path == "/image.png":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
        elif path == "/binary.html":
            self._send(200, "text/html", b"\x00\x01\x02" + bytes(range(256)) * 40)
        else:
            self._send(404, "text/html", b"<p>not here</p>")


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, address: None  # a client that hung up (slow, big pages): not news
    httpd.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def assistant(tiny_corpus: Path, settings_for, real_embedder) -> Assistant:
    a = Assistant.from_settings(settings_for(tiny_corpus), embedder=real_embedder)
    a.index()
    return a


@pytest.fixture(scope="module")
def unchanged_assistant(tmp_path_factory, real_embedder) -> Assistant:
    """One indexed collection for the tests that must leave it as it is (saves an index each)."""
    from assistant.settings import Settings

    from conftest import write_article

    root = tmp_path_factory.mktemp("bad-urls")
    (root / "corpus").mkdir()
    write_article(root / "corpus", "go.md", "Go in 2026", "## Concurrency\n\nGoroutines and channels make concurrent programs simple.")
    a = Assistant.from_settings(Settings(corpus_dir=root / "corpus", data_dir=root / "data"), embedder=real_embedder)
    a.index()
    return a


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


LOCAL = FetchPolicy(allow_private=True, read_timeout=1.0, total_timeout=5.0)


def test_add_url_saves_article_with_metadata_and_answers_from_it_right_after(server, assistant: Assistant):
    _, base = server
    report = add_urls(assistant, [f"{base}/zig.html", f"{base}/nim.txt", f"{base}/crystal.pdf"], allow_private=True)
    assert [o.saved_as for o in report.outcomes] == ["zig-in-2026.md", "nim-in-2026.md", "crystal-in-2026.md"], report.outcomes
    assert report.index is not None and report.index.added == 3
    saved = (Path(assistant.settings.corpus_dir) / "zig-in-2026.md").read_text(encoding="utf-8")
    assert saved.startswith("---\ntitle: Zig in 2026\npublisher: Systems Weekly\ndate: '2026-05-04'\n")
    assert f"url: {base}/zig.html" in saved and "Subscribe" not in saved and "Related articles" not in saved
    article = next(a for a in load_corpus(assistant.settings.corpus_dir).articles if a.source == "zig-in-2026.md")
    assert (article.title, article.publisher, article.date, article.url) == ("Zig in 2026", "Systems Weekly", "2026-05-04", f"{base}/zig.html")
    answer = assistant.ask("Which database allocates all of its memory statically?")
    assert not answer.refused and "TigerBeetle" in answer.text
    cited = answer.citations[0]
    assert cited.source == "zig-in-2026.md" and cited.url == f"{base}/zig.html"
    answer = assistant.ask("What does Nimble install libraries from?")
    assert not answer.refused and answer.citations[0].source == "nim-in-2026.md"
    assert answer.citations[0].url == f"{base}/nim.txt"
    answer = assistant.ask("What does Crystal compile through?")
    assert not answer.refused and answer.citations[0].source == "crystal-in-2026.md"
    assert answer.citations[0].url == f"{base}/crystal.pdf"


def test_add_same_url_twice_or_by_a_redirect_saves_it_once(server, assistant: Assistant):
    _, base = server
    first = add_urls(assistant, [f"{base}/zig.html"], allow_private=True)
    before = _files(Path(assistant.settings.corpus_dir))
    again = add_urls(assistant, [f"{base}/zig.html", f"{base}/moved"], allow_private=True)
    assert first.saved == ("zig-in-2026.md",)
    assert again.saved == () and all("already in the collection" in o.message for o in again.outcomes)
    assert again.index is None and _files(Path(assistant.settings.corpus_dir)) == before


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/slow.html", "did not answer in time"),
        ("/loop", "more than 5 redirects"),
        ("/big.html", "over the 20,971,520-byte limit"),
        ("/image.png", "content type image/png is not an article"),
        ("/binary.html", "no article text"),
        ("/missing.html", "HTTP 404"),
        ("/to-file", "only http:// and https://"),
    ],
)
def test_bad_url_gives_one_line_and_writes_nothing(server, unchanged_assistant: Assistant, path: str, expected: str):
    _, base = server
    assistant = unchanged_assistant
    chunks = assistant.status()["chunks"]
    corpus = Path(assistant.settings.corpus_dir)
    before = _files(corpus)
    started = time.monotonic()
    report = add_urls(assistant, [base + path], policy=FetchPolicy(allow_private=True, read_timeout=1.0, total_timeout=5.0, max_bytes=assistant.settings.max_file_bytes))
    (outcome,) = report.outcomes
    assert not outcome.ok and expected in outcome.message and "\n" not in outcome.message, outcome.message
    assert outcome.message.startswith(base + path)
    assert report.index is None and _files(corpus) == before and assistant.status()["chunks"] == chunks
    assert time.monotonic() - started < 8


@pytest.mark.parametrize("url", ["ftp://example.com/a.html", "file:///etc/passwd", "http://user:secret@127.0.0.1/", "not a url", "http:///x"])
def test_fetch_of_non_web_address_is_refused_before_any_connection(url: str):
    with pytest.raises(ArticleError) as caught:
        fetch(url, LOCAL)
    assert "\n" not in str(caught.value) and "nothing fetched" in str(caught.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "10.1.2.3", "169.254.169.254", "192.168.0.10", "[fd00::1]", "[::ffff:127.0.0.1]", "0.0.0.0"])
def test_private_address_is_refused_without_allow_private(server, host: str):
    httpd, base = server
    port = httpd.server_address[1]
    hits = len(httpd.hits)
    with pytest.raises(ArticleError, match="private, loopback or link-local address; refused"):
        fetch(f"http://{host}:{port}/zig.html", FetchPolicy(connect_timeout=1))
    assert len(httpd.hits) == hits  # no request reached the server


def test_add_cli_reports_each_bad_url_on_one_line_and_saves_the_good_one(server, tiny_corpus: Path, tmp_path: Path, capsys):
    from assistant.cli import main

    _, base = server
    args = ["--corpus", str(tiny_corpus), "--data", str(tmp_path / "cli-data")]
    with pytest.raises(SystemExit) as refused:
        main(["add", f"{base}/gleam.html", *args])  # no --allow-private: refused
    assert refused.value.code == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "private, loopback or link-local" in out.err
    assert not (tiny_corpus / "gleam-in-2026.md").exists()
    with pytest.raises(SystemExit) as partly:
        main(["add", f"{base}/gleam.html", f"{base}/image.png", "gopher://x", "--allow-private", *args])
    assert partly.value.code == 1
    out = capsys.readouterr()
    assert f"{base}/gleam.html: saved as gleam-in-2026.md" in out.out and "4 added" in out.out  # the three articles and the page
    errors = out.err.strip().split("\n")
    assert len(errors) == 2 and errors[0].startswith(f"error: {base}/image.png: content type image/png")
    assert errors[1].startswith("error: gopher://x: only http://")
    assert (tiny_corpus / "gleam-in-2026.md").exists()


def test_feeds_sync_takes_new_entries_once_and_a_failing_feed_does_not_stop_the_others(server, assistant: Assistant):
    httpd, base = server
    store = FeedStore.of(assistant.settings.data_dir)
    add_urls(assistant, [f"{base}/zig.html"], allow_private=True)  # the Atom feed lists it too
    feed, entries = add_feed(store, f"{base}/rss.xml", LOCAL)
    assert (feed.title, entries) == ("Functional Times", 2)
    add_feed(store, f"{base}/atom.xml", LOCAL)
    with pytest.raises(AssistantError, match="already followed"):
        add_feed(store, f"{base}/rss.xml", LOCAL)
    with pytest.raises(ArticleError, match="not an RSS or Atom feed"):
        add_feed(store, f"{base}/gleam.html", LOCAL)
    gone = f"{base}/gone.xml"
    with store.locked() as state:  # a feed that worked once and now fails
        from assistant.feeds import Feed

        state.feeds.append(Feed(gone, "Gone"))
    first = sync_feeds(assistant, store, LOCAL)
    by_url = {f.url: f for f in first.feeds}
    assert set(by_url[f"{base}/rss.xml"].saved) == {"elixir-in-2026.md", "gleam-in-2026.md"}
    assert by_url[f"{base}/atom.xml"].saved == ("odin-in-2026.md",)
    assert any("already in the collection" in p for p in by_url[f"{base}/atom.xml"].problems)
    assert "HTTP 404" in by_url[gone].error and first.failed
    assert first.index is not None and first.index.added == 3
    answer = assistant.ask("Which company builds EmberGen?")
    assert not answer.refused and answer.citations[0].source == "odin-in-2026.md"
    files = _files(Path(assistant.settings.corpus_dir))
    page_hits = sum(h.endswith(".html") for h in httpd.hits)
    again = sync_feeds(assistant, store, LOCAL)
    assert again.saved == () and again.index is None
    assert {f.url: f.seen for f in again.feeds if not f.error} == {f"{base}/rss.xml": 2, f"{base}/atom.xml": 2}
    assert sum(h.endswith(".html") for h in httpd.hits) == page_hits  # no entry page fetched again
    assert _files(Path(assistant.settings.corpus_dir)) == files
    assert "Gone: failed:" in "\n".join(again.lines())


def test_cited_fetched_article_links_its_url_in_the_window_and_the_cli(server, assistant: Assistant, capsys):
    from assistant.cli import _render
    from ui.render import sources_html

    _, base = server
    add_urls(assistant, [f"{base}/zig.html"], allow_private=True)
    answer = assistant.ask("Which database allocates all of its memory statically?")
    panel = sources_html(answer)
    assert f'<a href="{base}/zig.html" target="_blank" rel="noopener noreferrer nofollow">Zig in 2026</a>' in panel
    assert f"      {base}/zig.html" in _render(answer).split("\n")
    assert answer.to_dict()["citations"][0]["url"] == f"{base}/zig.html"
    hostile = Path(assistant.settings.corpus_dir) / "hostile.md"
    hostile.write_text('---\ntitle: "Pony in 2026"\nurl: "javascript:alert(1)"\n---\n\nPony actors share memory safely through reference capabilities.\n', encoding="utf-8")
    assistant.index()
    answer = assistant.ask("How do Pony actors share memory safely?")
    assert answer.citations[0].source == "hostile.md"
    assert "<a " not in sources_html(answer) and "javascript:" not in sources_html(answer)


def test_window_url_box_refuses_private_addresses_in_one_line_and_adds_public_ones(server, assistant: Assistant):
    from ui.arrivals import MAX_URLS, add_urls_view

    _, base = server
    corpus = Path(assistant.settings.corpus_dir)
    before = _files(corpus)
    view = add_urls_view(assistant, f"{base}/gleam.html")  # the window never fetches from private addresses
    assert "private, loopback or link-local address; refused" in view.result and view.result.count("<li") == 1
    assert _files(corpus) == before and "3 articles" in view.status
    too_many = add_urls_view(assistant, " ".join(f"https://example.com/{i}" for i in range(MAX_URLS + 1)))
    assert "at most 10 at a time" in too_many.result and _files(corpus) == before
    # the same view with private addresses allowed (what a local server needs) saves and indexes
    added = add_urls_view(assistant, f"{base}/gleam.html\n{base}/image.png", allow_private=True)
    assert "saved as gleam-in-2026.md" in added.result and "content type image/png" in added.result
    assert "4 articles" in added.status and ("Gleam in 2026", "gleam-in-2026.md") in added.choices


def test_window_status_and_article_list_follow_a_watcher_reindex_without_a_reload(tiny_corpus: Path, settings_for, real_embedder):
    """``assistant ui --watch``: a file dropped into the folder shows in the open page's status line."""
    from playwright.sync_api import sync_playwright

    from assistant.watch import WatchOptions, watch_corpus
    from conftest import free_port, write_article
    from ui.app import build_app, launch_options

    assistant = Assistant.from_settings(settings_for(tiny_corpus), embedder=real_embedder)
    assistant.index()
    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    stop = threading.Event()
    watcher = threading.Thread(target=watch_corpus, args=(assistant, WatchOptions(quiet_ms=300, settle_s=0.2), stop), daemon=True)
    watcher.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"], headless=True)
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function("document.querySelector('#status') && document.querySelector('#status').innerText.includes('3 articles')", timeout=30_000)
                write_article(tiny_corpus, "zig.md", "Zig in 2026", "## Comptime\n\nZig's comptime generates code at compile time.")
                page.wait_for_function("document.querySelector('#status').innerText.includes('4 articles')", timeout=30_000)
                # the URL box: a private address is refused with one line, nothing saved
                box = page.locator("#add-url textarea")
                if not box.is_visible():
                    page.get_by_text("Add articles").click()
                box.fill("http://127.0.0.1:9/page.html")
                box.press("Enter")
                page.wait_for_selector("#upload-result li.refused", timeout=30_000)
                assert "private, loopback or link-local" in page.inner_text("#upload-result")
            finally:
                browser.close()
    finally:
        stop.set()
        watcher.join(timeout=30)
        app.close()
    assert {a for a, _ in assistant.articles()} == {"go.md", "rust.md", "python.md", "zig.md"}


def test_international_address_is_fetched_in_its_ascii_form():
    from assistant.fetch import check_url

    assert check_url(" https://bücher.example/straße?q=ä ") == "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A4"
    assert check_url("https://example.com/a%20b?x=1") == "https://example.com/a%20b?x=1"


def test_feeds_commands_follow_list_sync_and_resync_without_duplicates(server, tiny_corpus: Path, tmp_path: Path, capsys):
    from assistant.cli import main

    _, base = server
    args = ["--corpus", str(tiny_corpus), "--data", str(tmp_path / "feeds-data")]
    with pytest.raises(SystemExit) as none:
        main(["feeds", "sync", *args])
    assert none.value.code == 1 and capsys.readouterr().err == "error: no feeds followed; add one with `assistant feeds add URL`\n"
    main(["feeds", "add", f"{base}/rss.xml", "--allow-private", *args])
    main(["feeds", "list", *args])
    out = capsys.readouterr().out.splitlines()
    assert out == ["following Functional Times (2 entries); `assistant feeds sync` takes them", f"{base}/rss.xml  Functional Times"]
    main(["feeds", "sync", "--allow-private", *args])
    out = capsys.readouterr().out
    assert "Functional Times: 2 new articles, 0 already taken" in out and "saved elixir-in-2026.md" in out and "5 added" in out
    main(["feeds", "sync", "--allow-private", *args])
    assert capsys.readouterr().out.splitlines() == ["Functional Times: 0 new articles, 2 already taken"]
    with pytest.raises(SystemExit) as private:
        main(["feeds", "sync", *args])  # without --allow-private the local feed is refused, on one line
    assert private.value.code == 1
    assert "Functional Times: failed:" in capsys.readouterr().out

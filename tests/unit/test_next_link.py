"""The Link header of a list page: the URL Starlette's `request.url.include_query_params(cursor=...)`
writes, for any path, query string, host and root path."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import Response

from app.http import set_next_link

# What a header can carry (latin-1), less tab, CR and LF, which a request line cannot hold (and URL parsing
# drops).
path_characters = st.characters(max_codepoint=255, exclude_characters="\t\r\n")
query_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
query_pairs = st.lists(
    st.tuples(st.sampled_from(["status", "cursor", "limit", "code", "x y", "é"]) | query_text, query_text),
    max_size=5,
)
hosts = st.sampled_from(
    [None, b"testserver", b"api.example.nl:8443", b"[::1]:8000", b"bad host:x", b"example.nl:99999"]
)


def request_for(path: str, query_string: bytes, host: bytes | None, root_path: str, scheme: str) -> Request:
    headers = [(b"host", host)] if host is not None else []
    return Request(
        {
            "type": "http",
            "scheme": scheme,
            "method": "GET",
            "server": ("127.0.0.1", 8000),
            "path": root_path + path,
            "root_path": root_path,
            "query_string": query_string,
            "headers": headers,
        }
    )


@settings(max_examples=500)
@given(
    path=st.sampled_from(["/api/v1/deadlines", "/api/v1/cases"])
    | st.text(path_characters, min_size=1, max_size=10).map("/{}".format),
    pairs=query_pairs,
    raw_tail=st.sampled_from(["", "&", "&flag", "&a=%ZZ", "&b=%C3%A9", "&c=1+2"]),
    host=hosts,
    root_path=st.sampled_from(["", "/poortwachter"]),
    scheme=st.sampled_from(["http", "https"]),
    cursor=st.text(st.sampled_from("ABCxyz019-_"), min_size=1, max_size=20),
)
def test_the_next_link_is_the_url_starlette_writes(
    path: str,
    pairs: list[tuple[str, str]],
    raw_tail: str,
    host: bytes | None,
    root_path: str,
    scheme: str,
    cursor: str,
) -> None:
    from urllib.parse import urlencode

    query_string = (urlencode(pairs) + raw_tail).lstrip("&").encode()
    request = request_for(path, query_string, host, root_path, scheme)
    response = Response()
    set_next_link(request, response, cursor)
    assert response.headers["link"] == f'<{request.url.include_query_params(cursor=cursor)}>; rel="next"'


def test_the_last_page_has_no_link() -> None:
    response = Response()
    set_next_link(request_for("/api/v1/cases", b"limit=5", b"testserver", "", "http"), response, None)
    assert "link" not in response.headers

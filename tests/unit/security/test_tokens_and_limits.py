"""Operator tokens from configuration, token hashing, the per-token rate limiter, the body-size limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from palmares_submission import auth
from palmares_submission.body_limit import BodySizeLimit
from palmares_submission.ratelimit import MovingWindows, TokenRateLimiter, parse_limits
from palmares_submission.settings import SubmissionSettings
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

OPERATOR_ENV = ("OPERATOR_TOKEN", "OPERATOR_TOKENS", "OPERATOR_TOKENS_FILE", "PALMARES_RATE_LIMIT")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in OPERATOR_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_operator_tokens_from_every_source(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tokens_file = tmp_path / "operators"
    tokens_file.write_text("# one token per operator\nop_from-the-file-aaaa  # Alice\n\nop_from-the-file-bbbb\n")
    env.setenv("OPERATOR_TOKEN", "op_the-legacy-one-000")
    env.setenv("OPERATOR_TOKENS", " op_listed-one-11111 , op_listed-two-22222,")
    env.setenv("OPERATOR_TOKENS_FILE", str(tokens_file))
    assert SubmissionSettings().operator_secrets() == (
        "op_the-legacy-one-000",
        "op_listed-one-11111",
        "op_listed-two-22222",
        "op_from-the-file-aaaa",
        "op_from-the-file-bbbb",
    )


def test_operator_token_alone_still_works(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPERATOR_TOKEN", "op_the-legacy-one-000")
    assert SubmissionSettings().operator_secrets() == ("op_the-legacy-one-000",)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "no operator token"),
        ({"OPERATOR_TOKEN": "   "}, "no operator token"),
        ({"OPERATOR_TOKENS": "op_long-enough-token-1,short"}, "at least 16 characters"),
        ({"OPERATOR_TOKEN": "op_long-enough-token-1", "PALMARES_RATE_LIMIT": "beaucoup"}, "PALMARES_RATE_LIMIT"),
    ],
)
def test_bad_operator_configuration_fails_at_start_up(
    env: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        SubmissionSettings()


def test_is_operator_checks_every_configured_token() -> None:
    tokens = ("op_first-operator-000", "op_second-operator-00")
    assert auth.is_operator("op_second-operator-00", tokens)
    assert auth.is_operator("op_first-operator-000", tokens)
    assert not auth.is_operator("op_second-operator-0", tokens)
    assert not auth.is_operator("", tokens)
    assert not auth.is_operator("op_first-operator-000", ())
    assert not auth.is_operator("\ud800", tokens)  # not encodable: still just "no"


def test_collectivite_tokens_are_random_and_stored_hashed() -> None:
    tokens = {auth.new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert token.startswith("pal_") and len(token) >= 4 + 43
    assert auth.hash_token(token) != token.encode() and len(auth.hash_token(token)) == 32
    assert token not in auth.token_key(token) and auth.token_key(token) == auth.token_key(token)


async def test_rate_limit_per_token_with_retry_after() -> None:
    limiter = TokenRateLimiter("3/minute", "")
    key_a, key_b = auth.token_key("pal_a"), auth.token_key("pal_b")
    assert [await limiter.retry_after(key_a, operator=False) for _ in range(3)] == [None, None, None]
    wait = await limiter.retry_after(key_a, operator=False)
    assert wait is not None and 1 <= wait <= 60
    assert await limiter.retry_after(key_b, operator=False) is None  # another token has its own budget
    # Operators are not limited unless configured.
    assert all([await limiter.retry_after(key_a, operator=True) is None for _ in range(10)])


async def test_operator_rate_limit_and_several_windows() -> None:
    limiter = TokenRateLimiter("", "2/second; 3/hour")
    key = auth.token_key("op_x")
    assert await limiter.retry_after(key, operator=True) is None
    assert await limiter.retry_after(key, operator=True) is None
    first = await limiter.retry_after(key, operator=True)
    assert first == 1  # the per-second window
    assert await limiter.retry_after(key, operator=False) is None  # collectivités: no limit configured


def _echo_app(max_bytes: int) -> Any:
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"received": len(body)})

    return BodySizeLimit(Starlette(routes=[Route("/", echo, methods=["POST", "GET"])]), max_bytes=max_bytes)


async def test_body_size_limit() -> None:
    transport = httpx.ASGITransport(app=_echo_app(1024))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post("/", content=b"x" * 1024)).json() == {"received": 1024}
        assert (await client.get("/")).json() == {"received": 0}
        too_big = await client.post("/", content=b"x" * 1025)
        assert too_big.status_code == 413
        assert too_big.json()["detail"][0] == {
            "field": "body",
            "message": "au plus 1\u202f024\u00a0octets",
            "type": "body_too_large",
        }

        async def chunks() -> Any:  # no Content-Length: counted as it arrives
            for _ in range(5):
                yield b"y" * 300

        assert (await client.post("/", content=chunks())).status_code == 413
        lying = await client.post("/", content=b"z" * 10, headers={"content-length": "999999"})
        assert lying.status_code == 413  # refused on the declared length, unread
        assert json.loads(lying.content)["error"].startswith("Requête trop volumineuse")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_moving_window_allows_again_when_the_oldest_hit_leaves_it() -> None:
    clock = _Clock()
    windows = MovingWindows(parse_limits("3/minute"), clock)
    assert [windows.hit("a") for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert windows.hit("a") == 40.0  # the first hit leaves the window in 40 s
    assert windows.hit("b") is None  # another key has its own window
    clock.now += 40  # a minute after the first three: they all left the window
    assert [windows.hit("a") for _ in range(3)] == [None, None, None]
    assert windows.hit("a") == 60.0


def test_a_refused_hit_is_not_counted_in_any_window() -> None:
    clock = _Clock()
    windows = MovingWindows(parse_limits("1/second; 2/hour"), clock)
    assert windows.hit("k") is None
    assert windows.hit("k") == 1.0  # refused by the per-second window: the hour still holds one hit
    clock.now += 1
    assert windows.hit("k") is None
    clock.now += 1
    assert windows.hit("k") == 3598.0  # the hour is full: its first hit leaves it in 3598 s


def test_idle_keys_are_swept_away() -> None:
    clock = _Clock()
    windows = MovingWindows(parse_limits("5/minute"), clock)
    for i in range(1023):
        windows.hit(f"old-{i}")
    clock.now += 61
    windows.hit("new")  # the table reached its sweep size: every idle key goes
    assert len(windows._hits) == 1

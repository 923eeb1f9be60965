"""CPU to read (accept or refuse) a hostile 1 MiB webhook body, per shape.

Each shape is a body of about 1 MiB (the route's limit). For each, the CPU time of
`webhooks.forms.parse_body` (what the intake runs before anything else) is measured, and,
for form bodies, of `urllib.parse.parse_qsl` on the same bytes in the same run, the
baseline: the standard library's reading of a form, which checks nothing. Where the body
parses, the webhook schema's validation is timed as well (`FlexbeEvent.model_validate`).
The target: every shape under ~50 ms of CPU in all.

    .venv/bin/python bench/hostile_forms.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webhooks.body import MAX_BODY_BYTES  # noqa: E402
from webhooks.events import FlexbeEvent  # noqa: E402
from webhooks.forms import FormError, encode_form, parse_body  # noqa: E402

SIZE = MAX_BODY_BYTES
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def fill(unit: bytes, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """`prefix`, `unit` repeated, `suffix`: SIZE bytes at most."""
    room = SIZE - len(prefix) - len(suffix)
    return prefix + unit * (room // len(unit)) + suffix


def realistic_form() -> bytes:
    """A lead whose 2,000 fields (the cap) fill most of 1 MiB: the heaviest body accepted."""
    fields = {
        f"f{i}": {"id": f"f{i}", "name": "Комментарий", "value": "Окно 2×1.5 м " * 22}
        for i in range(665)
    }
    event = {"event": "lead", "data": {"id": "1", "num": "1", "form_data": fields}}
    return encode_form(event).encode()


def stray_percents(*, nul: bool = False) -> bytes:
    """As many stray `%` as allowed, in one value or (`nul`) one a field, with a NUL last
    so that the fields are read one by one to say where it is."""
    piece = b"%zz" + b"%41" * 170
    if nul:
        return b"&".join(b"f%d=%s" % (i, piece) for i in range(2000)) + b"%00"
    return b"event=lead&data[id]=1&x=" + piece * 2000


def wide_json() -> bytes:
    """A JSON object of as many one-digit fields as 1 MiB holds."""
    return json.dumps({f"k{i:06d}": 1 for i in range(SIZE // 14)}).encode()


SHAPES: list[tuple[str, str, Callable[[], bytes]]] = [
    ("realistic lead, 2,000 fields (accepted)", FORM, realistic_form),
    ("a value of %41 (accepted)", FORM, lambda: fill(b"%41", b"event=lead&data[id]=1&x=")),
    ("a value of %ff (bad UTF-8 at once)", FORM, lambda: fill(b"%ff", b"x=")),
    ("%41 then one %ff at the end", FORM, lambda: fill(b"%41", b"x=", b"%ff")),
    ("%41 then one %00 at the end", FORM, lambda: fill(b"%41", b"x=", b"%00")),
    ("%41 then %ff, in field 2,000", FORM, lambda: fill(b"%41", b"a=1&" * 1999 + b"x=", b"%ff")),
    ("a name of %41 (too long)", FORM, lambda: fill(b"%41", b"", b"=1")),
    ("only & (no fields)", FORM, lambda: fill(b"&")),
    ("a=1& repeated (too many fields)", FORM, lambda: fill(b"a=1&")),
    ("a[]=1& repeated (too many fields)", FORM, lambda: fill(b"a[]=1&")),
    ("2,000 fields a[]=%41… (appends)", FORM, lambda: b"&".join([b"a[]=" + b"%41" * 170] * 2000)),
    ("a[[[[… (one name)", FORM, lambda: fill(b"[", b"a", b"=1")),
    ("a[x][x]… (too deep, one name)", FORM, lambda: fill(b"[x]", b"a", b"=1")),
    ("a[x]…×8=1& repeated (deepest allowed)", FORM, lambda: fill(b"a" + b"[x]" * 8 + b"=1&")),
    ("a name of % (malformed escapes)", FORM, lambda: fill(b"%")),
    ("a value of % (malformed escapes)", FORM, lambda: fill(b"%", b"event=lead&data[id]=1&x=")),
    ("a value of %%41 (mixed escapes)", FORM, lambda: fill(b"%%41", b"event=lead&data[id]=1&x=")),
    ("2,000 stray % in a value (accepted)", FORM, lambda: stray_percents()),
    ("2,000 fields, a stray % each, NUL at the end", FORM, lambda: stray_percents(nul=True)),
    ("a value of %41= (escapes and =)", FORM, lambda: fill(b"%41=", b"event=lead&data[id]=1&x=")),
    ("a value of + (spaces)", FORM, lambda: fill(b"+", b"event=lead&data[id]=1&x=")),
    ("only = (empty names)", FORM, lambda: fill(b"=")),
    ("JSON [[[[… (open)", JSON, lambda: fill(b"[")),
    ('JSON {"a": {"a": … (open)', JSON, lambda: fill(b'{"a": ')),
    ("JSON object, 74,000 fields (too many)", JSON, wide_json),
    ("JSON list of [] (too many)", JSON, lambda: fill(b"[],", b'{"a": [', b"[]]}")),
    (
        'JSON 2,001 [] then "" (too many)',
        JSON,
        lambda: fill(b'"",', b'{"a": [' + b"[]," * 2001, b'""]}'),
    ),
    ('JSON list of "" (too many)', JSON, lambda: fill(b'"",', b'{"a": [', b'""]}')),
    ("JSON string of \\u0000 (NUL)", JSON, lambda: fill(b"\\u0000", b'{"a": "', b'"}')),
    ("JSON string of \\ud800 (surrogates)", JSON, lambda: fill(b"\\ud800", b'{"a": "', b'"}')),
    ('JSON string of \\" (escapes)', JSON, lambda: fill(b'\\"', b'{"a": "', b'"}')),
]


def cpu_ms(action: Callable[[], Any], repeat: int) -> float:
    """The median CPU time of `action`, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        action()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def read(body: bytes, content_type: str) -> tuple[str, dict[str, Any] | None]:
    try:
        return "parsed", parse_body(body, content_type)
    except FormError as exc:
        return f"refused: {str(exc)[:48]}", None


def standard_form(body: bytes) -> list[tuple[str, str]]:
    """The standard library's reading; latin-1 maps bytes one to one and never fails."""
    return parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")


def validate(document: dict[str, Any]) -> None:
    with contextlib.suppress(ValidationError):
        FlexbeEvent.model_validate(document)


def measure(content_type: str, body: bytes, repeat: int) -> tuple[str, str, str, str]:
    """parse_body's ms, the schema's ms, parse_qsl's ms, and what came of the body."""
    outcome, document = read(body, content_type)
    parse = f"{cpu_ms(lambda: read(body, content_type), repeat):.1f}"
    schema = "–"
    if document is not None and "event" in document:
        schema = f"{cpu_ms(lambda: validate(document), repeat):.1f}"
    baseline = "–"
    if content_type == FORM:
        baseline = f"{cpu_ms(lambda: standard_form(body), repeat):.1f}"
    return parse, schema, baseline, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per shape; the median")
    args = parser.parse_args()
    print("| shape | bytes | parse_body ms | + schema ms | parse_qsl ms | outcome |")
    print("|---|---|---|---|---|---|")
    for name, content_type, make in SHAPES:
        body = make()
        assert len(body) <= SIZE, name
        parse, schema, baseline, outcome = measure(content_type, body, args.repeat)
        print(f"| {name} | {len(body):,} | {parse} | {schema} | {baseline} | {outcome} |")


if __name__ == "__main__":
    main()

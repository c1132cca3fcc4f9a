"""The one parser for untrusted JSON: size, depth, numbers and shapes, each refused with InvalidInput."""

import json
import time

import pytest

from helpdesk import json_input
from helpdesk.json_input import Bool, Int, InvalidInput, List, Object, Text


def refusal(data, **kw):
    with pytest.raises(InvalidInput) as exc:
        json_input.loads(data, **{"max_size": 100_000, **kw})
    return exc.value


@pytest.mark.parametrize("text", ["[" * 10_000, '{"a": ' * 10_000, "[" * 10_000 + "]" * 10_000,
                                  '{"x": ' + "[" * 21 + "]" * 21 + "}"])
def test_nesting_deeper_than_the_limit_is_refused_without_recursion(text):
    for data in (text, text.encode()):
        error = refusal(data)
        assert error.code == "too_deep" and "nested more than 20 levels" in error.reason


def test_nesting_up_to_the_limit_is_accepted_and_brackets_inside_strings_do_not_count():
    assert json_input.loads("[" * 20 + "]" * 20, max_size=100) == json.loads("[" * 20 + "]" * 20)
    text = json.dumps({"a": "[[[[{{{{" * 50, "b": ['\\"[[[[', "]]]]"]})
    assert json_input.loads(text, max_size=10_000) == json.loads(text)
    assert json_input.loads("[" * 5 + "]" * 5, max_size=100, max_depth=5)
    assert refusal("[" * 6 + "]" * 6, max_depth=5).code == "too_deep"


def test_the_depth_scan_stays_linear_on_unterminated_strings():
    for text in ('"\\"' * 20_000, '["' + "\\" * 60_000, '[' + '"a",' * 16_000 + '"'):
        started = time.monotonic()
        assert refusal(text).code == "bad_json"
        assert time.monotonic() - started < 2


@pytest.mark.parametrize("text, name", [("NaN", "NaN"), ("[Infinity]", "Infinity"), ('{"x": -Infinity}', "-Infinity")])
def test_nan_and_infinity_are_refused(text, name):
    error = refusal(text)
    assert error.code == "bad_number" and f"{name} is not allowed" in error.reason


@pytest.mark.parametrize("text", ["1e999", "-1e999", "1e300", "9007199254740993", "-9007199254740993",
                                  "9" * 5000, "9007199254740994.0"])
def test_numbers_beyond_2_to_the_53_are_refused(text):
    error = refusal(text)
    assert error.code == "bad_number" and "too large" in error.reason and len(error.reason) < 100


def test_numbers_within_2_to_the_53_are_kept():
    assert json_input.loads("[9007199254740992, -9007199254740992, 1.5, -0.0, 1e15]", max_size=100) == [
        2**53, -(2**53), 1.5, -0.0, 1e15]


def test_size_encoding_and_syntax():
    assert refusal(b"[" + b"1," * 60 + b"1]", max_size=100).code == "too_large"
    assert "larger than 100 bytes" in refusal(b"x" * 101, max_size=100).reason
    assert "larger than 100 characters" in refusal("x" * 101, max_size=100).reason
    assert refusal(b'{"a": "\xff"}').code == "bad_json"
    assert refusal(b"\xef\xbb\xbf{}").code == "bad_json"  # a byte order mark
    error = refusal("{not json", what="frame")
    assert error.code == "bad_json" and error.reason.startswith("The frame is not valid JSON (")
    assert json_input.loads(b'{"a": "\xc3\xa9"}', max_size=100) == {"a": "é"}


SHAPE = Object({
    "name": Text(max_length=5),
    "code": Text(max_length=10, pattern=r"[a-f0-9]+", required=False, expected="a hex code"),
    "kind": Text(choices=("a", "b"), required=False, default="a"),
    "count": Int(min_value=1, max_value=9, from_text=True, required=False),
    "flag": Bool(required=False),
    "tags": List(Text(max_length=3), max_items=2, required=False),
    "owner": Object({"id": Int(min_value=0)}, required=False),
})


def test_a_shape_returns_exactly_its_declared_fields():
    assert SHAPE.clean({"name": "ab", "count": "7", "flag": False, "tags": ["x"], "owner": {"id": 0}, "extra": [[1]]}) == {
        "name": "ab", "code": None, "kind": "a", "count": 7, "flag": False, "tags": ["x"], "owner": {"id": 0}}
    assert SHAPE.clean({"name": "ab", "code": None, "count": None})["count"] is None  # null is absent
    assert Object({"n": Int(required=False, empty_is_absent=True)}).clean({"n": ""}) == {"n": None}


@pytest.mark.parametrize("value, field, message", [
    ([], None, "The body must be a JSON object with name."),
    ({}, "name", "name is required."),
    ({"name": 5}, "name", "name must be text."),
    ({"name": ["a"]}, "name", "name must be text."),
    ({"name": "abcdef"}, "name", "name must be at most 5 characters."),
    ({"name": "  "}, "name", "name must not be empty."),
    ({"name": "a\x00"}, "name", "NUL"),
    ({"name": "\ud800"}, "name", "lone surrogate"),
    ({"name": "a", "code": "é"}, "code", "code must be a hex code."),
    ({"name": "a", "code": "abc\n"}, "code", "code must be a hex code."),
    ({"name": "a", "kind": {"a": 1}}, "kind", "kind must be one of a, b."),
    ({"name": "a", "kind": ["a"]}, "kind", "kind must be one of a, b."),
    ({"name": "a", "count": True}, "count", "count must be an integer from 1 to 9."),
    ({"name": "a", "count": 1.0}, "count", "count must be an integer from 1 to 9."),
    ({"name": "a", "count": "٣"}, "count", "count must be an integer from 1 to 9."),
    ({"name": "a", "count": 10}, "count", "count must be an integer from 1 to 9."),
    ({"name": "a", "count": ""}, "count", "count must be an integer from 1 to 9."),
    ({"name": "a", "flag": 1}, "flag", "flag must be true or false."),
    ({"name": "a", "tags": ["a", "b", "c"]}, "tags", "tags must be a list of at most 2 items."),
    ({"name": "a", "tags": ["abcd"]}, "tags[0]", "tags[0] must be at most 3 characters."),
    ({"name": "a", "owner": "x"}, "owner", "owner must be a JSON object with owner.id."),
    ({"name": "a", "owner": {"id": -1}}, "owner.id", "owner.id must be a non-negative integer."),
])
def test_a_shape_refusal_names_the_field(value, field, message):
    with pytest.raises(InvalidInput) as exc:
        SHAPE.clean(value)
    assert exc.value.field == field and exc.value.code == "bad_field"
    assert message in exc.value.reason


def test_parse_is_loads_then_the_shape():
    assert json_input.parse(b'{"name": "x"}', SHAPE, max_size=100)["name"] == "x"
    with pytest.raises(InvalidInput, match="The report must be a JSON object"):
        json_input.parse(b"[]", SHAPE, max_size=100, what="report")


def test_is_hex_accepts_only_ascii_hex_digits_of_the_length():
    digest = "0123456789abcdef" * 4
    assert json_input.is_hex(digest, 64) and json_input.is_hex(digest.upper(), 64)
    for value in ("é" * 64, digest[:-1], digest + "0", digest[:-1] + "g", digest[:-1] + "\n", "٣" * 64, None, 5, b"ab"):
        assert not json_input.is_hex(value, 64)


"""Untrusted JSON in: one parser and one shape check for every request body and socket frame.

    data = json_input.parse(request.body, REPORT, max_size=4096, what="report")

loads() refuses a body over max_size, nesting deeper than max_depth (counted by a linear scan before
the json module sees the text, so no recursion can blow up), NaN and Infinity, and numbers beyond
±2**53 (what JavaScript and a bigint column hold exactly). An Object shape then checks the fields it
declares (Text, Int, Bool, Object, List) and returns only those; fields it does not declare are
ignored, so a newer client may send more. Every refusal is one InvalidInput whose reason names the
field; callers turn it into their own 4xx answer or error frame, before they change anything.
"""

import json
import re
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput, JSONString

from helpdesk.services import storable_text

MAX_DEPTH = 20
MAX_NUMBER = 2**53
_MAX_DIGITS = len(str(MAX_NUMBER))
# A string (its closing quote optional, so an unterminated one ends the scan instead of being retried
# from every later quote), or a bracket. Brackets inside strings are thereby skipped.
_TOKENS = re.compile(r'"(?:[^"\\]+|\\.)*"?|[\[\]{}]', re.DOTALL)
_HEX = re.compile(r"[0-9a-fA-F]+")


class InvalidInput(Exception):
    """Input that is not the documented shape. reason is a sentence for the person (naming the field);
    code is one of too_large, bad_json, too_deep, bad_number, bad_field; field is the path, e.g.
    "customer.user_id", or None for the input as a whole."""

    def __init__(self, reason, *, code="bad_field", field=None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.field = field


def is_hex(value, length):
    """Whether value is exactly length ASCII hexadecimal digits (a digest, before any compare)."""
    return isinstance(value, str) and len(value) == length and _HEX.fullmatch(value) is not None


def loads(data, *, max_size, max_depth=MAX_DEPTH, what="body"):
    """The JSON value in data (bytes, read as UTF-8, or str; max_size counts bytes or characters)."""
    if len(data) > max_size:
        raise InvalidInput(f"The {what} is larger than {max_size} {'characters' if isinstance(data, str) else 'bytes'}.",
                           code="too_large")
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"The {what} is not valid JSON (it must be UTF-8).", code="bad_json") from None
    _check_depth(data, max_depth, what)
    try:
        return json.loads(data, parse_constant=_refuse_constant, parse_int=_int, parse_float=_float)
    except RecursionError:  # the scan above should make this unreachable; never a 500 if it is not
        raise InvalidInput(f"The {what} is nested more than {max_depth} levels deep.", code="too_deep") from None
    except ValueError as exc:
        raise InvalidInput(f"The {what} is not valid JSON ({exc}).", code="bad_json") from None


def parse(data, shape, *, max_size, max_depth=MAX_DEPTH, what="body"):
    """loads() then shape.clean(): the declared fields, cleaned, or InvalidInput."""
    return shape.clean(loads(data, max_size=max_size, max_depth=max_depth, what=what), what=what)


def _check_depth(text, max_depth, what):
    if "[" not in text and "{" not in text:
        return
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth > max_depth:
                raise InvalidInput(f"The {what} is nested more than {max_depth} levels deep.", code="too_deep")
        elif token == "]" or token == "}":
            depth -= 1


def _refuse_constant(name):
    raise InvalidInput(f"Numbers must be finite: {name} is not allowed.", code="bad_number")


def _too_large(text):
    return InvalidInput(f"The number {text[:20]}{'…' if len(text) > 20 else ''} is too large (at most 2**53 in size).",
                        code="bad_number")


def _int(text):
    if len(text.lstrip("-")) > _MAX_DIGITS:  # before int(): a long digit string costs quadratic time
        raise _too_large(text)
    value = int(text)
    if abs(value) > MAX_NUMBER:
        raise _too_large(text)
    return value


def _float(text):
    value = float(text)
    if not abs(value) <= MAX_NUMBER:  # inf (1e999) as well
        raise _too_large(text)
    return value


# --- shapes ---------------------------------------------------------------------------------------
# Each field type has clean(value, name) -> the cleaned value or InvalidInput naming the field.
# required=False: the field may be absent or null (then it is cleaned to default).


@dataclass(frozen=True)
class Text:
    """A string of at most max_length characters (None: only the body's size limits it)."""

    max_length: int | None = 200
    required: bool = True
    default: object = None
    blank: bool = False  # "" or whitespace allowed
    choices: tuple = ()
    pattern: re.Pattern | str | None = None  # must match the whole text
    expected: str = ""  # says what the text is, e.g. "a Cobrowse session id"; used in every refusal

    def clean(self, value, name):
        if self.choices:
            if not isinstance(value, str) or value not in self.choices:
                raise self._refuse(name, f"must be one of {', '.join(sorted(self.choices))}")
            return value
        if not isinstance(value, str):
            raise self._refuse(name, "must be text")
        if self.max_length is not None and len(value) > self.max_length:
            raise self._refuse(name, f"must be at most {self.max_length} characters")
        if not self.blank and not value.strip():
            raise self._refuse(name, "must not be empty")
        if not storable_text(value):
            raise self._refuse(name, "must be text with no NUL character (\\u0000) or lone surrogate")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise self._refuse(name, "is not in the expected format")
        return value

    def _refuse(self, name, problem):
        if self.expected:
            return InvalidInput(f"{name} must be {self.expected}.", field=name)
        return InvalidInput(f"{name} {problem}.", field=name)


@dataclass(frozen=True)
class Int:
    """An integer (never a bool or a float) from min_value to max_value; from_text: "42" too."""

    min_value: int = -MAX_NUMBER
    max_value: int = MAX_NUMBER
    required: bool = True
    default: object = None
    from_text: bool = False
    empty_is_absent: bool = False  # "" counts as absent (e.g. an empty data- attribute)

    def clean(self, value, name):
        if self.empty_is_absent and value == "":
            if self.required:
                raise InvalidInput(f"{name} is required.", field=name)
            return self.default
        if self.from_text and isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
            value = int(value)
        if type(value) is not int or not self.min_value <= value <= self.max_value:
            raise InvalidInput(f"{name} must be {self._meaning()}.", field=name)
        return value

    def _meaning(self):
        if self.max_value != MAX_NUMBER:
            return f"an integer from {self.min_value} to {self.max_value}"
        return {-MAX_NUMBER: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
            self.min_value, f"an integer of at least {self.min_value}")


@dataclass(frozen=True)
class Bool:
    required: bool = True
    default: object = None

    def clean(self, value, name):
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be true or false.", field=name)
        return value


@dataclass(frozen=True)
class List:
    item: object
    max_items: int = 50
    required: bool = True
    default: object = None

    def clean(self, value, name):
        if not isinstance(value, list) or len(value) > self.max_items:
            raise InvalidInput(f"{name} must be a list of at most {self.max_items} items.", field=name)
        return [self.item.clean(item, f"{name}[{i}]") for i, item in enumerate(value)]


@dataclass(frozen=True)
class Object:
    """A JSON object; fields maps each declared name to its type. The result holds exactly those names."""

    fields: dict = field(default_factory=dict)
    required: bool = True
    default: object = None

    def clean(self, value, name=None, *, what="body"):
        if not isinstance(value, dict):
            subject = name or f"The {what}"
            required = [f"{name}.{key}" if name else key for key, kind in self.fields.items() if kind.required]
            raise InvalidInput(f"{subject} must be a JSON object{' with ' + ', '.join(required) if required else ''}.",
                               field=name)
        cleaned = {}
        for key, kind in self.fields.items():
            path = f"{name}.{key}" if name else key
            item = value.get(key)
            if item is None:
                if kind.required:
                    raise InvalidInput(f"{path} is required.", field=path)
                cleaned[key] = kind.default
            else:
                cleaned[key] = kind.clean(item, path)
        return cleaned


class JSONFormField(forms.JSONField):
    """Django's JSON form field (what the admin uses for a JSONField), parsing through loads() first:
    deep nesting, NaN or huge numbers are a form error instead of a 500 or an unstorable value."""

    max_size = 64 * 1024

    def _refusal(self, value):
        if self.disabled or not isinstance(value, str) or isinstance(value, JSONString) or value in self.empty_values:
            return None
        try:
            loads(value, max_size=self.max_size, what="value")
        except InvalidInput as exc:
            return exc
        return None

    def to_python(self, value):
        if (refusal := self._refusal(value)) is not None:
            raise ValidationError(refusal.reason, code="invalid")
        return super().to_python(value)

    def bound_data(self, data, initial):
        if self._refusal(data) is not None:
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)

"""Hypothesis strategies for malformed JSON bodies and frames.

Every value is JSON *text*, so NaN, 1e999, 400-digit numbers and nesting up to 1,000 levels (built
by repetition: hypothesis' own recursion is far too slow that deep, and json.dumps would overflow)
arrive exactly as a client could send them. broken_object() builds an object in which at least one
declared field is certainly wrong, so every example must be refused.
"""

import json
import re

from hypothesis import strategies as st

SPECIAL = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e300", "9" * 400, "-9007199254740993",
           "9007199254740993", "true", "false", "[]", "{}", '"é"', '"\\u0000"', '"\\ud800"',
           '"<script>alert(1)</script>"', '"\\u202e"', '"' + "x" * 300 + '"']
BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "9" * 400, "9007199254740993", "-1e300"]


def obj(fields):
    """Object text from {name: value text}."""
    return "{" + ", ".join(f"{json.dumps(name)}: {value}" for name, value in fields.items()) + "}"


def nest(depth, opener, leaf):
    if opener == "[":
        return "[" * depth + leaf + "]" * depth
    return '{"k": ' * depth + leaf + "}" * depth


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**53 + 1), st.floats(), st.text(max_size=30),
).map(json.dumps) | st.sampled_from(SPECIAL)
containers = st.one_of(
    st.lists(scalars, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
    st.dictionaries(st.text(max_size=8), scalars, max_size=4).map(obj),
)
# Up to 1,000 levels, the most often under 30 (around the parser's limit of 20).
depths = st.integers(1, 30) | st.integers(1, 1000)
nested = st.builds(nest, depths, st.sampled_from("[{"), scalars | containers)
too_deep = st.builds(nest, st.integers(21, 1000), st.sampled_from("[{"), scalars)
values = st.one_of(scalars, containers, nested)


def _is_text(fragment):
    return fragment.startswith('"')


not_text = values.filter(lambda t: not _is_text(t) and t != "null")
not_object = values.filter(lambda t: not t.startswith("{") and t != "null")


def not_int(low=0):
    """Anything but an integer from low (or its digits as text) up to 2**53."""
    def wrong(fragment):
        digits = fragment.strip('"')
        return fragment != "null" and not (re.fullmatch(r"-?\d{1,16}", digits) and low <= int(digits) <= 2**53)
    return values.filter(wrong) | st.sampled_from(BAD_NUMBERS + ['""', '"12a"', '"٣"', f'"{low - 1}"', str(low - 1)])


def text_except(valid):
    """Any value but one of the valid strings (a wrong type, or an unknown text)."""
    return not_text | st.text(max_size=30).filter(lambda s: s not in valid).map(json.dumps)


def text_not_matching(pattern, max_length):
    return not_text | st.text(max_size=max_length + 2).filter(
        lambda s: not re.fullmatch(pattern, s) or len(s) > max_length).map(json.dumps)


@st.composite
def broken_object(draw, valid, wrong, extra=True):
    """An object text in which one field of wrong (name: strategy of a wrong value) certainly has
    a wrong value; each other field is valid (valid: name -> strategy), wrong or absent. A field
    nobody declared may ride along."""
    broken = draw(st.sampled_from(sorted(wrong)))
    fields = {}
    for name in sorted(set(valid) | set(wrong)):
        how = "wrong" if name == broken else draw(st.sampled_from(["valid", "valid", "absent", "wrong"]))
        if how == "wrong" and name in wrong:
            fields[name] = draw(wrong[name])
        elif how != "absent" and name in valid:
            fields[name] = draw(valid[name])
    if extra and draw(st.booleans()):
        fields[draw(st.sampled_from(["extra", "__proto__", "constructor"]))] = draw(values)
    order = draw(st.permutations(sorted(fields)))
    return obj({name: fields[name] for name in order})


def deep_text(depth=10_000):
    return "[" * depth + "]" * depth

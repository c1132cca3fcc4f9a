"""JWT policy validation against the structure Cobrowse documents."""

import pytest
from django.core.exceptions import ValidationError

from integrations.cobrowse import policies


@pytest.mark.parametrize("policy", [
    {"version": 3, "sessions": {}},
    {"version": 3, "sessions": {}, "devices": {}, "push": {}},
    {"version": 3, "devices": {"custom_data": {"region": "eu", "tier": 2}}, "sessions": {"custom_data": {"region": "eu"}}},
    {"version": 2, "sessions": {"id": "ses_1"}},
    {"version": 3, "features": {"permissions": ["read"]}},
    {"version": 3},
])
def test_valid_policies(policy):
    policies.validate(policy)


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"),
    ("[]", "A policy is a JSON object"),
    ('{"sessions": {}}', "version is required: use 3."),
    ('{"version": 1, "sessions": {}}', "version must be 3"),
    ('{"version": "3"}', "version must be 3"),
    ('{"version": true}', "version must be 3"),
    ('{"version": 3, "users": {}}', "Unknown key 'users'"),
    ('{"version": 3, "sessions": []}', "sessions must be an object"),
    ('{"version": 3, "devices": {"custom_data": []}}', "devices.custom_data must be an object"),
    ('{"version": 3, "devices": {"custom_data": {"region": {"eu": 1}}}}', "devices.custom_data.region must be a string or a number"),
    ('{"version": 3, "devices": {"custom_data": {"vip": true}}}', "devices.custom_data.vip must be a string or a number"),
    ('{"version": 3, "devices": {"custom_data": {" ": "x"}}}', "devices.custom_data has an empty key"),
    ('{"version": 3, "devices": {"name": "x"}}', "devices.name is not supported"),
    ('{"version": 3, "sessions": {"id": 5}}', "sessions.id must be a non-empty string"),
    ('{"version": 3, "features": {"permissions": ["admin"]}}', "features.permissions must be a non-empty list of read and write"),
    ('{"version": 3, "features": {"permissions": []}}', "features.permissions must be a non-empty list"),
    ('{"version": 3, "x": "' + "a" * 9000 + '"}', "The policy is larger than 8000 characters"),
    ('{"version": 3, "devices": {"custom_data": {"region": "eu\\u0000"}}}', "cannot contain a NUL character"),
    ('{"version": 3, "sessions": {"id": "\\ud800"}}', "or a lone surrogate"),
    ('{"version": 3, "sessions": ' + '{"custom_data": ' * 30 + "{}" + "}" * 31, "nested more than 20 levels"),
    ("[" * 3000 + "]" * 3000, "nested more than 20 levels"),  # would be a RecursionError in json.loads
    ('{"version": 3, "devices": {"custom_data": {"n": NaN}}}', "NaN is not allowed"),
    ('{"version": 3, "devices": {"custom_data": {"n": -Infinity}}}', "-Infinity is not allowed"),
    ('{"version": 3, "devices": {"custom_data": {"n": 1e999}}}', "too large"),
    ('{"version": 3, "devices": {"custom_data": {"n": ' + "9" * 5000 + "}}}", "too large"),
])
def test_invalid_policies_say_what_is_wrong(text, message):
    with pytest.raises(ValidationError) as exc:
        policies.parse(text)
    assert any(message in m for m in exc.value.messages), exc.value.messages


def test_validate_refuses_non_finite_numbers_given_by_code():
    for value in (float("nan"), float("inf"), 2**60):
        with pytest.raises(ValidationError, match="must be a string or a number"):
            policies.validate({"version": 3, "devices": {"custom_data": {"n": value}}})


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as exc:
        policies.validate({"sessions": [], "devices": {"id": ""}, "extra": 1})
    assert len(exc.value.messages) == 4

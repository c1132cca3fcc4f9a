"""JWT policies (CONTRACT section 5): allow-list matching on custom_data and ids."""

RESOURCES = ("sessions", "devices", "push", "features")
VERBS = ("read", "write")


def normalise(policy):
    """Version 2 and 3 as they are; no version = version 1 (keys directly under the resource)."""
    if policy is None:
        return None
    if not isinstance(policy, dict):
        return {}
    if "version" in policy:
        return {k: v for k, v in policy.items() if k != "version"}
    out = {}
    for resource, value in policy.items():
        if resource in ("sessions", "devices") and isinstance(value, dict) and "custom_data" not in value and "id" not in value:
            out[resource] = {"custom_data": value} if value else {}
        else:
            out[resource] = value
    return out


def allows_type(policy, resource):
    return policy is None or isinstance(policy.get(resource), dict)


def permits(policy, resource, verb):
    """Does the policy grant this verb on the resource type? An entry without `permissions`
    grants every verb; `["read"]` makes the resource read-only. (No policy: everything.)"""
    if policy is None:
        return True
    rule = policy.get(resource)
    if not isinstance(rule, dict):
        return False
    permissions = rule.get("permissions")
    return permissions is None or (isinstance(permissions, list) and verb in permissions)


def matches(policy, resource, obj_id, custom_data, verb="read"):
    """Does the policy grant this verb on this session or device? (No policy: everything.)"""
    if policy is None:
        return True
    rule = policy.get(resource)
    if not permits(policy, resource, verb):
        return False
    if "id" in rule and str(rule["id"]) != str(obj_id):
        return False
    for key, value in (rule.get("custom_data") or {}).items():
        if key not in (custom_data or {}) or str(custom_data[key]) != str(value):
            return False
    return True


def current(policy):
    return {} if policy is None else policy

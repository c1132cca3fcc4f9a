"""Errors in the contract's JSON shape: {"id": ..., "message": ...}."""


class ApiError(Exception):
    def __init__(self, status, error_id, message):
        super().__init__(message)
        self.status, self.error_id, self.message = status, error_id, message


def unauthorized(message):
    return ApiError(401, "unauthorized", message)


def forbidden(message="policy does not allow access to this resource"):
    return ApiError(403, "forbidden", message)


def not_found(message="not found"):
    return ApiError(404, "not_found", message)


def invalid(error_id, message):
    return ApiError(400, error_id, message)

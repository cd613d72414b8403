"""One error shape for the API ({"error": {code, message, location}}) and an error page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from qianmo.errors import NotFound, PolicyRefused, QianmoError
from qianmo.web._templates import render

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
}


class ErrorBody(BaseModel):
    code: str
    message: str
    location: dict[str, Any] | None = None


class ErrorPublic(BaseModel):
    """Every API error has this shape."""

    error: ErrorBody


class LoginRequired(Exception):
    """A page needs a signed-in user: pages redirect to /login, the API answers 401."""


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request,
    status: int,
    message: str,
    location: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    code = _CODES.get(status, "error")
    if _is_api(request):
        body = ErrorPublic(error=ErrorBody(code=code, message=message, location=location))
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message},
        status_code=status,
        headers=headers,
    )


def _location(e: QianmoError) -> dict[str, Any] | None:
    loc = {k: v for k, v in vars(e.location).items() if v is not None}
    return loc or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QianmoError)
    async def _qianmo(request: Request, e: QianmoError) -> Response:
        status = 404 if isinstance(e, NotFound) else 403 if isinstance(e, PolicyRefused) else 400
        return error_response(request, status, e.message, _location(e))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, e: HTTPException) -> Response:
        return error_response(request, e.status_code, str(e.detail), headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError) -> Response:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return error_response(request, 422, message, {"field": where} if where else None)

    @app.exception_handler(DataError)
    async def _refused_value(request: Request, e: DataError) -> Response:
        # A value the database cannot hold as given (PostgreSQL text refuses NUL characters,
        # an integer out of its column's range): the client's input, whichever route took it
        # (schemathesis found `GET /api/v1/audit?action=%00` answering 500 on PostgreSQL).
        message = "a value was refused by the database (a NUL character?)"
        return error_response(request, 400, message)

    @app.exception_handler(Exception)
    async def _bug(request: Request, e: Exception) -> Response:
        # A bug: logged in full by the server (Starlette re-raises after this answer); the
        # client gets the one error shape without internals.
        return error_response(request, 500, "internal error: the server log has the details")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, e: LoginRequired) -> Response:
        if _is_api(request):
            return error_response(request, 401, "sign in or present an API token")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Response(
            status_code=303, headers={"Location": f"/login?next={quote(target, safe='/')}"}
        )

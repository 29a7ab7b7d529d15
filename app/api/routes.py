"""The HTTP API: the same chat service the pages use, for scripts and other apps. Every route needs an API key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from nicegui import app
from pydantic import BaseModel

from app.api.events import reply_body, reply_ended, reply_events
from app.chat.generation import Generation
from app.chat.refusals import InputRefused
from app.chat.service import ChatService
from app.providers.catalog import ModelCatalog
from app.storage.models import ConversationPublic, ConversationWithMessages

ERROR_CODES = {400: "BAD_REQUEST", 401: "AUTH", 404: "NOT_FOUND", 409: "BUSY", 413: "TOO_LARGE", 422: "BAD_REQUEST"}
# A name the caller sent, quoted back in an error: enough to recognise it, never megabytes of it.
QUOTED_CHARS = 80
# A failed reply without streaming: the status that says whose problem it is.
FAILURE_STATUS = {"RATE_LIMIT": 429, "OVERLOADED": 503, "TIMEOUT": 504}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ConversationsListed(BaseModel):
    conversations: list[ConversationPublic]


class ContinueBody(BaseModel):
    stream: bool = True


STREAMED = ContinueBody()  # the body may be left out


class ChatBody(BaseModel):
    message: str
    model: str | None = None
    stream: bool = True
    conversation_id: str | None = None
    system: str | None = None


def error_response(status: int, message: str, **extra: object) -> JSONResponse:
    body = {"error": message, "error_code": ERROR_CODES.get(status, "BAD_REQUEST"), **extra}
    return JSONResponse(body, status_code=status)


def register_api(service: ChatService, models: ModelCatalog) -> None:
    """The routes; every request has passed ApiGate (the key, the body's size) before it reaches them."""
    router = APIRouter(prefix="/api")

    @router.post("/chat")
    async def chat(body: ChatBody):
        try:
            model_key = model_for(service, body.model, body.conversation_id)
            # Nobody is there to answer "run this tool?": only tools approved in advance run (TOOLS_AUTO_APPROVE).
            send = service.replies.send
            generation = await send(body.conversation_id, body.message, model_key, body.system, can_ask=False)
        except InputRefused as refusal:
            raise ApiError(refusal.status, str(refusal)) from None
        return await reply_response(generation, body.stream)

    @router.post("/conversations/{conversation_id}/continue")
    async def continue_reply(conversation_id: str, body: ContinueBody = STREAMED):
        """The conversation's last reply failed mid-way: the next model of its route writes on from its text."""
        if service.conversations.get(conversation_id) is None:
            raise ApiError(404, "That conversation does not exist.")
        try:
            generation = await service.replies.continue_with(conversation_id, can_ask=False)
        except InputRefused as refusal:
            raise ApiError(refusal.status, str(refusal)) from None
        return await reply_response(generation, body.stream)

    @router.get("/models")
    def offered_models() -> dict:
        options = [
            {"id": option.key, "model": option.model_id, "provider": option.provider.id, "label": option.label}
            for option in models.options
        ]
        routes = [
            {"id": route.key, "name": route.name, "label": route.label, "models": list(route.models)}
            for route in models.offered_routes()
        ]
        return {"models": options, "routes": routes, "default": models.default_key}

    @router.get("/conversations", response_model=ConversationsListed)
    def conversations() -> dict:
        return {"conversations": service.conversations.list()}

    @router.get("/conversations/{conversation_id}", response_model=ConversationWithMessages)
    def conversation(conversation_id: str) -> dict:
        """The conversation and the branch of it shown (the versions chosen last)."""
        found = service.conversations.get(conversation_id)
        if found is None:
            raise ApiError(404, "That conversation does not exist.")
        return {**found.model_dump(), "messages": service.conversations.messages_with_steps(conversation_id)}

    @router.api_route("/{unknown:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def no_such_route(request: Request) -> None:
        raise ApiError(404, f"There is no {request.method} {quoted(request.url.path)}; the README lists the API.")

    app.include_router(router)
    app.add_exception_handler(ApiError, lambda _request, error: error_response(error.status, str(error)))
    app.add_exception_handler(RequestValidationError, invalid_request)


async def reply_response(generation: Generation, stream: bool):
    """The reply as the client asked for it: its events as they come, or one JSON body at its end."""
    if stream:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy may hold tokens back
        return StreamingResponse(reply_events(generation), media_type="text/event-stream", headers=headers)
    if not await reply_ended(generation):
        return JSONResponse({"error": generation.save_warning, "error_code": "STORAGE"}, status_code=503)
    result = reply_body(generation)
    if "error" not in result:
        return result
    status = FAILURE_STATUS.get(result["error_code"], 502)
    retry_after = result["retry_after"]
    headers = {"Retry-After": str(round(retry_after))} if retry_after is not None else None
    return JSONResponse(result, status_code=status, headers=headers)


def model_for(service: ChatService, name: str | None, conversation_id: str | None) -> str:
    """A model named by its key (`openai:gpt-4o`) or its id (`gpt-4o`), or a route by its key (`route:fast`) or its
    name (`fast`); else the one the chat page would pick."""
    chosen = service.conversations.model_for(conversation_id, name)
    if chosen is not None:
        return chosen.key
    if name:
        raise InputRefused(f"The model {quoted(name)} is not available; GET /api/models lists those that are.", 400)
    raise InputRefused("No model is available on this server.", 400)


def quoted(name: str) -> str:
    return repr(name if len(name) <= QUOTED_CHARS else name[:QUOTED_CHARS] + "…")


async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()]
    return error_response(422, "The request body is not valid: " + "; ".join(problems))

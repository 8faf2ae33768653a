"""The REST API, `/api/v1`: a registry of routes (each with its method, path, scope and pydantic models),
the OpenAPI 3.1 document built from that registry, and the aiohttp adapter that authenticates, limits,
parses and answers (errors as RFC 9457 problem details). Handlers are thin: each calls one use case."""

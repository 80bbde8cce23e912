"""The transports: Sanic routes, the HTTP/1.1 fast path, ASGI, and sending replies later."""

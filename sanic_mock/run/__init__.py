"""The server runners (Sanic, hypercorn, granian), TLS contexts and certificates."""

"""Wire formats, free of any server: request parsing and the bytes of every response."""

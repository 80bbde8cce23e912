"""The answering: one `Service` per worker decides every endpoint (see ARCHITECTURE.md)."""

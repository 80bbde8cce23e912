"""The recording proxy and its batch mode."""

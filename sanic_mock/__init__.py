"""mock-openai: a high-performance mock of the OpenAI API, served by Sanic."""

__version__ = "0.1.0"

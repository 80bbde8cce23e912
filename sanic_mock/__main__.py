"""`python -m sanic_mock` runs the same CLI as the `mock-openai` script."""

from sanic_mock.cli import main

main()

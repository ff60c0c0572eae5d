"""compose-ports: lint, map and rewrite the host ports of Docker Compose projects."""

__version__ = "0.1.0"

"""Codistill sidecar: the Python half of the Codistill VS Code extension."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("codistill")
except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"

__all__ = ["__version__"]

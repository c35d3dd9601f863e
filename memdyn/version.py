"""memdyn's version, read once from the installed package's metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("memdyn")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

"""The NSD fixture, for every test in this folder (other folders import it from tests.auth.nsd)."""

from tests.auth.nsd import nsd_server

__all__ = ["nsd_server"]

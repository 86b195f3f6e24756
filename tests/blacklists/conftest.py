"""The rbldnsd fixtures, for every test in this folder (other folders import them from tests.blacklists.rbldnsd)."""

from tests.blacklists.rbldnsd import faulty_rbldnsd, rbldnsd_server, slow_proxy

__all__ = ["faulty_rbldnsd", "rbldnsd_server", "slow_proxy"]

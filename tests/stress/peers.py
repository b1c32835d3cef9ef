"""tests/stress/peers.py -- the allocators shardalloc is measured against in
tests/stress (churn_curve.py, oom_fit.py), and the environment that runs a
program under one of them."""
import os

PEERS = [
    ("glibc", None),
    ("mimalloc", "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"),
    ("jemalloc", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"),
    ("tcmalloc", "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"),
]


def env_for(lib):
    """This process's environment with LD_PRELOAD = lib (none for glibc)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if lib is not None:
        env["LD_PRELOAD"] = lib
    return env

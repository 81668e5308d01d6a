"""`python -m sync`: the command line (sync/entry/cli.py), with the daemon (sync/entry/daemon.py) plugged in for
`python -m sync daemon`. The two entry points share this process, never each other's code."""
import sys

from sync.core.config import Settings
from sync.entry.cli import main


def serve(settings: Settings) -> int:
    from sync.entry.daemon import serve as daemon
    return daemon(settings)


if __name__ == "__main__":
    sys.exit(main(serve=serve))

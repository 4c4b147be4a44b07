"""python -m edgeworker: says which libedgeworker is used, or every place that was tried."""
from __future__ import annotations

import sys

from . import __version__, library_path, library_version
from .errors import LibraryNotFoundError


def main() -> int:
    try:
        print("edgeworker %s (Python bindings)\nlibedgeworker %s at %s" % (__version__, library_version(),
                                                                          library_path()))
    except LibraryNotFoundError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

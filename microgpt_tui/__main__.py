"""`python -m microgpt_tui`: the same program as the `microgpt-tui` command."""

import sys

from microgpt_tui.tui.cli.main import main

if __name__ == "__main__":
    sys.exit(main())

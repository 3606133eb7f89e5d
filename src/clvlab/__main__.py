"""``python -m clvlab``: the command line."""

from clvlab.cli import main

raise SystemExit(main())

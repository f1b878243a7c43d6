"""``python -m synthetic``."""

from synthetic.cli import main

raise SystemExit(main())

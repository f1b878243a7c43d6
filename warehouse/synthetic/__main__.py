"""``python -m warehouse.synthetic``."""

from warehouse.synthetic.cli import main

raise SystemExit(main())

from gd_explorer.cli import main

raise SystemExit(main())

from fixloop.cli import main

raise SystemExit(main())

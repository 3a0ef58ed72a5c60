from gitops_poc.cli import main

raise SystemExit(main())

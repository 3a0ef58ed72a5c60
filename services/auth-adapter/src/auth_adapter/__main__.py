import sys

from auth_adapter.cli import main

sys.exit(main())

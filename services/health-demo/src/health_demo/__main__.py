import sys

from health_demo.cli import main

sys.exit(main())

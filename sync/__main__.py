import sys

from sync.entry.cli import main

sys.exit(main())

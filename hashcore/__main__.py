import sys

from hashcore.cli import main

sys.exit(main())

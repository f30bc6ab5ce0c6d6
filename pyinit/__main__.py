"""python -m pyinit: the same as the pyinit console script."""
import sys

from pyinit.cli import main

sys.exit(main())

"""`python3 -m bot.cli ...`: the same as the `bouncebot` console script."""

import sys

from bot.cli import main

sys.exit(main())

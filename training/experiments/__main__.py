import sys

from training.experiments.cli import main

sys.exit(main())

import sys

from aidetect_training.experiments.cli import main

sys.exit(main())

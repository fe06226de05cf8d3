"""SageMaker script-mode entry point of the platform's training program (see README.md):
`python train.py --epochs 30 --learning_rate 0.01`, channels and paths from the SM_* environment."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mlops_training.main import main  # noqa: E402  (the path above makes the package importable)

if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

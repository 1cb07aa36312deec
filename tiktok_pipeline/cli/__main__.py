"""``python -m tiktok_pipeline.cli``: the same as the ``tiktok-pipeline`` command."""

import sys

from tiktok_pipeline.cli import main

sys.exit(main())

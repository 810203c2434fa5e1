"""``python -m grpcgw``: the same as the ``grpcgw`` command."""

import sys

from grpcgw.cli import main

sys.exit(main())

import sys

from twinapi_bench.cli import main

sys.exit(main())

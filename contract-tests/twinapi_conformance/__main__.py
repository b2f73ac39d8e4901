import sys

from twinapi_conformance.cli import main

sys.exit(main())

from twinapi_codegen.cli import main

raise SystemExit(main())

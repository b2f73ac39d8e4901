from twinapi_corpus.corpus import main

raise SystemExit(main())

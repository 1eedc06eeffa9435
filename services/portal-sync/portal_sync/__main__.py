"""`python -m portal_sync` runs the service; `python -m portal_sync rebuild [--mapping FILE]` rebuilds."""

import sys

if sys.argv[1:2] == ["rebuild"]:
    from portal_sync.adapters.inbound.rebuild import main as rebuild

    sys.exit(rebuild(sys.argv[2:]))
else:
    from portal_sync.inject import main

    main()

from portal_sync.inject import main

main()

from dlvcli.cli import main

main()

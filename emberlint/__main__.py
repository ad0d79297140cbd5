from emberlint.cli import main

main()

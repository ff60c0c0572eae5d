from compose_ports.cli import main

main()

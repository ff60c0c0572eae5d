from compose_ports.cli import entry

entry()

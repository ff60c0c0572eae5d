from compose_ports.console import entry

entry()

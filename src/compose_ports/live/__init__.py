"""This machine, now: the sockets held here (sockets) and which of the ports the stacks need
are taken (availability), for `check` and `fix --remap --live`.

It may import the model, the host-port map's address rules and reading Compose; nothing
imports it but the commands and fix's `--live`.
"""

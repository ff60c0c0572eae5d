"""This machine and its Docker engine, now: the sockets held here (sockets), the engine's running
containers and their published ports (engine), which of the ports the stacks need are taken
(availability), whether something answers behind them (probe), and how the engine's bindings
differ from the declared ones (audit). For `check`, `audit` and `fix --remap --live`.

It may import the model, the host-port map's address rules and reading Compose; nothing
imports it but the commands and fix's `--live`. The Docker SDK is imported only when the
engine is asked.
"""

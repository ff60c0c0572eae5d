"""Choosing ports on a machine: a free one for a new service (suggest), and the values of an
environment's env file (environments), both by the policy and the host-port map.

It may import the model, the policy, reading Compose, the host-port map and fix's naming of
variables; commands import it.
"""

"""Reporters turn the model and findings into text. They format; they never compute.

Two kinds, one interface each: lint reports (`lint_text`, `lint_json`, `lint_github`,
`lint_sarif`: findings and a `ReportContext` in, text out) and maps (`map_table`, `map_json`,
`map_markdown`, `map_html`, `map_prometheus`: a registry view in, text out), with `registry_view`
the one place a map's rows are put together. Untrusted text goes out through `escape`.

They may import the model, findings, the policy (for categories), reading Compose's public
records and the host-port map; never fix, live or the commands (an import contract).
"""

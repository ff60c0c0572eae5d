"""Reading Compose: files in, the model out, exactly as Docker Compose reads them.

It owns everything Compose decides: which files a directory means (discovery), where
variables come from (variables, with the `.env` grammar in dotenv) and how they are
substituted (interpolation), include and extends (documents), merging (merge), the ports
grammar (ports), per-file canonical ports (canonical), the model of a project (loading,
build), Compose's refusals outside ports (validation), and a run's set of projects
(workspace). Suppression comments are read here too, with each file (suppressions).

It reads files through the bounded reads (top-level readfile) and the YAML reader (top-level
yamlread, go-yaml's typing). It may import the model, errors and the policy's config (to know
which stacks a config declares); never the host-port map, rules, lint, fix, reporters or
commands.

Its public face: `LoadOptions` and `load_project` (compose.loading), `load_workspace` and
`Workspace` (compose.workspace).
"""

"""The desk's doors for outside tools, each its own process: the signals API (fair values over
HTTP with a token, signals_api.py) and the MCP server an assistant talks to over stdio
(mcp_server.py). They import only the contracts and storage: what they change goes through the
same writers and commands as the dashboard's and the CLI's."""

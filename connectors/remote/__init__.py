"""Remote MCP servers: finding out how they are protected, registering with their authorization server,
and calling their tools as an OAuth client that follows the MCP authorization specification."""

"""MCP hosting: Switchboard's MCP servers, which expose published recipes as tools to signed-in users."""

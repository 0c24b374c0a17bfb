"""Click commands of the `partlift` CLI, one module per subcommand."""

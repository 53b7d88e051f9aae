"""Demo Tasks: a small third-party app bundled for Switchboard's demo and tests.

It has its own accounts, sign-in page, OAuth 2.0 authorization server and tasks API, and its own tables
(prefixed ``demo_tasks_``). Switchboard reaches it only over HTTP, exactly as it would any outside app;
it imports nothing from Switchboard but ``platform.core``.

Entry points: ``app.create_demo_tasks_app`` and ``app.mount_handler`` (serving it under a path of a host
app), ``runner.standalone_app`` and ``cli.demo_tasks_cli`` (serving it on its own port),
``accounts.seed_accounts`` and ``clients.ClientRegistry`` (the demo seed), ``accounts.provision`` (an
account for each person of the Switchboard that mounts it).
"""

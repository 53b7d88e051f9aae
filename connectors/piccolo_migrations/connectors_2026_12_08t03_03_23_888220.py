from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-08T03:03:23:888220"
VERSION = "1.38.0"
DESCRIPTION = "Accounts named after the app account, unique per person and connection"

NAME_EXISTING = (
    "UPDATE connectors_user_grant SET "
    "label = CASE WHEN account = '' THEN 'default' ELSE substr(account, 1, 40) END, is_default = true"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="connectors", description=DESCRIPTION)

    async def name_accounts():
        engine = engine_finder()
        await engine.run_ddl(NAME_EXISTING)
        await engine.run_ddl("UPDATE connectors_user_grant SET label_key = lower(label)")
        await engine.run_ddl("DROP INDEX connectors_user_grant_unique")
        await engine.run_ddl(
            "CREATE UNIQUE INDEX connectors_user_grant_label_unique "
            'ON connectors_user_grant ("connection", "user", "label_key")'
        )

    async def one_account_each():
        # One grant per (connection, user) again: each person keeps their default account.
        engine = engine_finder()
        await engine.run_ddl("DELETE FROM connectors_user_grant WHERE NOT is_default")
        await engine.run_ddl("DROP INDEX connectors_user_grant_label_unique")
        await engine.run_ddl(
            'CREATE UNIQUE INDEX connectors_user_grant_unique ON connectors_user_grant ("connection", "user")'
        )

    manager.add_raw(name_accounts)
    manager.add_raw_backwards(one_account_each)
    return manager

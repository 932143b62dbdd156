"""Give the application's database role what it needs and nothing more:
`python manage.py database_grant greenlight_app`, run as the tables' owner (the role
`migrate` runs as), after every migrate or once (default privileges cover later tables).
`--sql` prints the statements instead, for running them with psql."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction


def grants(*, role: str, owner: str, schema: str) -> list[str]:
    """The statements giving ``role`` rows to read and write in ``schema``: on the
    tables there now and on those ``owner`` creates later (new migrations). Nothing
    else: no TRUNCATE, no REFERENCES or TRIGGER, no CREATE; only the owner may alter,
    disable the triggers of or drop a table."""
    role, owner, schema = (connection.ops.quote_name(name) for name in (role, owner, schema))
    rows = "SELECT, INSERT, UPDATE, DELETE"
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT {rows} ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT {rows} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT USAGE ON SEQUENCES TO {role}",
    ]


class Command(BaseCommand):
    help = (
        "Grant the application's PostgreSQL role SELECT, INSERT, UPDATE and DELETE on "
        "every table (and USAGE on the sequences), now and for tables migrations add "
        "later. Run it as the role that owns the tables (the one migrate runs as)."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role the application connects as.")
        parser.add_argument(
            "--sql", action="store_true", help="Print the statements instead of running them."
        )

    def handle(self, *args, role: str, sql: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are PostgreSQL's; this database is not.")
        owner, schema = self._owner_and_schema()
        self._check(role=role, owner=owner)
        statements = grants(role=role, owner=owner, schema=schema)
        if sql:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"{role} may now read and write the rows of every table in {schema}, "
            f"and of the tables {owner} creates there later."
        )

    def _owner_and_schema(self) -> tuple[str, str]:
        """The connected role, which must own the tables migrate made."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, current_schema(), "
                "(SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename = 'django_migrations')"
            )
            user, schema, owner = cursor.fetchone()
        if owner is None:
            raise CommandError("Run `manage.py migrate` first: there are no tables to grant.")
        if owner != user:
            raise CommandError(
                f"Run this as the tables' owner ({owner}), the role migrate runs as; "
                f"this connection is {user}."
            )
        return owner, schema

    def _check(self, *, role: str, owner: str) -> None:
        """Refuse a role that could drop the tables or disable their triggers anyway."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, pg_has_role(rolname, %s, 'MEMBER') "
                "FROM pg_roles WHERE rolname = %s",
                [owner, role],
            )
            found = cursor.fetchone()
        if found is None:
            raise CommandError(f"There is no role {role}: create it first (docs/deploy.md).")
        superuser, owns = found
        if superuser or owns:
            raise CommandError(
                f"{role} is {'a superuser' if superuser else f'{owner} or a member of it'}: "
                "the application must connect as a role that does not own the tables."
            )

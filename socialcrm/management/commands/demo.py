from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialcrm.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo, tasks_in_a_worker_thread


class Command(BaseCommand):
    help = "Migrate, load demo data and accounts, and serve the app on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Set everything up but do not start the server.")
        parser.add_argument("--addrport", default="127.0.0.1:8000", help="Where to serve (default 127.0.0.1:8000).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo creates well-known accounts; it runs only with DEBUG on.")
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready.")
        load_demo(say=self.stdout.write)
        url = f"http://{options['addrport']}/"
        self.stdout.write(self.style.SUCCESS(f"\nSocial CRM demo: {url}"))
        self.stdout.write(f"Sign in with any of these accounts, password {DEMO_PASSWORD!r}:")
        for email, full_name, role in DEMO_ACCOUNTS.values():
            self.stdout.write(f"  {email:<24} {full_name:<18} {role.label if role else 'Administrator'}")
        if not options["no_serve"]:
            # Imports and uploads show their progress page, as with a worker in production.
            with tasks_in_a_worker_thread():
                call_command("runserver", options["addrport"], use_reloader=False)

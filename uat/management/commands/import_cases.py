"""python manage.py import_cases FILE [FILE…] --product SLUG [--as EMAIL]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from uat.imports import LibraryImportError, library_import
from uat.models import Product


class Command(BaseCommand):
    help = (
        "Import requirements and cases with their steps from CSV or XLSX files into a "
        "product's library, all or nothing. The README describes the columns."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--product", required=True, help="The product's slug.")
        parser.add_argument("--as", dest="actor", help="Email of the user to record as.")

    def handle(self, *args, files, product, actor, **options):
        try:
            target = Product.objects.get(slug=product)
        except Product.DoesNotExist:
            raise CommandError(f"No product with the slug {product!r}.") from None
        user = None
        if actor:
            user = User.objects.by_email(actor).first()
            if user is None:
                raise CommandError(f"No user {actor}.")
        contents = []
        for path in files:
            if not path.is_file():
                raise CommandError(f"No file {path}.")
            contents.append((path.name, path.read_bytes()))
        try:
            result = library_import(product=target, files=contents, actor=user)
        except LibraryImportError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(error.messages[0]) from None
        for kind in ("requirements", "cases"):
            self.stdout.write(
                f"{kind}: {result.created[kind]} created, {result.updated[kind]} updated, "
                f"{result.unchanged[kind]} unchanged"
            )

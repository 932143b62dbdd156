"""Fuzzing the API from its own schema (schemathesis): as a QA lead with seeded data,
no input makes a server error and every answer matches the schema.

``SCHEMATHESIS_MAX_EXAMPLES`` sets the examples per operation (default 5, kept small
so the suite stays quick; CI runs the same test)."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi import checks

from tests.factories import ApiTokenFactory

pytestmark = pytest.mark.django_db(transaction=False)

# What the answers must satisfy: documented status codes and content types, bodies that
# match their schema. (Checks about authentication schemes do not apply: the test sends
# a real token on every request.)
CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))


def _operations():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(generated)
    return schema, [result.ok() for result in schema.get_all_operations()]


@pytest.fixture
def keep_the_test_connection():
    """Calling the WSGI app fires the request signals, which would close the database
    connection the test's transaction lives on; Django's test client unhooks them too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("keep_the_test_connection")
@override_settings(ALLOWED_HOSTS=["*"])
def test_fuzzing_the_api_finds_no_server_error_and_no_answer_off_schema(world, lead):
    from config.wsgi import application

    secret = ApiTokenFactory(user=lead).secret
    _schema, operations = _operations()
    assert len(operations) > 30
    failures = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def check(case, data):
            case.headers = {**(case.headers or {}), "Authorization": f"Token {secret}"}
            # Each request in a savepoint rolled back after it: in production every
            # request is its own transaction, so one whose statement the database refused
            # (answered 400) cannot poison the next, as it would inside one test
            # transaction; and every example starts from the same seeded data.
            savepoint = transaction.savepoint_create()
            try:
                response = case.call(app=application)
            finally:
                transaction.savepoint_rollback(savepoint)
            if response.status_code >= 500:
                raise AssertionError(
                    f"{response.status_code} for {case.method} {case.path} {case.query}"
                )
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # gather every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)

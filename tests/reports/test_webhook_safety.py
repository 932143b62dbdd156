"""Webhooks reach only public addresses (unless an administrator allows a host), show no
socket errors, and keep their secret: shown once when made or rotated, never again."""

import socket

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from reports import outbound, webhooks
from reports.models import Webhook, WebhookDelivery
from reports.outbound import REFUSED, Target, address_is_public
from reports.webhooks import CONNECTION_FAILED, webhook_deliver, webhook_secret_rotate
from tests.admin_support import admin_url, changeform_data, post_action, shown_messages
from tests.factories import ProductFactory, WebhookDeliveryFactory, WebhookFactory
from uat.models import Event

pytestmark = pytest.mark.django_db

NOT_PUBLIC = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.5",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # the cloud metadata service
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104 - an address under test, not a bind
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_private_loopback_link_local_multicast_reserved_and_unspecified_are_not_public(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are(address):
    assert address_is_public(address)


def deliver(hook) -> WebhookDelivery:
    delivery = WebhookDeliveryFactory(webhook=hook)
    webhook_deliver.apply(args=(delivery.pk,)).get()
    delivery.refresh_from_db()
    return delivery


def loopback_spellings(port: int) -> list[str]:
    return [
        f"http://localhost:{port}/",
        f"http://127.0.0.2:{port}/",
        f"http://2130706433:{port}/",  # 127.0.0.1 as one decimal number
        f"http://0177.0.0.1:{port}/",  # and in octal
        f"http://[::ffff:127.0.0.1]:{port}/",
    ]


def test_a_delivery_to_loopback_is_refused_without_the_allowance(receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    delivery = deliver(WebhookFactory(url=receiver.url))
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == REFUSED
    assert receiver.received == []


def test_another_spelling_of_an_allowed_loopback_host_is_still_refused(receiver):
    """127.0.0.1 is allowed (the suite's receivers); what resolves to it is not."""
    port = receiver.server.server_port
    for url in loopback_spellings(port):
        delivery = deliver(WebhookFactory(url=url))
        assert delivery.status == "failed", url
        assert delivery.last_error == REFUSED, url
    assert receiver.received == []


def _resolving(monkeypatch, answers: dict[str, list[str]]):
    """getaddrinfo answering ``answers[host]`` in turn (the last repeats); calls counted."""
    real, calls = socket.getaddrinfo, []

    def fake(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        address = answers[host][min(len(calls) - 1, len(answers[host]) - 1)]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return calls


def test_dns_rebinding_cannot_switch_the_checked_address(monkeypatch):
    """The host resolves to a public address when checked and to loopback a moment later:
    the delivery connects to the address that was checked."""
    _resolving(monkeypatch, {"rebind.example": ["93.184.216.34", "127.0.0.1"]})
    connected = []

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    deliver(WebhookFactory(url="http://rebind.example:8080/hook"))
    assert connected and set(connected) == {("93.184.216.34", 8080)}


def test_a_host_that_resolves_to_loopback_is_refused_at_delivery(monkeypatch, receiver):
    _resolving(monkeypatch, {"inside.example": ["127.0.0.1"]})
    hook = WebhookFactory(url=f"http://inside.example:{receiver.server.server_port}/")
    assert deliver(hook).last_error == REFUSED
    assert receiver.received == []


def test_an_allowed_host_is_reached_at_its_checked_address_with_its_own_host_header(
    monkeypatch, receiver, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["Hooks.Internal"]
    calls = _resolving(monkeypatch, {"hooks.internal": ["127.0.0.1", "192.0.2.1"]})
    port = receiver.server.server_port
    assert deliver(WebhookFactory(url=f"http://hooks.internal:{port}/in?x=1")).status == "sent"
    assert calls == ["hooks.internal"]  # resolved once, and connected to as resolved
    assert receiver.received[0]["headers"]["Host"] == f"hooks.internal:{port}"


def test_https_names_the_host_for_sni_and_connects_to_the_checked_address(monkeypatch):
    target = Target("https", "hooks.example.com", 443, "/", "93.184.216.34")
    connection = webhooks._connection(target)
    assert connection.host == "hooks.example.com"  # the TLS server name and Host header
    connected = []
    monkeypatch.setattr(socket, "create_connection", lambda address, *a: connected.append(address))
    connection._create_connection(("hooks.example.com", 443), 5)
    assert connected == [("93.184.216.34", 443)]


def test_a_network_failure_shows_a_generic_error_not_the_socket_error(receiver):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    delivery = deliver(WebhookFactory(url=f"http://127.0.0.1:{port}/"))
    assert delivery.status == "failed"
    assert delivery.last_error == CONNECTION_FAILED
    assert "errno" not in delivery.last_error.lower()


def test_an_answer_shows_its_http_status(receiver):
    receiver.statuses = [404]
    delivery = deliver(WebhookFactory(url=receiver.url))
    assert (delivery.response_status, delivery.last_error) == (404, "The URL answered HTTP 404.")


# ---------------------------------------------------------------------------- saving


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5/hook", "http://169.254.169.254/latest", "http://[::1]/", "ftp://x/"]
)
def test_a_webhook_to_a_non_public_target_is_refused_when_saved(url):
    hook = WebhookFactory.build(url=url, product=None)
    with pytest.raises(ValidationError) as refused:
        hook.full_clean()
    assert "url" in refused.value.message_dict


def _add_page(client, user):
    client.force_login(user)
    return client.get(admin_url(Webhook, "add"))


def test_the_admin_refuses_a_loopback_url_and_keeps_what_was_typed(client, lead, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    data = changeform_data(
        _add_page(client, lead), name="Argo", url="http://127.0.0.1:8500/v1/agent"
    )
    response = client.post(admin_url(Webhook, "add"), data)
    assert response.status_code == 200
    assert REFUSED in response.context["adminform"].form.errors["url"]
    assert response.context["adminform"].form["name"].value() == "Argo"
    assert not Webhook.objects.exists()


def test_the_secret_is_made_shown_once_and_never_again(client, lead):
    product = ProductFactory()
    data = changeform_data(
        _add_page(client, lead), name="Argo", url="http://127.0.0.1:9/hook", product=product.pk
    )
    response = client.post(admin_url(Webhook, "add"), data, follow=True)
    hook = Webhook.objects.get()
    assert len(hook.secret) >= 40
    assert any(hook.secret in message for message in shown_messages(response))
    page = client.get(admin_url(Webhook, "change", hook.pk))
    assert page.status_code == 200 and hook.secret not in page.content.decode()
    assert "•" in page.content.decode()
    # Saving it unchanged keeps the secret; nothing in the audit trail holds it.
    client.post(admin_url(Webhook, "change", hook.pk), changeform_data(page, name="Argo CD"))
    assert Webhook.objects.get().secret == hook.secret
    events = Event.objects.filter(object_id=str(hook.pk), verb__startswith="webhook.")
    assert [e.verb for e in events.order_by("pk")] == ["webhook.created", "webhook.changed"]
    assert all(hook.secret not in str((e.before, e.after)) for e in events)


def test_an_administrator_rotates_the_secret_and_sees_the_new_one_once(client, admin_user):
    hook = WebhookFactory()
    old = hook.secret
    client.force_login(admin_user)
    response = post_action(client, Webhook, "rotate_secret", [hook])
    hook.refresh_from_db()
    assert hook.secret != old
    assert any(hook.secret in message for message in shown_messages(response))
    event = Event.objects.get(verb="webhook.secret_rotated")
    assert (event.actor, event.object_id) == (admin_user, str(hook.pk))
    client.get(admin_url(Webhook, "changelist"))  # where the message is shown, once
    assert hook.secret not in client.get(admin_url(Webhook, "change", hook.pk)).content.decode()


def test_a_qa_lead_may_not_rotate_a_secret(client, lead):
    hook = WebhookFactory()
    client.force_login(lead)
    post_action(client, Webhook, "rotate_secret", [hook])
    assert Webhook.objects.get().secret == hook.secret
    with pytest.raises(PermissionDenied):
        webhook_secret_rotate(webhook=hook, actor=lead)
    assert not Event.objects.filter(verb="webhook.secret_rotated").exists()


def test_the_allowance_is_by_name_as_written(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = [" hooks.internal ", "[::1]"]
    assert outbound.host_is_allowed("HOOKS.internal")
    assert outbound.host_is_allowed("::1")
    assert not outbound.host_is_allowed("127.0.0.1")

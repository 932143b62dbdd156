from django import template

from uat.access import sees_everything
from uat.models.defects import is_web_address

register = template.Library()


@register.filter
def is_lead(user) -> bool:
    """Whether ``user`` sees everything (QA leads, admins); cached on the user object."""
    return sees_everything(user)


@register.filter
def web_address(url: str) -> str:
    """``url`` when it is an http(s) address fit for a link, otherwise empty: a stored
    ``javascript:`` URL is never rendered as a link."""
    return url if url and is_web_address(url) else ""

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


@register.filter
def duration(seconds) -> str:
    """A number of seconds as a person says it: "45 s", "12 min", "1 h 5 min"."""
    seconds = int(seconds or 0)
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"

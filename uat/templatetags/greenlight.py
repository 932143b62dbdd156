from django import template

from uat.access import sees_everything

register = template.Library()


@register.filter
def is_lead(user) -> bool:
    """Whether ``user`` sees everything (QA leads, admins); cached on the user object."""
    return sees_everything(user)

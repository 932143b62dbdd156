from django import template

from reports.navigation import navigation

register = template.Library()


@register.simple_tag
def main_navigation(user) -> dict[str, bool]:
    """The main pages ``user`` is offered (``reports.navigation``)."""
    return navigation(user)

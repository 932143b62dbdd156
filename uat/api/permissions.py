"""Write permissions of the API: the model permissions of the caller's role, as in the
admin. Reads are scoped by each viewset's ``get_queryset`` instead, so a record the
caller may not see is a 404 before any permission is asked; a visible record the caller
may not change is a 403.

A viewset names the permission each action needs in ``action_permissions``
(``{"finish": "uat.change_execution"}``); create, update and destroy default to the
model's add, change and delete permissions. ``object_rules`` adds a per-object check
(testers record results only on their own executions)."""

from rest_framework import permissions

DEFAULT_ACTIONS = {
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


def required_permission(view) -> str | None:
    action = getattr(view, "action", None)
    named = getattr(view, "action_permissions", {})
    if action in named:
        return named[action]
    if action in DEFAULT_ACTIONS:
        opts = view.get_queryset().model._meta
        return f"{opts.app_label}.{DEFAULT_ACTIONS[action]}_{opts.model_name}"
    return None


class RolePermission(permissions.IsAuthenticated):
    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        # On one record, look it up first: a stranger gets 404, not a hint that it exists.
        if getattr(view, "detail", False):
            return True
        perm = required_permission(view)
        return perm is None or request.user.has_perm(perm)

    def has_object_permission(self, request, view, obj) -> bool:
        perm = required_permission(view)
        if perm is not None and not request.user.has_perm(perm):
            return False
        rule = getattr(view, "object_rules", {}).get(getattr(view, "action", None))
        return rule is None or rule(request.user, obj)

"""Write permissions of the API. Reads are scoped by each viewset's ``get_queryset``
instead, so a record the caller may not see is a 404 before any permission is asked; a
visible record the caller may not change is a 403.

A viewset names what each action needs in ``action_permissions``: a predicate of
``uat.policy`` (``{"finish": policy.can_record}``), called with the user and the record
(None for an action on the collection), for every workflow action — the same rule the
pages and the admin ask; or, for plain CRUD, a model permission (``"uat.add_case"``), as
in the admin. Create, update and destroy default to the model's add, change and delete
permissions. The services ask the policy again, whoever calls them."""

from rest_framework import permissions

from ..access import is_pipeline_account

DEFAULT_ACTIONS = {
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


def required_permission(view):
    """The predicate or permission name ``view``'s action needs, or None."""
    action = getattr(view, "action", None)
    named = getattr(view, "action_permissions", {})
    if action in named:
        return named[action]
    if action in DEFAULT_ACTIONS:
        opts = view.get_queryset().model._meta
        return f"{opts.app_label}.{DEFAULT_ACTIONS[action]}_{opts.model_name}"
    return None


def _allowed(user, needed, obj) -> bool:
    if needed is None:
        return True
    if callable(needed):
        return needed(user, obj)
    return user.has_perm(needed)


PIPELINE_REFUSAL = (
    "A release-pipeline account reads releases and their gate and promotes; nothing else."
)


def pipeline_may_call(view) -> bool:
    """Deny by default: a release pipeline reaches only the views that name the action
    in ``pipeline_actions`` (True: every action of the view)."""
    allowed = getattr(view, "pipeline_actions", ())
    return allowed is True or getattr(view, "action", None) in allowed


class SignedIn(permissions.IsAuthenticated):
    """Signed in (a session or a token); a release-pipeline account only where the view
    allows it. The default of every API view."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if not pipeline_may_call(view) and is_pipeline_account(request.user):
            self.message = PIPELINE_REFUSAL
            return False
        return True


class RolePermission(SignedIn):
    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        # On one record, look it up first: a stranger gets 404, not a hint that it exists.
        if getattr(view, "detail", False):
            return True
        return _allowed(request.user, required_permission(view), None)

    def has_object_permission(self, request, view, obj) -> bool:
        return _allowed(request.user, required_permission(view), obj)

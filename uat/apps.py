from django.apps import AppConfig


class UatConfig(AppConfig):
    name = "uat"
    verbose_name = "User acceptance testing"

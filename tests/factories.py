"""factory_boy factories for the foundation. Each app adds its own in tests/<app>/factories.py."""

from __future__ import annotations

import factory

from accounts.models import Agency, User

TEST_PASSWORD = "correct-horse-battery-staple-42"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.LazyAttribute(lambda o: f"Agency {o.code}")
    kind = Agency.Kind.OTHER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.invalid")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    agency = factory.SubFactory(AgencyFactory, code="DCFS")
    role = "case_worker"

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        obj.set_password(extracted or TEST_PASSWORD)
        if create:
            obj.save()

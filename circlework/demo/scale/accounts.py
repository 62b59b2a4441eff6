"""Practitioners of the scale federation: log-ins, profiles, credentials, API tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from allauth.account.models import EmailAddress

from circlework.accounts.models import ApiToken, Credential, Practitioner, User
from circlework.demo.scale import plan
from circlework.demo.scale.context import Scale, person

VISIBILITIES = ("public", "federation", "circle")


def email_for(seed: int, index: int) -> str:
    return f"p{index + 1}.s{seed}@scale.circlework.org"


def build(s: Scale, count: int, password_hash: str) -> None:
    rng = s.rng
    for i in range(count):
        joined = s.ago(rng.uniform(1550, 1900))  # before any circle they join
        email = email_for(s.seed, i)
        user = s.add(
            User,
            email=email,
            password=password_hash,
            is_active=True,
            date_joined=joined,
        )
        s.add(EmailAddress, user_id=user.id, email=email, verified=True, primary=True)
        modalities = ", ".join(plan.sample(rng, plan.MODALITIES, rng.randint(1, 3)))
        languages = ", ".join(["English", *plan.sample(rng, plan.LANGUAGES[1:], rng.randint(0, 1))])
        town = plan.pick(rng, plan.TOWNS)
        p = s.add(
            Practitioner,
            user_id=user.id,
            display_name=plan.person_name(i, s.seed),
            display_name_visibility=rng.choices(VISIBILITIES, weights=(6, 3, 1))[0],
            pronouns=plan.pick(rng, ("she/her", "he/him", "they/them", "")),
            modalities=modalities,
            modalities_visibility=plan.pick(rng, VISIBILITIES),
            languages=languages,
            location=town,
            location_visibility=plan.pick(rng, VISIBILITIES),
            statement=f"I work as a {modalities.split(',')[0]} practitioner in {town}. "
            "I meet my circle regularly for peer supervision and review.",
            statement_visibility=plan.pick(rng, VISIBILITIES),
            time_zone="Europe/London",
            created_at=joined,
            updated_at=joined,
        )
        s.practitioners.append(p.id)
        s.audit(
            actor=p.id,
            verb="practitioner.registered",
            object_type="accounts.practitioner",
            object_id=p.id,
            summary=f"{person(p.id)} joined Circlework",
            when=joined,
        )
        for c in range(rng.choices((0, 1, 2), weights=(2, 5, 3))[0]):
            year = rng.randint(1995, s.today.year - 1)
            cred = s.add(
                Credential,
                practitioner_id=p.id,
                title=f"Diploma in {plan.pick(rng, plan.MODALITIES).capitalize()} Practice",
                issuer=f"{plan.pick(rng, plan.TOWNS)} Institute",
                year=year,
                visibility=plan.pick(rng, VISIBILITIES),
                created_at=joined + timedelta(hours=c + 1),
                updated_at=joined + timedelta(hours=c + 1),
            )
            s.audit(
                actor=p.id,
                verb="credential.added",
                object_type="accounts.credential",
                object_id=cred.id,
                summary=f"Added the credential “{cred.title}”",
                when=joined + timedelta(hours=c + 1),
            )
        if i % 25 == 0:
            secret = f"scale-{s.seed}-{i}"
            made = joined + timedelta(days=3)
            token = s.add(
                ApiToken,
                practitioner_id=p.id,
                name="My scripts",
                prefix=hashlib.sha256(secret.encode()).hexdigest()[:10],
                token_hash=hashlib.sha256(f"token:{secret}".encode()).hexdigest(),
                created_at=made,
                revoked_at=made + timedelta(days=90) if i % 50 == 0 else None,
            )
            s.audit(
                actor=p.id,
                verb="api_token.created",
                object_type="accounts.apitoken",
                object_id=token.id,
                summary=f"Created the API token “{token.name}”",
                when=made,
            )

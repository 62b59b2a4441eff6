"""Build the demo federation (../shared/DEMO.md): deterministic, through the real services.

python manage.py seed_demo            # only if the database has no federation yet
python manage.py seed_demo --force    # add it even if other data exists
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from circlework.accounts import services as account_services
from circlework.accounts.models import Practitioner, User
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, CircleStatus, Federation, Membership
from circlework.core.dates import add_months
from circlework.core.visibility import forget_audience
from circlework.demo import agreements as agreements_demo
from circlework.demo import decisions as decisions_demo
from circlework.demo import elections as elections_demo
from circlework.demo import gatherings as gatherings_demo
from circlework.demo import links as links_demo
from circlework.demo import mandates as mandates_demo
from circlework.demo import polls as polls_demo
from circlework.demo import standing as standing_demo
from circlework.mandates.models import Mandate
from circlework.mandates.selectors import role_label
from circlework.notifications.models import Delivery, NotificationKind
from circlework.notifications.services import notification_preferences_set

DEMO_PASSWORD = "circlework-demo"  # noqa: S105 - printed for the demo; never used in production

COVENANT = """We are a loose federation of self and peer review circles. Each circle:

- meets regularly so that its members can **stand by** one another's practice;
- writes, adopts and reviews its own ethical statement and procedures;
- seeks validation links with at least two other circles, and offers the same in return;
- answers to the public for its members' work, through the public register and its concern route.

There is no central code of ethics and no central committee. Officers hold time-limited mandates
and plan how their role will be reduced or handed on.
"""

DEMO_COVENANT_RULES = {
    "min_circle_size": 4,
    "links_required": 2,
    "link_lapse_months": 24,
    "no_closed_triangles": True,
    "officer_electorate": "delegates",
    "review_months": 25,
}

PRACTITIONERS: list[dict[str, Any]] = [
    # Leeds Wednesday Circle
    {
        "key": "ruth",
        "name": "Ruth Okafor",
        "pronouns": "she/her",
        "modalities": "person-centred, focusing",
        "languages": "English, Yoruba",
        "location": "Leeds",
        "credentials": [
            ("Diploma in Person-Centred Counselling", "Metanoia Institute", 2009),
            ("Focusing Trainer", "The Focusing Institute", 2015),
        ],
    },
    {
        "key": "tom",
        "name": "Tom Hargreaves",
        "pronouns": "he/him",
        "modalities": "gestalt, group work",
        "languages": "English",
        "location": "Leeds",
        "credentials": [("MSc Gestalt Psychotherapy", "Sherwood Institute", 2012)],
    },
    {
        "key": "amira",
        "name": "Amira Haddad",
        "pronouns": "she/her",
        "modalities": "integrative, trauma-informed",
        "languages": "English, Arabic",
        "location": "Bradford",
        "credentials": [
            ("Postgraduate Diploma in Integrative Counselling", "University of Leeds", 2014),
            ("Certificate in Trauma-Focused Practice", "Leeds Trinity University", 2019),
        ],
    },
    {
        "key": "dev",
        "name": "Dev Raman",
        "pronouns": "he/him",
        "modalities": "transpersonal, psychosynthesis",
        "languages": "English, Tamil",
        "location": "Harrogate",
        "credentials": [("Diploma in Psychosynthesis Counselling", "Psychosynthesis Trust", 2007)],
    },
    {
        "key": "helen",
        "name": "Helen Marsh",
        "pronouns": "she/her",
        "modalities": "coaching, solution-focused",
        "languages": "English, French",
        "location": "Wakefield",
        "credentials": [
            ("Professional Certificate in Coaching", "Oxford Brookes University", 2016)
        ],
    },
    # York Riverside Group
    {
        "key": "sam",
        "name": "Sam Whitfield",
        "pronouns": "they/them",
        "modalities": "humanistic, co-counselling",
        "languages": "English",
        "location": "York",
        "credentials": [
            ("Diploma in Humanistic Counselling", "York St John University", 2011),
            ("Co-Counselling Teacher", "Co-Counselling International", 2013),
        ],
    },
    {
        "key": "maria",
        "name": "Maria Kowalska",
        "pronouns": "she/her",
        "modalities": "psychodynamic",
        "languages": "English, Polish",
        "location": "York",
        "credentials": [("MA Psychodynamic Counselling", "University of Leeds", 2010)],
    },
    {
        "key": "ben",
        "name": "Ben Ashworth",
        "pronouns": "he/him",
        "modalities": "body psychotherapy",
        "languages": "English",
        "location": "Malton",
        "credentials": [("Diploma in Body Psychotherapy", "Chiron Association", 2008)],
    },
    {
        "key": "lucy",
        "name": "Lucy Tan",
        "pronouns": "she/her",
        "modalities": "art therapy, person-centred",
        "languages": "English, Cantonese",
        "location": "York",
        "credentials": [("MA Art Psychotherapy", "University of Derby", 2015)],
    },
    {
        "key": "jo",
        "name": "Jo Pemberton",
        "pronouns": "she/her",
        "modalities": "existential",
        "languages": "English",
        "location": "Selby",
        "credentials": [
            ("MA Existential Psychotherapy", "New School of Psychotherapy and Counselling", 2013)
        ],
    },
    # Sheffield Peer Circle
    {
        "key": "kwame",
        "name": "Kwame Mensah",
        "pronouns": "he/him",
        "modalities": "transactional analysis",
        "languages": "English, Twi",
        "location": "Sheffield",
        "credentials": [("Certified Transactional Analyst", "EATA", 2012)],
    },
    {
        "key": "niamh",
        "name": "Niamh Byrne",
        "pronouns": "she/her",
        "modalities": "CBT, mindfulness-based",
        "languages": "English, Irish",
        "location": "Sheffield",
        "credentials": [("Postgraduate Diploma in CBT", "Sheffield Hallam University", 2017)],
    },
    {
        "key": "paul",
        "name": "Paul Greaves",
        "pronouns": "he/him",
        "modalities": "systemic, family therapy",
        "languages": "English",
        "location": "Rotherham",
        "credentials": [("MSc Systemic Psychotherapy", "University of Sheffield", 2011)],
    },
    {
        "key": "esther",
        "name": "Esther Lindqvist",
        "pronouns": "she/her",
        "modalities": "dramatherapy",
        "languages": "English, Swedish",
        "location": "Chesterfield",
        "credentials": [("MA Dramatherapy", "University of Derby", 2016)],
    },
    # Manchester Forming Circle
    {
        "key": "olu",
        "name": "Olu Adeyemi",
        "pronouns": "he/him",
        "modalities": "person-centred, ecotherapy",
        "languages": "English",
        "location": "Manchester",
        "credentials": [("Diploma in Counselling", "Manchester Metropolitan University", 2018)],
    },
    {
        "key": "grace",
        "name": "Grace Liu",
        "pronouns": "she/her",
        "modalities": "integrative",
        "languages": "English, Mandarin",
        "location": "Stockport",
        "credentials": [("MSc Counselling and Psychotherapy", "University of Manchester", 2019)],
    },
    {
        "key": "rhys",
        "name": "Rhys Evans",
        "pronouns": "he/him",
        "modalities": "coaching, narrative",
        "languages": "English, Welsh",
        "location": "Salford",
        "credentials": [("Certificate in Narrative Practice", "Dulwich Centre", 2020)],
    },
    {
        "key": "fatima",
        "name": "Fatima Siddiqui",
        "pronouns": "she/her",
        "modalities": "psychodynamic, intercultural",
        "languages": "English, Urdu",
        "location": "Oldham",
        "credentials": [("MA Intercultural Psychotherapy", "Nafsiyat", 2014)],
    },
]

CIRCLES: list[dict[str, Any]] = [
    {
        "name": "Leeds Wednesday Circle",
        "founder": "ruth",
        "members": ["tom", "amira", "dev", "helen"],
        "status": CircleStatus.MEMBER,
        "locality": "Leeds",
        "meeting_pattern": "second Wednesday of the month, 7–9.30 pm, plus a day each spring",
        "founded_days_ago": 1100,
        "purpose": "We meet to **stand by** one another's practice: peer supervision, support and challenge, and a yearly peer review audit of our work with clients.",
    },
    {
        "name": "York Riverside Group",
        "founder": "sam",
        "members": ["maria", "ben", "lucy", "jo", "dev"],
        "status": CircleStatus.MEMBER,
        "locality": "York",
        "meeting_pattern": "first Monday of the month, all afternoon",
        "founded_days_ago": 1400,
        "purpose": "A circle of humanistic and psychodynamic practitioners who review our practice together and research it through co-operative inquiry.",
    },
    {
        "name": "Sheffield Peer Circle",
        "founder": "kwame",
        "members": ["niamh", "paul", "esther"],
        "status": CircleStatus.MEMBER,
        "locality": "Sheffield",
        "meeting_pattern": "monthly, Saturday mornings",
        "founded_days_ago": 900,
        "purpose": "Four practitioners from different traditions who hold each other to account with warmth, and say so to the public.",
    },
    {
        "name": "Manchester Forming Circle",
        "founder": "olu",
        "members": ["grace", "rhys", "fatima"],
        "status": CircleStatus.FORMING,
        "locality": "Manchester",
        "meeting_pattern": "fortnightly, Thursday evenings",
        "founded_days_ago": 120,
        "open": True,
        "purpose": "A new circle finding its way: we are getting to know each other's work so that we can stand by it, and drafting our ethical statement.",
    },
]

PENDING_INVITATIONS = [
    (
        "Manchester Forming Circle",
        "olu",
        "ana.ferreira@example.org",
        "We would love you to join us — come to a meeting first if you like.",
    ),
    ("Sheffield Peer Circle", "kwame", "idris.campbell@example.org", ""),
    (
        "Leeds Wednesday Circle",
        "ruth",
        "new.colleague@example.org",
        "Following our conversation at the spring gathering.",
    ),
]

# Good places to start (a founder, a member of two circles and coordinator, the registrar, a
# forming circle); every demo account is printed, with its circles and mandates.
START_WITH = {"ruth", "dev", "esther", "olu"}


def demo_email(key: str) -> str:
    return f"{key}@demo.circlework.org"


class Command(BaseCommand):
    help = "Load the demo federation (Northern Practitioners Network)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Load even if a federation exists."
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any federation exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Federation.objects.filter(slug="northern-practitioners-network").exists():
            self.stdout.write("The demo federation is already loaded.")
            self.print_logins()
            return
        if Federation.objects.exists() and not options["force"]:
            self.stdout.write(
                "This database already has a federation; use --force to add the demo anyway."
            )
            return
        self.build()
        self.print_logins()

    @transaction.atomic
    def build(self) -> None:
        now = timezone.now()
        people: dict[str, Practitioner] = {}
        for spec in PRACTITIONERS:
            user = User.objects.create_user(demo_email(spec["key"]), DEMO_PASSWORD)
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            p = account_services.practitioner_register(user=user, display_name=spec["name"])
            p = account_services.practitioner_update(
                actor=p,
                practitioner=p,
                changes={
                    "pronouns": spec["pronouns"],
                    "modalities": spec["modalities"],
                    "languages": spec["languages"],
                    "location": spec["location"],
                    "location_visibility": "public",
                    "modalities_visibility": "public",
                    "display_name_visibility": "public",
                    "statement": f"I work as a {spec['modalities'].split(',')[0]} practitioner in {spec['location']}. "
                    "I meet my circle regularly for peer supervision and review.",
                    "statement_visibility": "federation",
                },
            )
            for title, issuer, year in spec["credentials"]:
                account_services.credential_add(
                    actor=p, title=title, issuer=issuer, year=year, visibility="public"
                )
            people[spec["key"]] = p
        notification_preferences_set(
            actor=people["ruth"], choices={NotificationKind.MEMBERSHIP: Delivery.IMMEDIATE}
        )

        federation = circle_services.federation_create(
            actor=None,
            name="Northern Practitioners Network",
            description="Self and peer review circles of counsellors, psychotherapists and coaches across the north of England.",
            covenant=COVENANT,
            covenant_parameters=DEMO_COVENANT_RULES,
        )
        Federation.objects.filter(pk=federation.pk).update(created_at=now - timedelta(days=730))
        # Adopted two years ago, reviewed after 25 months: the review is due next month.
        adopted_on = add_months(timezone.localdate(), -24)
        federation.covenant_versions.update(
            adopted_at=timezone.make_aware(datetime.combine(adopted_on, time(12)))
        )

        for spec in CIRCLES:
            founder = people[spec["founder"]]
            circle = circle_services.circle_found(
                actor=founder,
                federation=federation,
                name=spec["name"],
                purpose=spec["purpose"],
                locality=spec["locality"],
                meeting_pattern=spec["meeting_pattern"],
                open_to_new_members=spec.get("open", False),
                visibility="public",
            )
            for key in spec["members"]:
                member = people[key]
                _inv, secret = circle_services.invitation_create(
                    actor=founder, circle=circle, email=member.user.email
                )
                circle_services.invitation_accept(actor=member, secret=secret)
            founded = now - timedelta(days=spec["founded_days_ago"])
            Circle.objects.filter(pk=circle.pk).update(created_at=founded, status=spec["status"])
            for i, m in enumerate(Membership.objects.filter(circle=circle).order_by("pk")):
                Membership.objects.filter(pk=m.pk).update(
                    joined_at=founded + timedelta(days=14 * i)
                )

        # The statuses were set behind the services' backs: audiences worked out while the
        # circles were forming (kept on each user object, as in a request) are out of date.
        for person in people.values():
            forget_audience(person.user)

        for circle_name, inviter, email, message in PENDING_INVITATIONS:
            circle_services.invitation_create(
                actor=people[inviter],
                circle=Circle.objects.get(name=circle_name),
                email=email,
                message=message,
            )

        # In story order: a part may read what the parts before it built (Leeds's decision
        # rule before its revisions, the coordinator's mandate before the next election).
        circles_by_name = {c.name: c for c in Circle.objects.filter(federation=federation)}
        decisions_demo.seed(people, circles_by_name)
        polls_demo.seed_polls(people, circles_by_name)
        decisions_demo.seed_federation(people, circles_by_name)
        standing_demo.seed_standing(people, circles_by_name)
        agreements_demo.seed(people, circles_by_name)
        mandates_demo.seed(people, circles_by_name)
        links_demo.seed(people, circles_by_name)
        elections_demo.seed(people, circles_by_name)
        gatherings_demo.seed(people, circles_by_name)

        # The demo's back-story happened before today: its e-mails are not sent again
        # (deadline tasks for the open proposals stay queued).
        DBTaskResult.objects.filter(
            status="READY", task_path__startswith="circlework.notifications."
        ).delete()
        DBTaskResult.objects.filter(
            status="READY", task_path="circlework.circles.tasks.send_invitation_email"
        ).delete()

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for email, words in demo_accounts():
            self.stdout.write(f"  {email:30} {words}")
        self.stdout.write("")


def demo_accounts() -> list[tuple[str, str]]:
    """Every demo account with its part in the story, read from what the demo built: the circles
    it belongs to (founder or member) and the mandates it holds now."""
    rows = []
    for spec in PRACTITIONERS:
        email = demo_email(spec["key"])
        person = Practitioner.objects.filter(user__email=email).first()
        if person is None:
            continue
        parts = []
        for membership in (
            Membership.objects.current()
            .filter(practitioner=person)
            .select_related("circle")
            .order_by("circle__name")
        ):
            circle = membership.circle
            part = "founder" if circle.founded_by_id == person.pk else "member"
            forming = " (forming)" if circle.status == CircleStatus.FORMING else ""
            parts.append(f"{part} of {circle.name}{forming}")
        for mandate in (
            Mandate.objects.live().filter(holder=person).select_related("circle").order_by("pk")
        ):
            role = role_label(mandate.role).lower()
            if mandate.circle is not None:
                role += f", for {mandate.circle.name}"
            elif "federation" not in role:
                role += " of the federation"
            parts.append(role)
        if spec["key"] in START_WITH:
            parts.append("a good place to start")
        rows.append((email, f"{spec['name']} — " + "; ".join(parts)))
    return rows

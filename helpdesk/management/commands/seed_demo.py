"""Idempotent demo data: 2 teams, 4 agents (one supervisor, one admin), 20 customers, 60 tickets."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from helpdesk.chat.demo import seed_demo_site
from helpdesk.events import Verb
from helpdesk.models import Agent, Conversation, Customer, Event, Message, Team, Ticket

DEMO_PASSWORD = "demo1234"

TEAMS = [("Technical Support", "support"), ("Billing", "billing")]
AGENTS = [
    # username, display name, role, team slug
    ("alice", "Alice Martin", Agent.Role.AGENT, "support"),
    ("bob", "Bob Chen", Agent.Role.AGENT, "billing"),
    ("sam", "Sam Okafor", Agent.Role.SUPERVISOR, "support"),
    ("ada", "Ada Novak", Agent.Role.ADMIN, None),
]
FIRST = ["Maria", "James", "Priya", "Tom", "Chen", "Fatima", "Lucas", "Emma", "Noah", "Sofia",
         "Omar", "Hannah", "Diego", "Yuki", "Elena", "Kwame", "Ines", "Liam", "Zara", "Mateo"]
LAST = ["Garcia", "Smith", "Patel", "Brown", "Wei", "Khan", "Silva", "Jones", "Miller", "Rossi",
        "Haddad", "Schmidt", "Lopez", "Tanaka", "Ivanova", "Mensah", "Costa", "Walsh", "Ali", "Ruiz"]
SUBJECTS = [
    ("Can't log in after password reset", "support"), ("Checkout page freezes on payment", "support"),
    ("Invoice shows the wrong VAT number", "billing"), ("Charged twice for my subscription", "billing"),
    ("App crashes when uploading a photo", "support"), ("How do I change my plan?", "billing"),
    ("Two-factor codes never arrive", "support"), ("Refund for cancelled order", "billing"),
    ("Search returns no results", "support"), ("Need a copy of last year's invoices", "billing"),
    ("Export to CSV is missing columns", "support"), ("Card declined but bank says fine", "billing"),
    ("Notifications stopped working", "support"), ("Discount code not applied", "billing"),
    ("Page is blank in Safari", "support"), ("Update billing address", "billing"),
    ("Cannot invite team members", "support"), ("Trial ended early", "billing"),
    ("Dark mode text unreadable", "support"), ("Annual plan pricing question", "billing"),
    ("Sync between devices is slow", "support"), ("Payment method won't save", "billing"),
    ("Error 500 on the settings page", "support"), ("Tax exemption certificate", "billing"),
    ("Images not loading on mobile", "support"), ("Downgrade without losing data?", "billing"),
    ("Password field rejects my password", "support"), ("Receipt email never arrived", "billing"),
    ("Integration with calendar broken", "support"), ("Close my account and refund", "billing"),
]
CUSTOMER_LINES = [
    "Hi, I've tried everything in the help centre and it still doesn't work.",
    "This started happening yesterday afternoon. Could you take a look?",
    "I'm on Chrome on a Mac, if that helps.",
    "Thanks for the quick answer! I tried that, but no luck.",
    "Is there any update on this? It's blocking my work.",
    "That fixed it, thank you so much!",
]
AGENT_LINES = [
    "Thanks for reaching out. I'm looking into this now.",
    "Could you tell me which browser and version you are using?",
    "I've escalated this to our engineers and will update you shortly.",
    "Could you try clearing the cache and signing in again?",
    "Good news: this should be fixed now. Can you confirm on your side?",
]
NOTES = [
    "Customer is on the legacy plan; check before offering a refund.",
    "Reproduced on staging. Linked to the known payments issue.",
    "Offered a co-browse session if this happens again.",
]


class Command(BaseCommand):
    help = "Create the demo data (safe to run again: existing demo records are kept as they are)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="seed even with DEBUG off (creates logins with a published password)")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates an admin with a published password; with DEBUG off it runs only with --force."
            )
        self._seed()

    @transaction.atomic
    def _seed(self):
        rng = random.Random(42)
        now = timezone.now()
        teams = {slug: Team.objects.get_or_create(slug=slug, defaults={"name": name})[0] for name, slug in TEAMS}
        agents = {}
        User = get_user_model()
        for username, display, role, team_slug in AGENTS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@helpdesk.example", "first_name": display.split()[0],
                                             "last_name": display.split()[1]}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = role == Agent.Role.ADMIN
                user.is_superuser = role == Agent.Role.ADMIN
                user.save()
            agents[username], _ = Agent.objects.get_or_create(
                user=user, defaults={"display_name": display, "role": role,
                                     "team": teams[team_slug] if team_slug else None}
            )
        # The demo customers belong to the demo chat site, so its chat page finds their tickets.
        chat_site, _ = seed_demo_site(teams["support"])
        user_ids = [f"customer-{i + 1:03d}" for i in range(20)]
        # A seed from before customers had sites made them the helpdesk's own: they join the site.
        Customer.objects.filter(site=None, user_id__in=user_ids).exclude(
            user_id__in=chat_site.customers.values("user_id")).update(site=chat_site)
        customers = []
        for i in range(20):
            name = f"{FIRST[i]} {LAST[i]}"
            customers.append(Customer.objects.get_or_create(
                site=chat_site, user_id=user_ids[i],
                defaults={"name": name, "email": f"{FIRST[i].lower()}.{LAST[i].lower()}@example.com",
                          "created_at": now - timedelta(days=200 - i)},
            )[0])

        created_tickets = 0
        team_agents = {"support": [agents["alice"], agents["sam"]], "billing": [agents["bob"]]}
        for i in range(60):
            subject, team_slug = SUBJECTS[i % len(SUBJECTS)]
            customer = customers[i % len(customers)]
            if Ticket.objects.filter(customer=customer, subject=subject).exists():
                continue
            created_tickets += 1
            opened = now - timedelta(days=rng.uniform(0, 30), minutes=rng.randint(0, 600))
            status = rng.choices(["open", "pending", "closed"], weights=[5, 2, 3])[0]
            assignee = rng.choice(team_agents[team_slug] + [None])
            ticket = Ticket.objects.create(
                subject=subject, customer=customer, team=teams[team_slug], assignee=assignee, status=status,
                priority=rng.choices(["low", "normal", "high", "urgent"], weights=[2, 6, 2, 1])[0],
                channel=rng.choice(["email", "web", "chat"]), created_at=opened, updated_at=opened,
            )
            conversation = Conversation.objects.create(ticket=ticket, created_at=opened)
            Event.objects.create(ticket=ticket, verb=Verb.OPENED, data={"channel": ticket.channel}, created_at=opened)
            at = opened
            for n in range(rng.randint(2, 6)):
                at += timedelta(minutes=rng.randint(5, 300))
                if n % 2 == 0:
                    Message.objects.create(conversation=conversation, kind="customer", body=rng.choice(CUSTOMER_LINES), created_at=at)
                else:
                    author = assignee or team_agents[team_slug][0]
                    Message.objects.create(conversation=conversation, kind="agent", author=author, body=rng.choice(AGENT_LINES), created_at=at)
                    Event.objects.create(ticket=ticket, actor=author, verb=Verb.REPLIED, created_at=at)
            if rng.random() < 0.3:
                at += timedelta(minutes=3)
                author = assignee or team_agents[team_slug][0]
                Message.objects.create(conversation=conversation, kind="note", author=author, body=rng.choice(NOTES), created_at=at)
            if status == "closed":
                at += timedelta(minutes=30)
                Event.objects.create(ticket=ticket, actor=assignee, verb=Verb.CLOSED, data={"reason": "agent"}, created_at=at)
                ticket.closed_at = at
            ticket.updated_at = at
            ticket.save(update_fields=["updated_at", "closed_at"])

        self.stdout.write(f"Demo chat site {chat_site.key!r}: open /demo/chat/?user_id=customer-001")
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {Team.objects.count()} teams, {Agent.objects.count()} agents, "
            f"{Customer.objects.count()} customers, {Ticket.objects.count()} tickets ({created_tickets} new)."
        ))
        self.stdout.write("Demo logins (password for all: %s):" % DEMO_PASSWORD)
        for username, display, role, team_slug in AGENTS:
            team = teams[team_slug].name if team_slug else "all teams"
            self.stdout.write(f"  {username:<6} {display:<13} {role.label:<11} {team}")

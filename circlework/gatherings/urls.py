"""Gatherings' pages. Each section belongs to one part of the app (views/<part>.py)."""

from django.urls import path

from circlework.core.page_cache import cacheable
from circlework.gatherings.views import calendars, federation, meeting, planning

app_name = "gatherings"

C = "circles/<slug:slug>/gatherings/"
G = "gatherings/<int:pk>/"
M = G + "on/<int:occurrence>/"  # one meeting of the gathering

urlpatterns = [
    # --- planning (views/planning.py) ---
    # The busy read-only pages are kept (core/page_cache.py): they read only the database, the
    # session and the address; "in 3 hours" may lag a minute.
    path(C, cacheable(planning.gathering_list), name="gathering_list"),
    path(C + "new/", planning.gathering_new, name="gathering_new"),
    path(G, cacheable(planning.gathering_detail), name="gathering_detail"),
    path(G + "edit/", planning.gathering_edit, name="gathering_edit"),
    path(G + "cancel/", planning.gathering_cancel, name="gathering_cancel"),
    path(M + "move/", planning.occurrence_move, name="occurrence_move"),
    path(M + "cancel/", planning.occurrence_cancel, name="occurrence_cancel"),
    path(
        "circles/<slug:slug>/polls/<int:poll>/gathering/",
        planning.gathering_from_poll,
        name="gathering_from_poll",
    ),
    # --- end planning ---
    # --- at the meeting (views/meeting.py) ---
    # Kept as the planning pages are (a POST here changes nothing).
    path(M, cacheable(meeting.occurrence_detail), name="occurrence_detail"),
    path(M + "answer/", meeting.attendance_answer, name="attendance_answer"),
    path(M + "attended/", meeting.attendance_record, name="attendance_record"),
    path(M + "agenda/add/", meeting.agenda_add, name="agenda_add"),
    path(M + "agenda/<int:item>/edit/", meeting.agenda_item_edit, name="agenda_item_edit"),
    path(M + "agenda/<int:item>/remove/", meeting.agenda_item_remove, name="agenda_item_remove"),
    path(M + "agenda/<int:item>/move/", meeting.agenda_item_move, name="agenda_item_move"),
    path(
        M + "agenda/<int:item>/accept/",
        meeting.agenda_suggestion_accept,
        name="agenda_suggestion_accept",
    ),
    path(
        M + "agenda/<int:item>/set-aside/",
        meeting.agenda_suggestion_dismiss,
        name="agenda_suggestion_dismiss",
    ),
    path(M + "minutes/write/", meeting.minutes_write, name="minutes_write"),
    path(M + "minutes/confirm/", meeting.minutes_confirm, name="minutes_confirm"),
    path(M + "minutes/correction/", meeting.minutes_correction, name="minutes_correction"),
    path(M + "minutes/history/", meeting.minutes_history, name="minutes_history"),
    # --- end at the meeting ---
    # --- calendars (views/calendars.py) ---
    path(G + "calendar.ics", calendars.gathering_ics, name="gathering_ics"),
    path("calendar/", calendars.calendar_feeds, name="calendar_feeds"),
    path("calendar/<str:token>.ics", calendars.calendar_feed, name="calendar_feed"),
    # --- end calendars ---
    # --- federation gatherings (views/federation.py) ---
    # The two busy read-only pages are kept, for visitors too (core/page_cache.py).
    path(
        "federations/<slug:slug>/gatherings/",
        cacheable(federation.federation_gathering_list),
        name="federation_gathering_list",
    ),
    path(
        "federations/<slug:slug>/gatherings/new/",
        federation.federation_gathering_new,
        name="federation_gathering_new",
    ),
    path(G + "programme/", cacheable(federation.programme), name="programme"),
    path(G + "programme/offer/", federation.session_offer, name="session_offer"),
    path(G + "programme/<int:session>/decide/", federation.session_decide, name="session_decide"),
    path(
        G + "programme/<int:session>/withdraw/",
        federation.session_withdraw,
        name="session_withdraw",
    ),
    path(G + "signups/<slug:circle>/", federation.circle_signup, name="circle_signup"),
    path(
        G + "signups/<slug:circle>/withdraw/",
        federation.circle_signup_withdraw,
        name="circle_signup_withdraw",
    ),
    path(G + "register/", federation.public_register, name="public_register"),
    path(G + "register/thanks/", federation.public_register_thanks, name="public_register_thanks"),
    path(
        "gatherings/register/cancel/<str:token>/",
        federation.registration_cancel,
        name="registration_cancel",
    ),
    path(G + "registrations.csv", federation.registrations_csv, name="registrations_csv"),
    # --- end federation gatherings ---
]

import traceback
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from bench import pages as key
from circlework.core import page_cache
from tests.perf.test_key_pages import SCALE

pytestmark = pytest.mark.django_db
WHICH = [p for p in key.PAGES if p.name in ("member home", "circle overview")]


def test_dump(django_db_setup: None, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", verbosity=0)
        v = key.Visitors()
        for size in ("small", "large"):
            if size == "large":
                call_command("seed_scale", verbosity=0, **SCALE)
            for p in WHICH:
                url = p.find()
                v.get(p, url)
                page_cache.pages.clear()
                out = []

                def wrap(execute, sql, params, many, context):
                    st = [f"{f.filename.split('/work/main/')[-1]}:{f.lineno} {f.name}" for f in traceback.extract_stack() if "/work/main/circlework" in f.filename or "/templates/" in f.filename]
                    out.append((sql[:300], params, st[-4:]))
                    return execute(sql, params, many, context)

                with connection.execute_wrapper(wrap):
                    r = v.get(p, url)
                print(f"\n=== {size} {p.name} {url} {r.status_code} q={len(out)}")
                for sql, params, st in out:
                    if "SAVEPOINT" in sql:
                        continue
                    print("  ", sql[:200], params)
                    for line in st:
                        print("        ", line)
        transaction.set_rollback(True)

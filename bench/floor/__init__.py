"""The floor: the least a Django project can do per request, served exactly like Circlework.

bench/run.py serves it with the same gunicorn settings as the app and reports every page's
requests per second as a share of this project's. No middleware, no database, no templates: one
view answering a small text/html "hello".
"""

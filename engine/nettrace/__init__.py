"""Question 4, "what happens when you type a URL": every step run for real and timed.

The tracer (visit.py) turns a URL into a list of timed events — parse, DNS, the iterative DNS
walk, TCP, TLS, HTTP, what the browser does next — that the URL screen, `microgpt-tui http` and
the tests all read. The loopback internet (demo.py: name servers, a demo CA, web servers on
127.0.0.1) lets the whole walk run with no network.
"""

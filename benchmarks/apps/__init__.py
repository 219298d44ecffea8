"""Reference apps the atlas is measured against: the floor and the naive baseline."""


def finish_dash_setup(app) -> None:
    """Dash's one-time set-up, run before gunicorn forks (as ``dashboard.serve.app.finish_dash_setup``).

    Dash 4 marks that set-up done before doing it, so a fresh threaded worker answers requests that arrive
    during the first one with 500 ("dash is not a registered library"). On a busy machine the floor page's
    concurrent bundle requests hit that window: 3 of 10 fresh loads under load got a 500 on a bundle and
    never drew their graph (the benchmark smoke run's intermittent 90 s timeout). The reference apps must
    be served as the atlas is, or they measure a race instead of Dash.
    """
    with app.server.test_request_context("/"):
        app._setup_server()  # private, no public equivalent

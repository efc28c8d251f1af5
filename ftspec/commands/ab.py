"""`ftspec ab LOG` reads an A/B test, `ftspec ab --plan` sizes one (ftspec.versions.ab); exit 1 when B is
significantly worse."""

from __future__ import annotations


def ab_command(as_json: bool = False, **options) -> int:
    from ftspec.versions.ab import ab_result

    result = ab_result(**options)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result)
    else:
        from ftspec.ui.versions import show_ab

        show_ab(result)
    return int(result["exit_code"])

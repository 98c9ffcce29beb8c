"""Key-population pages: the board (districts and employers with overdue members), employer
lists, an employer's own simple page, member-list import with its error report, member page
(record a test, take off the list), the overdue list by district. Thin adapters over
services and selectors; an employer's account is held to its own employer by `access`.
"""

from fangkong.key_populations.views.employers import (
    board,
    employer_export,
    employer_import,
    employer_link,
    employer_list,
    employer_new,
    employer_page,
    import_errors,
    import_page,
)
from fangkong.key_populations.views.members import (
    member_leave,
    member_list,
    member_page,
    member_test,
)

__all__ = [
    "board", "employer_export", "employer_import", "employer_link", "employer_list",
    "employer_new", "employer_page", "import_errors", "import_page", "member_leave",
    "member_list", "member_page", "member_test",
]  # fmt: skip

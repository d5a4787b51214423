"""The home page in a real browser: Latvian first, accessible, fits a phone, links the statement."""

import pytest

from tests.browser.support import check_page

pytestmark = pytest.mark.browser


def test_home_page(page, live_server):
    response = page.goto("/")
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "lv"
    statement = page.locator("footer a[href='/accessibility']")
    assert statement.count() == 1
    check_page(page, "home")
    statement.click()
    page.wait_for_url("**/accessibility")
    check_page(page, "accessibility statement")

"""Redirects stay on this site whatever the slashes and encodings (issue 12 item 4)."""

import pytest
from conftest import PASSWORD, csrf_token

HOSTILE = ["////evil.example", "///evil.example", "//evil.example", "/\\evil.example",
           "\\\\evil.example", "/%2F/evil.example", "%2F%2Fevil.example",
           "/%252F%252Fevil.example", "/%5Cevil.example", "/\n/evil.example",
           "/\t/evil.example", "/\r\n//evil.example", "https:evil.example",
           "javascript:alert(1)", "http://evil.example/admin/", " //evil.example"]


def _login(client, login, next_value):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", query_string={"next": next_value},
                       data={"login": login, "password": PASSWORD, "csrf_token": token})


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_never_leaves_the_site(client, tree, target):
    response = _login(client, tree.department.login, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_sign_in_keeps_a_path_of_this_site(client, tree):
    response = _login(client, tree.department.login, "/admin/institution/?page=2")
    assert response.headers["Location"] == "/admin/institution/?page=2"


@pytest.mark.parametrize("referrer", ["http://localhost////evil.example",
                                      "http://localhost/\\evil.example",
                                      "http://localhost/%2F%2Fevil.example",
                                      "https://evil.example/admin/"])
def test_language_switch_never_leaves_the_site(client, referrer):
    response = client.get("/language/en", headers={"Referer": referrer})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_language_switch_goes_back_to_the_page(client):
    response = client.get("/language/en",
                          headers={"Referer": "http://localhost/admin/institution/"})
    assert response.headers["Location"] == "/admin/institution/"

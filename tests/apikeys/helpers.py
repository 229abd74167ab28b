"""Helpers for the API key tests: the header a key travels in, the error envelope."""


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Api-Key {key}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    return body["error"]

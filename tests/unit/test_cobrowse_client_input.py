"""What Cobrowse answers is input too: an answer json cannot parse is a typed error, never a 500."""

import pytest
import requests

from integrations.cobrowse import client


@pytest.mark.parametrize("status", [200, 404])
def test_a_cobrowse_answer_nested_deeper_than_json_can_parse_is_a_typed_error(monkeypatch, status):
    class Deep:
        def request(self, *args, **kwargs):
            response = requests.Response()
            response.status_code, response._content = status, b"[" * 100_000 + b"]" * 100_000
            return response

    monkeypatch.setattr(client._transport, "session", Deep)
    cobrowse = client.CobrowseClient(lambda refresh=False: "token", api="http://127.0.0.1:1")
    with pytest.raises(client.CobrowseError) as exc:
        cobrowse.me()
    assert isinstance(exc.value, client.Unavailable if status == 200 else client.NotFound)

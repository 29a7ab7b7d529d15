"""GET /metrics as Prometheus scrapes it, from a running `python main.py`: in Prometheus' text format on loopback
without a session; on a network bind only with the metrics token (or a signed-in session)."""

from __future__ import annotations

import httpx

from tests.app_process import chat_app
from tests.fakes.provider_server import Reply

API_KEY = "chat-test-key-for-metrics"
TOKEN = "metrics-token-for-the-tests"


def test_on_loopback_metrics_answer_without_a_session_and_count_replies(tmp_path):
    with chat_app(tmp_path, CHAT_API_KEY=API_KEY) as running:
        running.fakes["openai"].play(Reply(tokens=["Hello", " there"]))
        httpx.post(
            f"{running.url}/api/chat",
            json={"message": "Hi", "model": "openai:gpt-4o-mini", "stream": False},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=20,
        )

        page = httpx.get(f"{running.url}/metrics", follow_redirects=False)

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain; version=")
    assert 'chat_replies_ended_total{model="gpt-4o-mini",provider="openai",status="complete"} 1.0' in page.text
    assert "# TYPE chat_time_to_first_token_seconds histogram" in page.text
    assert 'le="0.01"' in page.text and 'le="60.0"' in page.text


def test_on_a_network_bind_metrics_need_the_token(tmp_path):
    with chat_app(tmp_path, ["--lan"], CHAT_PASSWORD="a password for the lan", METRICS_TOKEN=TOKEN) as running:
        url = f"{running.url}/metrics"
        anonymous = httpx.get(url, follow_redirects=False)
        wrong = httpx.get(url, headers={"Authorization": "Bearer not-the-token"})
        scraped = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})

    assert anonymous.status_code == 401 and anonymous.json()["error_code"] == "AUTH"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401
    assert scraped.status_code == 200 and "chat_replies_started_total" in scraped.text

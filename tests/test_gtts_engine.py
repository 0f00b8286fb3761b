"""The gtts engine against the local batchexecute stand-in (tests/gtts_standin.py): gTTS's own
client code builds the requests, the stand-in answers with real MP3 and injected failures."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from gtts_standin import GttsStandin
from narrator.engines import create_engine, engine_class, engine_names
from narrator.engines.gtts_engine import RPC_PATH, GttsEngine, endpoint_url
from narrator.engines.gtts_protocol import prepared_request as _prepared_request
from narrator.engines.text_split import split_text
from narrator.errors import EngineError, UnknownVoice

SENTENCES = [
    "La Métropole européenne de Lille présente son plan de résilience.",
    "Il prévoit la plantation de cent mille arbres, la désimperméabilisation des cours "
    "d’école et un fonds dédié aux communes; les élus l’ont adopté à l’unanimité mardi soir.",
    "« Nous devons agir maintenant », a déclaré la présidente.",
    "Les travaux commenceront au printemps.",
    "Le budget total atteint trois millions d’euros sur cinq ans, selon le rapport.",
    "Les habitants pourront donner leur avis en ligne jusqu’en juin.",
]


def _fast(server, **options):
    """An engine on the stand-in with short waits, so failing tries cost milliseconds."""
    settings = {"url": server.url, "backoff": 0.01, "max_backoff": 0.05, "rate": 200}
    return create_engine("gtts", **{**settings, **options})


def test_registered_and_thread_based():
    assert "gtts" in engine_names()
    assert engine_class("gtts") is GttsEngine
    assert GttsEngine.concurrency == "thread"
    assert create_engine("gtts", max_workers="3").max_workers == 3


def test_speaks_through_the_batchexecute_protocol():
    with GttsStandin() as server:
        engine = _fast(server)
        audio = engine.synthesize(SENTENCES[1], language="fr")
        sent = [r for r in server.requests]
    # 165 characters, clauses of 46, 74 and 45: three requests, cut at "," and ";".
    assert [r.text for r in sent] == split_text(SENTENCES[1]) and len(sent) == 3
    assert sent[0].text.endswith("arbres,") and sent[1].text.endswith("communes;")
    assert all(r.lang == "fr" and r.outcome == "ok" and r.path == "/" + RPC_PATH for r in sent)
    # Real speech came back: seconds of audio, not silence.
    assert audio.sample_rate == 24000 and 4 < audio.duration < 20
    assert max(audio.pcm[i] for i in range(1, len(audio.pcm), 2)) > 8


def test_retries_succeed_under_30_percent_429_and_500():
    with GttsStandin(fail_rate=0.3, failures=("429", "500"), seed=7, speak=False) as server:
        engine = _fast(server, retries=12)
        with ThreadPoolExecutor(4) as pool:
            audios = list(pool.map(lambda t: engine.synthesize(t, language="fr"), SENTENCES * 3))
        outcomes = [r.outcome for r in server.requests]
        ok_texts = sorted(r.text for r in server.ok_requests())
    assert all(a.duration > 0.1 for a in audios)
    assert outcomes.count("429") > 0 and outcomes.count("500") > 0
    # Each request was answered exactly once: no part lost, none fetched twice.
    assert ok_texts == sorted(c for t in SENTENCES * 3 for c in split_text(t))


@pytest.mark.parametrize("plan", [["timeout", "ok"], ["empty", "blank", "ok"], ["garbage", "ok"],
                                  ["503", "timeout", "empty", "ok"]])
def test_timeouts_and_answers_without_audio_are_retried(plan):
    with GttsStandin(plan=plan, hang=2.0, speak=False) as server:
        engine = _fast(server, timeout=0.3)
        audio = engine.synthesize(SENTENCES[0], language="fr")
        outcomes = [r.outcome for r in server.requests]
    assert outcomes == plan and audio.duration > 0.1


def test_clear_error_after_the_last_try():
    with GttsStandin(fail_rate=1.0, failures=("429",), speak=False) as server:
        engine = _fast(server, retries=2)
        with pytest.raises(EngineError) as caught:
            engine.synthesize(SENTENCES[0], language="fr")
        assert len(server.requests) == 3
    message = str(caught.value)
    assert "after 3 tries" in message and "HTTP 429" in message and "\n" not in message


def test_refusals_other_than_429_are_not_retried():
    with GttsStandin(speak=False) as server:
        engine = create_engine("gtts", url=server.url + "/nowhere/batchexecute", retries=5)
        with pytest.raises(EngineError, match="HTTP 404"):
            engine.synthesize(SENTENCES[0], language="fr")
        assert len(server.requests) == 1


def test_retry_after_is_honoured():
    with GttsStandin(plan=["429", "ok"], retry_after=0.6, speak=False) as server:
        _fast(server, max_backoff=5).synthesize(SENTENCES[0], language="fr")
        first, second = server.requests
    assert second.time - first.time >= 0.6


def test_rate_limit_holds_across_threads_and_engine_instances():
    rate = 8.0
    with GttsStandin(speak=False) as server:
        engines = [_fast(server, rate=rate, max_workers=4) for _ in range(2)]
        texts = [f"Phrase numéro {i}, pour mesurer le débit." for i in range(24)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda it: engines[it[0] % 2].synthesize(it[1], language="fr"),
                          enumerate(texts)))
        times = sorted(r.time for r in server.requests)
    assert len(times) == 24
    # Arrival times at the server jitter a little (thread scheduling), so the checks are
    # on windows: the mean rate, and any one-second window holding at most rate + 1 starts.
    assert (len(times) - 1) / (times[-1] - times[0]) <= rate * 1.02
    for i, start in enumerate(times):                      # any one-second window
        assert sum(1 for t in times[i:] if t < start + 1.0) <= rate + 1


def test_requests_in_flight_are_bounded_by_max_workers():
    with GttsStandin(delay=0.2, speak=False) as server:
        engine = _fast(server, max_workers=2)
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda t: engine.synthesize(t, language="fr"), SENTENCES))
        assert server.max_in_flight == 2


def test_threads_sharing_one_engine_get_their_own_audio():
    texts = SENTENCES[:4]
    with GttsStandin(fail_rate=0.2, seed=3) as server:
        engine = _fast(server, retries=12)
        alone = [engine.synthesize(t, language="fr").pcm for t in texts]
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(lambda t: engine.synthesize(t, language="fr").pcm,
                                     texts * 2))
    assert together == alone * 2
    assert len(set(alone)) == len(texts)


def test_tld_reaches_the_url():
    assert endpoint_url(None, "co.uk") == ("https://translate.google.co.uk/" + RPC_PATH)
    # gTTS's own request object, as the engine builds it (not sent anywhere).
    engine = create_engine("gtts", tld="com.au")
    assert engine.url == "https://translate.google.com.au/" + RPC_PATH
    request = _prepared_request("Hello.", "en", False, "com.au", engine.url)
    assert request.url == engine.url and request.body.startswith("f.req=")
    assert engine.settings()["tld"] == "com.au"
    with GttsStandin(speak=False) as server:
        engine = create_engine("gtts", url=server.url + "/{tld}/", tld="ca")
        engine.synthesize("Bonjour.", language="fr")
        assert server.requests[0].path == "/ca/" + RPC_PATH


def test_narrator_gtts_url_environment_variable(monkeypatch):
    with GttsStandin(speak=False) as server:
        monkeypatch.setenv("NARRATOR_GTTS_URL", server.url)
        engine = create_engine("gtts")
        assert engine.url == server.url + "/" + RPC_PATH
        engine.synthesize("Bonjour.", language="fr")
        assert GttsEngine.unavailable_reason() is None
        assert [r.text for r in server.requests] == ["Bonjour.", "Test"]
        # The option wins over the environment.
        assert create_engine("gtts", url="http://127.0.0.1:9").url.startswith(
            "http://127.0.0.1:9/")
        port = server.port
    monkeypatch.setenv("NARRATOR_GTTS_URL", f"http://127.0.0.1:{port}")
    reason = GttsEngine.unavailable_reason(timeout=0.5)
    assert reason and "unreachable" in reason


def test_unavailable_reason_reports_a_failing_endpoint():
    with GttsStandin(fail_rate=1.0, failures=("503",), speak=False) as server:
        assert "HTTP 503" in GttsEngine.unavailable_reason(url=server.url)
    with GttsStandin(fail_rate=1.0, failures=("empty",), speak=False) as server:
        assert "without audio" in GttsEngine.unavailable_reason(url=server.url)


def test_nothing_speakable_sends_nothing():
    with GttsStandin(speak=False) as server:
        audio = _fast(server).synthesize("« … » —", language="fr")
        assert server.requests == []
    assert 0 < audio.duration <= 0.2 and set(audio.pcm) == {0}


def test_voices_bad_options_and_settings():
    engine = create_engine("gtts")
    assert {"fr", "en", "de"} <= {v.id for v in engine.voices()}
    assert engine.resolve_voice("fr", None) == "fr"
    with pytest.raises(UnknownVoice):
        engine.resolve_voice("xx", None)
    with pytest.raises(EngineError, match="rate"):
        create_engine("gtts", rate="fast")
    with pytest.raises(EngineError):
        create_engine("gtts", rate=0)
    with pytest.raises(EngineError, match="unknown option 'rates'"):
        create_engine("gtts", rates=3)
    with pytest.raises(EngineError, match="bad tld"):
        create_engine("gtts", tld="com/evil")
    with pytest.raises(EngineError, match="http"):
        create_engine("gtts", url="127.0.0.1:8000")
    # Transport settings do not change the sound, so they stay out of the cache key.
    assert create_engine("gtts", rate=1, retries=9).settings() == {"tld": "com", "slow": False}
    assert create_engine("gtts", slow="true").settings()["slow"] is True


def test_an_instance_probes_its_own_endpoint(monkeypatch):
    monkeypatch.delenv("NARRATOR_GTTS_URL", raising=False)
    with GttsStandin(speak=False) as server:
        engine = create_engine("gtts", url=server.url + "/{tld}/", tld="fr")
        assert engine.unavailable_reason() is None
        assert [(r.text, r.path) for r in server.requests] == [("Test", "/fr/" + RPC_PATH)]


def test_an_unreachable_endpoint_is_not_waited_for():
    """No connection twice in a row (no network, nothing listening) ends the probe at once;
    the engine's full retry policy (here 8 retries of up to 20 s) is for an endpoint that
    answers, and before this an offline `list_voices` or `--engine gtts` waited a minute."""
    import socket
    import time

    with socket.socket() as sock:      # a port on which nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = create_engine("gtts", url=f"http://127.0.0.1:{port}/", backoff=0.2,
                           max_backoff=20)
    started = time.monotonic()
    reason = engine.unavailable_reason()
    assert reason is not None and "after 2 tries" in reason and "connection failed" in reason
    assert time.monotonic() - started < 5      # 2 tries, one backoff of at most 0.2 s
    with pytest.raises(EngineError, match="after 3 tries"):   # utterances keep their policy
        create_engine("gtts", url=f"http://127.0.0.1:{port}/", retries=2,
                      backoff=0.01).synthesize("Bonjour.", language="fr")

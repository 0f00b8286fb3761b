"""`/sites/{host}/feed.xml`: every narrated page of a registered site as a podcast, in the
same format as the batch's feed (narrator.feed renders both). An episode's guid derives from
the page's canonical URL, so a page narrated again after an edit stays the same episode; its
enclosure is the narration served now."""
from __future__ import annotations

from functools import lru_cache

from ..artwork import title_artwork
from ..feed import Channel, Episode, describe_channel, pub_date, render
from .jobs import JobStore
from .pagestore import PageStore
from .runner import article_meta
from .sites import Site


def site_feed(site: Site, pages: PageStore, jobs: JobStore, base: str) -> str:
    base = base.rstrip("/")
    episodes = []
    for page in pages.narrated(site.origin):
        job = jobs.get(page.job)
        if job is None or job.status != "done":
            continue
        folder = jobs.folder(job.id)
        try:
            size = (folder / "audio.mp3").stat().st_size
        except OSError:
            continue
        meta = article_meta(folder)
        files = f"{base}/v1/narrations/{job.id}"
        episodes.append(Episode(
            id=page.url, title=job.title or page.url,
            description=meta.get("description") or job.title or "", link=page.url,
            published=pub_date(meta.get("published"), page.created),
            audio_url=f"{files}/audio.mp3", audio_bytes=size, duration=job.duration or 0.0,
            chapters_url=f"{files}/chapters.json", transcript_url=f"{files}/transcript.vtt",
            language=job.language, image_url=meta.get("image_url")))
    title, author, language, description = describe_channel(
        [site.host] * max(1, len(episodes)), [e.language for e in episodes],
        title=site.title, author=site.author, language=site.language)
    here = f"{base}/sites/{site.host}"
    channel = Channel(title=title, author=author, language=language, description=description,
                      link=site.origin, feed_url=f"{here}/feed.xml",
                      artwork_url=f"{here}/artwork.png")
    return render(channel, episodes)


def site_title(site: Site) -> str:
    return describe_channel([site.host], [], title=site.title)[0]


@lru_cache(maxsize=64)
def artwork(title: str) -> bytes:
    return title_artwork(title, "Narrated articles")

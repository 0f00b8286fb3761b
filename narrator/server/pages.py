"""Pages narrated on a reader's request (the player's auto mode) and at publication (the
publish hook): which narration a page has, and the work that keeps it fresh.

A reader's request never carries the page's HTML: the server fetches the page itself,
through the guarded fetcher, and only on a registered site (sites.py). What a reader can
start is bounded: a rate per client address, a number of unknown pages per client, a cap of
narrations per site and hour, and a bound on pages in progress at once. A page older than
its site's freshness interval is checked again (a conditional GET) on the next request while
the old audio keeps being served; if its spoken text changed, the new version is narrated
(the synthesis cache makes that cost only the edited sentences) and replaces the old one
when it is ready.
"""
from __future__ import annotations

import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import InputError, NarratorError
from .job import job_id, links
from .jobs import JobStore
from .limits import Buckets, client_key
from .pagestore import Page, PageStore
from .sites import Site, SiteFetcher, Sites
from .workers import WorkerPool

log = logging.getLogger("narrator.server")


@dataclass(frozen=True)
class PageLimits:
    client_rate: float = 2.0  # requests a second per client address (0: no limit)
    client_burst: int = 60
    client_new_pages: int = 30  # unknown pages one client may bring per hour
    max_pending: int = 100  # pages being fetched or narrated at once
    fetch_workers: int = 4
    first_retry_s: float = 1.0  # what a waiting widget is told to wait first

    @classmethod
    def from_table(cls, table: dict) -> "PageLimits":
        unknown = set(table) - set(cls.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown key(s) in [server.pages]: {', '.join(sorted(unknown))}")
        for key, value in table.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InputError(f"[server.pages] {key} must be a number >= 0")
        return cls(**table)


Answer = tuple[int, dict, dict]  # HTTP status, JSON body, headers


class PageService:
    def __init__(self, jobs: JobStore, pool: WorkerPool, pages: PageStore, sites: Sites,
                 fetcher: SiteFetcher, engine: str, limits: PageLimits = PageLimits()):
        self.jobs, self.pool, self.pages, self.sites = jobs, pool, pages, sites
        self.fetcher, self.engine, self.limits = fetcher, engine, limits
        self.requests = Buckets(limits.client_rate, limits.client_burst)
        self.new_pages = Buckets(limits.client_new_pages / 3600.0, limits.client_new_pages)
        self.fetches = ThreadPoolExecutor(max(1, limits.fetch_workers),
                                          thread_name_prefix="narrator-page-fetch")
        pool.listeners.append(self.job_ended)

    def close(self) -> None:
        self.fetches.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ readers

    def request(self, raw_url, client: str | None) -> Answer:
        """GET /v1/pages?url=...: the page's narration, or the work to make it."""
        key = client_key(client)
        wait = self.requests.take(key)
        if wait:
            return _too_many("too many requests from this address", wait)
        site, url = self.sites.page(raw_url)  # SiteError (403) before anything else
        page = self.pages.get(url)
        if page is None:
            return self._unknown(site, url, key)
        page = self._resolve(page)
        stale_before = time.time() - site.fresh_s
        if (not page.pending and (page.checked or 0) < stale_before
                and self.pages.claim_check(url, stale_before=stale_before)):
            self._fetch(site, page.url, page.etag, page.last_modified, by_reader=True)
            page = self.pages.get(url)
        return self.view(page, site)

    def _unknown(self, site: Site, url: str, key: str) -> Answer:
        wait = self.new_pages.take(key)
        if wait:
            return _too_many("this address has asked for too many new pages", wait)
        outcome = self.pages.create(url, site.origin, cap=site.hourly_cap,
                                    max_pending=self.limits.max_pending)
        if outcome == "busy":
            return 503, {"status": "busy", "error": "too many pages in preparation; try "
                         "again later", "retry_after": 30}, {"Retry-After": "30"}
        if outcome == "capped":
            return _too_many(f"the site's cap of {site.hourly_cap} narrations an hour is "
                             f"reached", 600.0)
        if outcome == "created":
            self._fetch(site, url, None, None, by_reader=True)
        return self.view(self.pages.get(url), site)

    def view(self, page: Page, site: Site) -> Answer:
        job = self.jobs.get(page.job) if page.job else None
        if page.job and (job is None or job.status != "done"):  # deleted by the operator
            self.pages.forget_job(page.url, page.job)
            job = None
        body = {"id": page.id, "url": page.url}
        if job is not None:
            body.update(status="ready", narration=job.id, title=job.title,
                        language=job.language, duration=job.duration,
                        updating=bool(page.pending or page.checking),
                        links=_links(job.id))
            return 200, body, {"Cache-Control": "no-cache"}
        if page.pending or page.checking:
            pending = self.jobs.get(page.pending) if page.pending else None
            retry = self._retry_after(pending)
            body.update(status="preparing", preparing=site.preparing, retry_after=retry,
                        progress=pending.progress if pending else 0.0)
            return 202, body, {"Retry-After": str(max(1, round(retry))),
                               "Cache-Control": "no-store"}
        body.update(status="unavailable", reason=page.error or "not narrated")
        return 200, body, {"Cache-Control": "no-cache"}

    def _retry_after(self, job) -> float:
        """When to ask again: from the narration's progress so far when it is running (a
        waiting player then shows the audio soon after it is ready), else a first guess."""
        first = self.limits.first_retry_s
        if job is None or job.status != "running" or not job.started or job.progress < 0.05:
            return first if job is None or job.status != "queued" else 2 * first
        elapsed = time.time() - job.started
        remaining = elapsed * (1 - job.progress) / job.progress
        return round(min(15.0, max(0.5, remaining + 0.2)), 1)

    # ------------------------------------------------------------------ publishers

    def publish(self, raw_url) -> Answer:
        """POST /v1/pages {"url"}: check the page now, whatever its age; no cap applies."""
        site, url = self.sites.page(raw_url)
        page = self.pages.get(url)
        if page is None:
            if self.pages.create(url, site.origin) == "created":
                self._fetch(site, url, None, None, by_reader=False)
        elif self.pages.claim_check(url, stale_before=None):
            self._fetch(site, url, page.etag, page.last_modified, by_reader=False)
        code, body, headers = self.view(self.pages.get(url), site)
        return (202 if code == 200 and body["status"] != "ready" else code), body, headers

    def publish_site(self, site: Site) -> Answer:
        """Every known page of the site checked now (a site-wide publish: Webflow's hook)."""
        started = 0
        for page in self.pages.known(site.origin):
            if self.pages.claim_check(page.url, stale_before=None):
                self._fetch(site, page.url, page.etag, page.last_modified, by_reader=False)
                started += 1
        return 202, {"site": site.origin, "checking": started}, {}

    # ------------------------------------------------------------------ work

    def options(self, site: Site) -> dict:
        options = {"engine": site.engine or self.engine}
        if site.voice:
            options["voice"] = site.voice
        if site.rules is not None:  # its content too: an edited rules file is new work
            options["rules"] = [str(site.rules)]
            options["rules_sha256"] = hashlib.sha256(site.rules.read_bytes()).hexdigest()
        return options

    def _fetch(self, site: Site, url: str, etag, last_modified, *, by_reader: bool) -> None:
        self.fetches.submit(self._check, site, url, etag, last_modified, by_reader)

    def _check(self, site: Site, url: str, etag, last_modified, by_reader: bool) -> None:
        try:
            fetched = self.fetcher.fetch(url, etag=etag, last_modified=last_modified)
            if fetched.status == 304:
                self.pages.checked(url)
                return
            options = self.options(site)
            validators = (fetched.headers.get("etag"), fetched.headers.get("last-modified"))
            page = self.pages.get(url)
            if job_id(fetched.body, options) in (page.job, page.pending):
                self.pages.checked(url, etag=validators[0], last_modified=validators[1],
                                   keep_validators=False)
                return
            if by_reader and page.job and not self.pages.admit(site.origin, site.hourly_cap):
                self.pages.checked(url)  # the old audio stays; the next check tries again
                log.warning("page %s changed; not narrated again yet: the site's hourly cap "
                            "is reached", url)
                return
            job, _created = self.jobs.submit(fetched.body, options, url)
            self.pages.set_pending(url, job.id, *validators)
            if job.status == "queued":
                self.pool.notify()
            else:  # already narrated (done) or failed: settle the page now
                self.job_ended(job.id)
        except NarratorError as exc:
            self.pages.checked(url, error=str(exc))
        except Exception as exc:  # a bug: the page says so, the server goes on
            log.exception("checking %s failed", url)
            self.pages.checked(url, error=f"internal error: {type(exc).__name__}")

    def job_ended(self, id: str) -> None:
        for page in self.pages.with_pending(id):
            self._resolve(page)

    def _resolve(self, page: Page) -> Page:
        """Moves a page on once its pending narration has ended."""
        if not page.pending:
            return page
        job = self.jobs.get(page.pending)
        if job is None:
            self.pages.pending_failed(page.url, page.pending, "the narration was deleted")
        elif job.status == "failed":
            self.pages.pending_failed(page.url, job.id, job.error or "the narration failed")
        elif job.status == "done":
            leaving = self.pages.promote(page.url, job.id)
            if leaving and leaving != job.id and not self.pages.referenced(leaving):
                self.jobs.delete(leaving)  # two versions back: no reader is left on it
        else:
            return page
        return self.pages.get(page.url)


def _links(id: str) -> dict:
    """What the widget follows: a subset of the narration's links (job.links)."""
    every = links(id)
    return {key: every[key] for key in ("self", "embed", "audio", "chapters", "transcript")}


def _too_many(message: str, wait: float) -> Answer:
    seconds = max(1, int(wait + 0.999))
    return 429, {"status": "limited", "error": message, "retry_after": seconds}, \
        {"Retry-After": str(seconds)}


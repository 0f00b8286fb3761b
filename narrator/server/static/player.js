/* narrator player: the "Listen to this article" widget. Plain JS, no dependencies.
   <div data-narrator="ID">            served by `narrator serve` (this script's origin)
   <div data-narrator="path/OUT.mp3">  OUT.chapters.json and OUT.transcript.vtt beside it
   <div data-narrator-auto>            this page (its canonical URL), on a site registered with
                                       the server: appears once the page is narrated
   Optional: data-lang, data-title, data-key (position memory), data-chapters, data-transcript,
   and a child JSON script element {chapters, transcript, title, language} (the embed snippet).
   Article text only ever reaches the page through textContent and attributes. */
(function () {
  "use strict";
  var STRINGS = /*@STRINGS@*/{"en": {"listen": "Listen to this article"}};
  var SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
  var ID = /^[0-9a-f]{32}$/;
  var SCRIPT = document.currentScript && document.currentScript.src;
  var uid = 0;

  function el(tag, cls, attrs, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function clock(s) {
    s = Math.max(0, Math.floor(s || 0));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  function store(key, value) {
    try { if (value === undefined) return localStorage.getItem(key); localStorage.setItem(key, value); } catch (e) { return null; }
  }
  function vttTime(t) {
    var p = t.trim().split(":"), s = 0;
    for (var i = 0; i < p.length; i++) s = s * 60 + parseFloat(p[i]);
    return s;
  }
  function parseVtt(text) {
    var cues = [], blocks = String(text || "").replace(/\r/g, "").split(/\n\n+/);
    blocks.forEach(function (b) {
      var lines = b.split("\n"), i = lines.findIndex(function (l) { return l.indexOf("-->") >= 0; });
      if (i < 0) return;
      var t = lines[i].split("-->");
      var body = lines.slice(i + 1).join(" ").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
        .replace(/&nbsp;/g, "\u00a0").replace(/&amp;/g, "&");
      cues.push({ start: vttTime(t[0]), end: vttTime(t[1].trim().split(/\s/)[0]), text: body });
    });
    return cues;
  }
  function getJSON(url) { return fetch(url).then(function (r) { if (!r.ok) throw r.status; return r.json(); }); }
  function getText(url) { return fetch(url).then(function (r) { if (!r.ok) throw r.status; return r.text(); }); }

  function sources(root) {
    var d = root.dataset, ref = d.narrator || "", src = {};
    if (ID.test(ref)) {
      var base = new URL("/v1/narrations/" + ref + "/", SCRIPT || location.href).href;
      src = { audio: base + "audio.mp3", chapters: base + "chapters.json",
              transcript: base + "transcript.vtt", key: ref };
    } else {
      var stem = ref.replace(/\.mp3$/i, "");
      src = { audio: ref, chapters: stem + ".chapters.json", transcript: stem + ".transcript.vtt", key: ref };
    }
    if (d.chapters) src.chapters = d.chapters;
    if (d.transcript) src.transcript = d.transcript;
    if (d.key) src.key = d.key;
    return src;
  }

  function load(root) {
    var src = sources(root), inline = root.querySelector('script[type="application/json"]');
    var data = inline ? Promise.resolve(JSON.parse(inline.textContent)) :
      Promise.all([getJSON(src.chapters).catch(function () { return {}; }),
                   getText(src.transcript).catch(function () { return ""; })])
        .then(function (r) { return { chapters: r[0], transcript: r[1] }; });
    return data.then(function (d) {
      var ch = (d.chapters && d.chapters.chapters) || [];
      return {
        src: src,
        title: root.dataset.title || d.title || (d.chapters && d.chapters.title) || document.title,
        lang: (root.dataset.lang || d.language || root.closest("[lang]") && root.closest("[lang]").lang || "en").toLowerCase(),
        duration: d.chapters && d.chapters.narrator && d.chapters.narrator.duration,
        chapters: ch.map(function (c) { return { start: +c.startTime || 0, title: String(c.title || "") }; }),
        cues: parseVtt(d.transcript)
      };
    });
  }

  function build(root, m) {
    var T = STRINGS[m.lang.split("-")[0]] || STRINGS.en;
    var audio = el("audio", "", { preload: "metadata", src: m.src.audio });
    var posKey = "narrator:pos:" + m.src.key;
    var box = el("section", "nr", { "aria-label": T.player + " : " + m.title, lang: m.lang });
    // A toggle button: its name says what it is, aria-pressed whether it is playing (a
    // changing name would contradict the state); the length is its description.
    var durId = "nr-dur-" + (++uid);
    var listen = el("button", "nr-listen", { type: "button", "aria-expanded": "false",
      "aria-pressed": "false", "aria-label": T.listen, "aria-describedby": durId });
    listen.appendChild(el("span", "nr-icon", { "aria-hidden": "true" }, "\u25b6"));
    listen.appendChild(el("span", "nr-label", null, T.listen));
    var dur = el("span", "nr-dur", { id: durId }, m.duration ? " \u00b7 " + Math.max(1, Math.round(m.duration / 60)) + " " + T.minutes : "");
    listen.appendChild(dur);
    var panel = el("div", "nr-panel", { hidden: "" });
    var bar = el("div", "nr-controls");
    var back = el("button", "nr-back", { type: "button", "aria-label": T.back }, "\u221215");
    var play = el("button", "nr-play", { type: "button", "aria-label": T.play }, "\u25b6");
    var fwd = el("button", "nr-fwd", { type: "button", "aria-label": T.forward }, "+15");
    var prog = el("div", "nr-progress", { role: "slider", tabindex: "0", "aria-label": T.position,
      "aria-valuemin": "0", "aria-valuemax": "0", "aria-valuenow": "0" });
    var fill = el("div", "nr-fill");
    prog.appendChild(fill);
    var time = el("span", "nr-time", { "aria-hidden": "true" }, "0:00");
    var speedLabel = el("label", "nr-speed");
    speedLabel.appendChild(el("span", "nr-sr", null, T.speed + " "));
    var speed = el("select", "", { "aria-label": T.speed });
    SPEEDS.forEach(function (s) { speed.appendChild(el("option", "", { value: String(s) }, s + "\u00d7")); });
    speed.value = store("narrator:rate") || "1";
    speedLabel.appendChild(speed);
    [back, play, fwd, prog, time, speedLabel].forEach(function (c) { bar.appendChild(c); });
    panel.appendChild(bar);

    var chapList = el("ol", "nr-chapters", { "aria-label": T.chapters });
    var chapButtons = m.chapters.map(function (c, i) {
      var li = el("li"), b = el("button", "nr-chapter", { type: "button" });
      b.appendChild(el("span", "nr-ctime", null, clock(c.start)));
      b.appendChild(el("span", "nr-ctitle", null, c.title));
      b.addEventListener("click", function () { seek(c.start, true); });
      li.appendChild(b); chapList.appendChild(li);
      return b;
    });
    if (m.chapters.length > 1) {
      panel.appendChild(el("h3", "nr-h", null, T.chapters));
      panel.appendChild(chapList);
    }
    var tr = el("div", "nr-transcript", { role: "group", "aria-label": T.transcript }), para = null;
    var cueEls = m.cues.map(function (c, i) {
      var k = find(m.chapters, c.start), heading = k >= 0 && m.chapters[k].title === c.text;
      if (!para || heading) { para = el("p", "nr-para"); tr.appendChild(para); }
      var s = el("span", heading ? "nr-cue nr-cue-h" : "nr-cue", { role: "button", tabindex: i ? "-1" : "0" }, c.text);
      s.addEventListener("click", function () { seek(c.start, true); });
      s.addEventListener("keydown", function (e) {
        var j = { ArrowDown: i + 1, ArrowRight: i + 1, ArrowUp: i - 1, ArrowLeft: i - 1, Home: 0, End: cueEls.length - 1 }[e.key];
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); seek(c.start, true); }
        else if (j !== undefined && cueEls[j]) { e.preventDefault(); rove(j); cueEls[j].focus(); }
      });
      para.appendChild(s); para.appendChild(document.createTextNode(" "));
      if (heading) para = null;
      return s;
    });
    if (m.cues.length) {
      panel.appendChild(el("h3", "nr-h", null, T.transcript));
      panel.appendChild(tr);
    }
    box.appendChild(listen); box.appendChild(panel); box.appendChild(audio);
    root.textContent = "";
    root.appendChild(box);

    var total = m.duration || 0, current = -1, chapter = -1, saved = 0;
    // The narration's own length (its timeline, from chapters.json) when known: a browser's
    // figure for an MP3 can count the encoder's padding, and End would seek past the end.
    function length() { return total > 0 ? total : isFinite(audio.duration) && audio.duration > 0 ? audio.duration : 0; }
    function rove(j) { cueEls.forEach(function (c, k) { c.setAttribute("tabindex", k === j ? "0" : "-1"); }); }
    function find(list, t) {
      var lo = 0, hi = list.length - 1, r = -1;
      while (lo <= hi) { var mid = (lo + hi) >> 1; if (list[mid].start <= t + 0.05) { r = mid; lo = mid + 1; } else hi = mid - 1; }
      return r;
    }
    function seek(t, start) {
      audio.currentTime = Math.max(0, Math.min(t, length() || t));
      update();
      if (start) audio.play().catch(function () {});
    }
    function ticks() {
      if (!length()) return;
      m.chapters.forEach(function (c, i) {
        if (i === 0) return;
        var k = el("span", "nr-tick", { "aria-hidden": "true" });
        k.style.left = (100 * c.start / length()) + "%";
        prog.appendChild(k);
      });
      ticks = function () {};
    }
    function update() {
      var t = audio.currentTime, d = length();
      fill.style.width = d ? (100 * t / d) + "%" : "0";
      prog.setAttribute("aria-valuemax", String(Math.round(d)));
      prog.setAttribute("aria-valuenow", String(Math.round(t)));
      prog.setAttribute("aria-valuetext", clock(t) + " " + T.of + " " + clock(d));
      time.textContent = clock(t) + " / " + clock(d);
      var i = find(m.cues, t);
      if (i !== current) {
        if (cueEls[current]) { cueEls[current].classList.remove("nr-current"); cueEls[current].removeAttribute("aria-current"); }
        current = i;
        if (cueEls[i]) {
          cueEls[i].classList.add("nr-current"); cueEls[i].setAttribute("aria-current", "true");
          if (!tr.contains(document.activeElement)) rove(i);
          var top = cueEls[i].offsetTop;  // .nr-transcript is the offsetParent
          if (top < tr.scrollTop || top > tr.scrollTop + tr.clientHeight - 30) tr.scrollTop = top - tr.clientHeight / 3;
        }
      }
      var c = find(m.chapters, t);
      if (c !== chapter) {
        if (chapButtons[chapter]) chapButtons[chapter].removeAttribute("aria-current");
        chapter = c;
        if (chapButtons[c]) chapButtons[c].setAttribute("aria-current", "true");
      }
      if (t > 1 && Math.abs(t - saved) >= 2) { saved = t; store(posKey, t.toFixed(1)); }
      if ("mediaSession" in navigator && d && navigator.mediaSession.setPositionState) {
        try { navigator.mediaSession.setPositionState({ duration: d, playbackRate: audio.playbackRate, position: Math.min(t, d) }); } catch (e) {}
      }
    }
    function toggle() { if (audio.paused) audio.play().catch(function () {}); else audio.pause(); }
    function state() {
      var playing = !audio.paused;
      play.textContent = playing ? "\u275a\u275a" : "\u25b6";
      play.setAttribute("aria-label", playing ? T.pause : T.play);
      listen.firstChild.textContent = playing ? "\u275a\u275a" : "\u25b6";
      listen.setAttribute("aria-pressed", playing ? "true" : "false");
      box.classList.toggle("nr-playing", playing);
      if ("mediaSession" in navigator) navigator.mediaSession.playbackState = playing ? "playing" : "paused";
    }
    function open() {
      panel.hidden = false;
      listen.setAttribute("aria-expanded", "true");
      resize();
    }
    var resize = framed(box, [panel, listen]);

    listen.addEventListener("click", function () {
      var first = panel.hidden;
      open();
      if (first || audio.paused) audio.play().catch(function () {}); else audio.pause();
    });
    play.addEventListener("click", toggle);
    back.addEventListener("click", function () { seek(audio.currentTime - 15); });
    fwd.addEventListener("click", function () { seek(audio.currentTime + 15); });
    speed.addEventListener("change", function () { audio.playbackRate = +speed.value; store("narrator:rate", speed.value); });
    prog.addEventListener("click", function (e) {
      var r = prog.getBoundingClientRect();
      seek(length() * (e.clientX - r.left) / r.width);
    });
    prog.addEventListener("keydown", function (e) {
      var t = audio.currentTime, d = length();
      var to = { ArrowRight: t + 5, ArrowUp: t + 5, ArrowLeft: t - 5, ArrowDown: t - 5,
                 PageUp: t + 60, PageDown: t - 60, Home: 0, End: d }[e.key];
      if (e.key === " " || e.key === "Enter") { e.preventDefault(); toggle(); }
      else if (to !== undefined) { e.preventDefault(); seek(to); }
    });
    box.addEventListener("keydown", function (e) {  // j / k / l like most web players
      if (e.target.tagName === "SELECT" || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === "k") toggle();
      else if (e.key === "j") seek(audio.currentTime - 15);
      else if (e.key === "l") seek(audio.currentTime + 15);
    });
    audio.addEventListener("timeupdate", update);
    audio.addEventListener("seeked", update);
    audio.addEventListener("play", function () { open(); state(); session(); });
    audio.addEventListener("pause", function () { state(); store(posKey, audio.currentTime.toFixed(1)); });
    audio.addEventListener("ended", function () { state(); store(posKey, "0"); });
    audio.addEventListener("error", function () { dur.textContent = " \u00b7 " + T.error; });
    audio.addEventListener("loadedmetadata", function () {
      audio.playbackRate = +speed.value;
      var p = parseFloat(store(posKey) || "0");
      if (p >= 2 && p < length() - 2) audio.currentTime = p;
      ticks(); update();
    });
    if (total) ticks();

    function session() {
      if (!("mediaSession" in navigator) || !window.MediaMetadata) return;
      navigator.mediaSession.metadata = new MediaMetadata({ title: m.title, artist: location.hostname });
      var h = { play: function () { audio.play(); }, pause: function () { audio.pause(); },
        seekbackward: function (d) { seek(audio.currentTime - (d.seekOffset || 15)); },
        seekforward: function (d) { seek(audio.currentTime + (d.seekOffset || 15)); },
        seekto: function (d) { seek(d.seekTime); },
        previoustrack: function () { var c = find(m.chapters, audio.currentTime - 3); seek(c > 0 ? m.chapters[c].start : 0); },
        nexttrack: function () { var c = find(m.chapters, audio.currentTime); if (m.chapters[c + 1]) seek(m.chapters[c + 1].start); } };
      for (var k in h) { try { navigator.mediaSession.setActionHandler(k, h[k]); } catch (e) {} }
    }
    root.narrator = { audio: audio, seek: seek, toggle: toggle };
    update();
  }

  // In the embed page (an iframe): fit the frame's height, scrolling chapters and transcript
  // inside it when the player is taller, and tell the parent page the height the player
  // wants ({type: "narrator:resize", height}), so a page that listens can resize the frame.
  function framed(box, parts) {
    if (!document.body.classList.contains("nr-embed")) return function () {};
    var told = -1;
    function measure() {
      box.classList.remove("nr-fit");
      var natural = Math.ceil(box.getBoundingClientRect().height);
      if (natural > window.innerHeight) box.classList.add("nr-fit");
      if (natural !== told && window.parent !== window) {
        told = natural;
        window.parent.postMessage({ type: "narrator:resize", height: natural }, "*");
      }
    }
    if (window.ResizeObserver) {
      var watch = new ResizeObserver(measure);
      watch.observe(box);
      parts.forEach(function (p) { watch.observe(p); });
    }
    window.addEventListener("resize", measure);
    measure();
    return measure;
  }

  function mount(root) {
    load(root).then(function (m) { build(root, m); }).catch(function (e) {
      root.dataset.narratorReady = "error";
      if (window.console) console.error("narrator player:", e);
    });
  }

  // Auto mode: ask the server for this page's narration; nothing shows until it exists (a
  // site may show a discreet "in preparation" line). The status, and why there is no player,
  // are in data-narrator-status / data-narrator-reason.
  function auto(root) {
    var canonical = document.querySelector('link[rel~="canonical"][href]');
    var page = canonical ? canonical.href : location.origin + location.pathname;
    var api = new URL("/v1/pages", SCRIPT || location.href);
    api.searchParams.set("url", page);
    var lang = (root.closest("[lang]") && root.closest("[lang]").lang || "en").toLowerCase();
    var T = STRINGS[lang.split("-")[0]] || STRINGS.en;
    var delay = 0, since = Date.now(), notice = null;
    function status(s, reason) {
      root.dataset.narratorStatus = s;
      if (reason) root.dataset.narratorReason = reason;
    }
    // When to ask again: the server's estimate (from the narration's progress), never under
    // half a second nor under a twentieth of the wait so far; without one (a network error),
    // 2 s growing x1.6 up to a minute. After 30 minutes the widget gives up.
    function later(seconds) {
      var waited = Date.now() - since;
      if (waited > 1800000) return status("gave-up");
      delay = seconds ? 1000 * seconds : Math.min(60000, delay ? delay * 1.6 : 2000);
      setTimeout(ask, Math.min(60000, Math.max(500, waited / 20, delay)));
    }
    function ask() {
      fetch(api.href, { credentials: "omit", cache: "no-store" }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          if (b.status === "ready" && ID.test(b.narration || "")) {
            if (notice) notice.remove();
            root.dataset.narrator = b.narration;
            root.dataset.key = "page:" + b.url;  // the position survives a new version
            if (b.title) root.dataset.title = b.title;
            if (b.language) root.dataset.lang = b.language;
            status("ready");
            return mount(root);
          }
          if (b.status === "preparing" || r.status === 429 || r.status === 503) {
            status(b.status || "waiting");
            if (b.preparing && !notice) {
              notice = el("p", "nr-preparing", { role: "status" }, T.preparing);
              root.appendChild(notice);
            }
            return later(b.retry_after);
          }
          if (notice) notice.remove();
          status(b.status || "error", b.reason || b.error);  // no article, or refused: hidden
        });
      }).catch(function () { later(0); });
    }
    ask();
  }

  function init() {
    var nodes = document.querySelectorAll("[data-narrator], [data-narrator-auto]");
    Array.prototype.forEach.call(nodes, function (root) {
      if (root.dataset.narratorReady) return;
      root.dataset.narratorReady = "1";
      if (root.hasAttribute("data-narrator-auto") && !root.dataset.narrator) auto(root);
      else mount(root);
    });
  }
  window.NarratorPlayer = { init: init };  // for pages that add widgets after loading
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

/// The console's stylesheet, script and icons, served by Latchkey itself (no CDN, no framework).
///
/// The script is progressive: without it every page works, and the Arrivals list is simply not refreshed.
package enum ConsoleAssets {
    /// Where the stylesheet is served; the version in the name changes with its content (cached for a day).
    package static let stylesheetPath = "/console/assets/console-1.css"
    /// Where the script is served.
    package static let scriptPath = "/console/assets/console-1.js"

    /// The icons, one inline sprite per page (`<use href="#i-check"/>`); each is drawn with `currentColor`.
    package static let iconSprite = """
        <svg xmlns="http://www.w3.org/2000/svg" class="sprite" aria-hidden="true"><defs>\
        <symbol id="i-check" viewBox="0 0 16 16"><path d="M3 8.5l3 3 7-7"/></symbol>\
        <symbol id="i-clock" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6"/><path d="M8 4.5V8l2.5 1.5"/></symbol>\
        <symbol id="i-dots" viewBox="0 0 16 16"><path d="M3.5 8h.01M8 8h.01M12.5 8h.01"/></symbol>\
        <symbol id="i-cross" viewBox="0 0 16 16"><path d="M4 4l8 8M12 4l-8 8"/></symbol>\
        <symbol id="i-offline" viewBox="0 0 16 16"><path d="M2 2l12 12M5.2 10.2a4 4 0 0 1 5-.6M2.5 7.2a8 8 0 0 1 \
        3-1.8M9.2 5.1a8 8 0 0 1 4.3 2.1M8 13h.01"/></symbol>\
        <symbol id="i-dash" viewBox="0 0 16 16"><path d="M4 8h8"/></symbol>\
        <symbol id="i-alert" viewBox="0 0 16 16"><path d="M8 1.8L1.2 14h13.6z"/><path d="M8 6.2v3.6M8 12h.01"/></symbol>\
        <symbol id="i-key" viewBox="0 0 16 16"><circle cx="5" cy="8" r="3"/><path d="M8 8h7M12.5 8v2.5M14.5 8v2"/></symbol>\
        <symbol id="i-retry" viewBox="0 0 16 16"><path d="M13 8a5 5 0 1 1-1.5-3.6M13 2.5v2.8h-2.8"/></symbol>\
        </defs></svg>
        """

    /// The stylesheet.
    package static let stylesheet = """
        :root{--bg:#f5f6f8;--card:#fff;--ink:#1c2330;--muted:#5d6878;--line:#e2e6ec;--accent:#2d5bd0;\
        --ok:#1d6b46;--ok-bg:#e5f3eb;--pending:#2453a3;--pending-bg:#e7eefa;--attention:#a5331b;\
        --attention-bg:#fdebe5;--quiet:#5d6878;--quiet-bg:#eef0f3;--radius:10px;\
        font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;\
        font-size:16px;line-height:1.45;color:var(--ink);background:var(--bg)}
        @media (prefers-color-scheme:dark){:root{--bg:#14171c;--card:#1d2129;--ink:#e6e9ee;--muted:#a0a9b6;\
        --line:#2e3440;--accent:#8fb0ff;--ok:#7fd3a5;--ok-bg:#1c3328;--pending:#9fbcf5;--pending-bg:#1d2a42;\
        --attention:#ffab94;--attention-bg:#3e2119;--quiet:#a0a9b6;--quiet-bg:#272c35}}
        *{box-sizing:border-box}
        body{margin:0}
        .sprite{position:absolute;width:0;height:0;overflow:hidden}
        .skip{position:absolute;left:-999px;top:.5rem;background:var(--card);padding:.4rem .8rem;border-radius:8px}
        .skip:focus{left:.5rem;z-index:2}
        a{color:var(--accent)}
        a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid var(--accent);\
        outline-offset:2px}
        code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
        .i{width:1em;height:1em;vertical-align:-.15em;margin-right:.3em;fill:none;stroke:currentColor;\
        stroke-width:1.8;stroke-linecap:round;stroke-linejoin:round;flex:none}
        .top{background:var(--card);border-bottom:1px solid var(--line)}
        .bar{max-width:72rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem}
        .brand{font-weight:650;font-size:1.05rem;color:var(--ink);text-decoration:none;display:flex;align-items:center}
        .top nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem}
        .top nav a{display:inline-block;padding:.35rem .7rem;border-radius:999px;color:var(--muted);text-decoration:none}
        .top nav a:hover{background:var(--bg);color:var(--ink)}
        .top nav a[aria-current=page]{background:var(--ink);color:var(--card)}
        .count{display:inline-block;min-width:1.4em;padding:0 .35em;border-radius:999px;background:var(--attention);\
        color:#fff;font-size:.78rem;font-weight:650;text-align:center}
        .signout{margin-left:auto}
        main{max-width:72rem;margin:0 auto;padding:1.2rem 1rem 3rem}
        h1{font-size:1.55rem;margin:0;font-weight:650;letter-spacing:-.01em}
        h2{font-size:1.05rem;margin:0 0 .7rem;font-weight:650}
        .head{display:flex;flex-wrap:wrap;align-items:center;gap:.6rem 1.2rem;margin-bottom:1rem}
        .tabs{display:flex;gap:.25rem;background:var(--card);border:1px solid var(--line);border-radius:999px;padding:.2rem}
        .tabs a{padding:.3rem .85rem;border-radius:999px;text-decoration:none;color:var(--muted)}
        .tabs a[aria-current=page]{background:var(--accent);color:#fff}
        .card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:1rem 1.1rem;\
        margin:0 0 1rem}
        .muted{color:var(--muted)}
        .small{font-size:.86rem}
        .summary{font-size:1.02rem;margin:.2rem 0 1rem}
        .note{padding:.6rem .8rem;border-radius:8px;margin:0 0 1rem}
        .note.attention{background:var(--attention-bg);color:var(--attention)}
        .note.pending{background:var(--pending-bg);color:var(--pending)}
        ul.arrivals{list-style:none;margin:0;padding:0;display:grid;gap:.75rem;\
        grid-template-columns:repeat(auto-fill,minmax(19rem,1fr))}
        .arrival{margin:0;display:flex;flex-direction:column;gap:.35rem;border-left-width:4px}
        .tone-edge-ok{border-left-color:var(--ok)}
        .tone-edge-pending{border-left-color:var(--pending)}
        .tone-edge-attention{border-left-color:var(--attention);box-shadow:0 0 0 1px var(--attention-bg)}
        .tone-edge-quiet{border-left-color:var(--line)}
        .card.tone-edge-attention{border-left-width:4px}
        .who{display:flex;flex-wrap:wrap;align-items:baseline;gap:.4rem}
        .guest{font-weight:650;font-size:1.08rem;color:var(--ink);overflow-wrap:anywhere}
        .stay{font-size:.92rem}
        .why{margin:0;font-size:.9rem;color:var(--muted)}
        .arrival .status{align-self:flex-start}
        ul.locks{list-style:none;margin:.2rem 0 0;padding:.5rem 0 0;border-top:1px solid var(--line);display:grid;\
        gap:.3rem}
        ul.locks li{display:flex;justify-content:space-between;align-items:center;gap:.5rem;font-size:.92rem}
        .check{margin:0;font-size:.9rem}
        .badge{display:inline-flex;align-items:center;padding:.12rem .55rem;border-radius:999px;font-size:.84rem;\
        font-weight:560;white-space:nowrap}
        .tone-ok{color:var(--ok)} .badge.tone-ok{background:var(--ok-bg)}
        .tone-pending{color:var(--pending)} .badge.tone-pending{background:var(--pending-bg)}
        .tone-attention{color:var(--attention)} .badge.tone-attention{background:var(--attention-bg)}
        .tone-quiet{color:var(--quiet)} .badge.tone-quiet{background:var(--quiet-bg)}
        table{width:100%;border-collapse:collapse;font-size:.93rem}
        th{text-align:left;font-weight:600;color:var(--muted);font-size:.82rem;text-transform:uppercase;\
        letter-spacing:.04em;padding:.35rem .5rem;border-bottom:1px solid var(--line)}
        td{padding:.5rem;border-bottom:1px solid var(--line);vertical-align:top}
        tr:last-child td{border-bottom:0}
        .scroll{overflow-x:auto}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}
        dl.facts dt{color:var(--muted)} dl.facts dd{margin:0}
        .pin{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:2rem;letter-spacing:.25em;margin:.2rem 0 .6rem}
        .pin.masked{color:var(--muted)}
        ul.plain{list-style:none;margin:0;padding:0;display:grid;gap:.4rem}
        ul.problems{list-style:none;margin:0;padding:0}
        .problem{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.6rem;padding:.6rem 0;\
        border-bottom:1px solid var(--line)}
        .problem:last-child{border-bottom:0}
        .problem p{margin:0 0 .2rem}
        button{font:inherit;border:1px solid var(--line);background:var(--card);color:var(--ink);border-radius:8px;\
        padding:.45rem .9rem;cursor:pointer;display:inline-flex;align-items:center;justify-content:center;\
        min-height:2.5rem}
        button:hover{border-color:var(--muted)}
        button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
        button.link{border:0;background:none;color:var(--muted);padding:.35rem .5rem;min-height:0}
        button.link:hover{color:var(--ink)}
        .signin{max-width:24rem;margin:3rem auto}
        .signin form,.filters{display:grid;gap:.5rem}
        .filters{grid-template-columns:auto 1fr;align-items:center;max-width:34rem}
        .filters button{grid-column:1/-1;justify-self:start}
        label{font-weight:560;font-size:.93rem}
        input,select{font:inherit;padding:.5rem .6rem;border:1px solid var(--line);border-radius:8px;\
        background:var(--card);color:var(--ink);min-height:2.5rem}
        table.locks-table th:first-child{width:38%} table.locks-table th:nth-child(2){width:18%}
        @media (max-width:40rem){.bar{gap:.3rem .6rem}.top nav{order:2;width:100%;overflow-x:auto;scrollbar-width:none}\
        .top nav ul{flex-wrap:nowrap;gap:0}.top nav a{padding:.3rem .5rem;font-size:.93rem;white-space:nowrap}.signout{order:1}\
        main{padding:1rem .75rem 2rem}dl.facts{grid-template-columns:1fr}dl.facts dt{margin-top:.4rem}\
        .deliveries th:nth-child(4),.deliveries td:nth-child(4){display:none}}

        """

    /// The script: refreshes the Arrivals list by fetching its fragment and swapping it in when it changed
    /// (no full reload, no flash); pauses while the tab is hidden; a lost session goes to sign-in.
    package static let script = """
        (function () {
          "use strict";
          var box = document.querySelector("[data-refresh]");
          if (!box || !window.fetch) return;
          var url = box.getAttribute("data-refresh");
          var every = parseInt(box.getAttribute("data-interval"), 10) || 5000;
          var stamp = document.getElementById("updated");
          var last = null;
          function tick() {
            if (document.hidden) return;
            fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (r) {
              if (r.redirected || r.status === 401 || r.status === 303) { location.href = "/console/sign-in"; return null; }
              if (!r.ok) throw new Error(String(r.status));
              return r.text();
            }).then(function (html) {
              if (html === null) return;
              if (html !== last) { box.innerHTML = html; last = html; }
              if (stamp) stamp.textContent = "Updated " + new Date().toLocaleTimeString();
            }).catch(function () {
              if (stamp) stamp.textContent = "Could not refresh; trying again in a few seconds";
            });
          }
          setInterval(tick, every);
          document.addEventListener("visibilitychange", tick);
        })();

        """
}

"""The playback page: one HTML file, inline script and data, drawn on a canvas (no CDN, works offline).

The streets, beats and stations are drawn once to an off-screen canvas; each frame copies
it and draws the incidents (a clock from the call on, red once the response line passed,
a ring when backup arrived) and the units (coloured by state, moved between samples by
straight-line interpolation). ``window.playback`` exposes the clock and a frame counter
so tests (and curious students) can drive and measure it.
"""

from __future__ import annotations

from html import escape

from sim.report.playback import playback_json

_CSS = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f4f2;color:#222}
header{padding:8px 14px;background:#fff;border-bottom:1px solid #ccc}
h1{font-size:18px;margin:0 0 4px}
#bar{display:flex;gap:10px;align-items:center;flex-wrap:wrap;font-size:14px}
#clock{font:bold 20px ui-monospace,monospace;min-width:150px}
#slider{flex:1;min-width:240px}
main{display:flex;gap:10px;padding:10px}
#map{background:#fff;border:1px solid #ccc;flex:1;min-width:0}
#legend{width:230px;font-size:13px;background:#fff;border:1px solid #ccc;padding:8px}
#legend div{margin:3px 0}
.dm{display:inline-block;width:11px;height:11px;transform:rotate(45deg);vertical-align:middle;
margin:0 8px 0 2px;border:1px solid #333}
.sw{display:inline-block;width:13px;height:13px;border-radius:50%;vertical-align:middle;margin-right:6px;
border:1px solid #333}
button{font-size:14px;padding:3px 12px}
small{color:#555}
"""

_JS = r"""
(function(){
const D = JSON.parse(document.getElementById('data').textContent);
const canvas = document.getElementById('map'), ctx = canvas.getContext('2d');
const N = Math.round((D.end_s - D.start_s) / D.step_s) + 1;
function undelta(text){ const a = text.split(',').map(Number); for (let i = 1; i < a.length; i++) a[i] += a[i-1]; return a; }
const units = D.units.map(u => ({name: u.name, x: undelta(u.x), y: undelta(u.y), s: u.s}));
const colour = {}; D.states.forEach(([name, code, c]) => colour[code] = c);
const beatCols = ['#a6cee3','#b2df8a','#fb9a99','#fdbf6f','#cab2d6','#ffff99','#8dd3c7','#bebada','#80b1d3',
  '#fccde5','#d9d9d9','#bc80bd','#ccebc5','#ffed6f','#fdb462','#b3de69'];
let scale = 1, pad = 12, bg = null;
function px(x){ return pad + x * scale; }
function py(y){ return canvas.height - pad - y * scale; }
function layout(){
  const w = canvas.clientWidth, h = Math.max(420, Math.min(window.innerHeight - 120, w * D.height / D.width + 2*pad));
  canvas.width = w; canvas.height = h;
  scale = Math.min((w - 2*pad) / D.width, (h - 2*pad) / D.height);
  bg = document.createElement('canvas'); bg.width = w; bg.height = h;
  const b = bg.getContext('2d');
  b.fillStyle = '#fff'; b.fillRect(0, 0, w, h);
  b.lineCap = 'round';
  const S = D.streets;
  for (let pass = 0; pass < 2; pass++) for (let i = 0; i < S.length; i += 5) {
    const beat = S[i+4];
    if ((beat >= 0) !== (pass === 1)) continue;
    b.strokeStyle = beat >= 0 ? beatCols[beat % beatCols.length] : '#c8c8c8';
    b.globalAlpha = beat >= 0 ? 0.55 : 1; b.lineWidth = beat >= 0 ? 3 : 1.2;
    b.beginPath(); b.moveTo(px(S[i]), py(S[i+1])); b.lineTo(px(S[i+2]), py(S[i+3])); b.stroke();
  }
  b.globalAlpha = 1; b.font = '12px system-ui,sans-serif';
  for (const [x, y, name] of D.stations) {
    b.fillStyle = '#08306b'; b.fillRect(px(x) - 7, py(y) - 7, 14, 14);
    b.strokeStyle = '#fff'; b.lineWidth = 2; b.strokeRect(px(x) - 7, py(y) - 7, 14, 14);
    b.fillStyle = '#08306b'; b.fillText(name, px(x) + 10, py(y) - 8);
  }
  // scale bar
  const metres = [100,200,500,1000,2000,5000,10000].find(m => m * scale / D.quant_m > 80) || 10000;
  const len = metres * scale / D.quant_m;
  b.fillStyle = '#222'; b.fillRect(pad + 8, h - 20, len, 4);
  b.fillText(metres >= 1000 ? (metres/1000) + ' km' : metres + ' m', pad + 8, h - 26);
  if (D.osm) { b.fillStyle = '#555'; b.fillText('\u00a9 OpenStreetMap contributors', w - 200, h - 8); }
}
const P = window.playback = {t: 0, playing: true, speed: 120, frames: 0, duration: D.end_s - D.start_s};
const slider = document.getElementById('slider'), clock = document.getElementById('clock');
slider.max = P.duration;
function hms(s){ s = Math.max(0, Math.floor(s)); const h = Math.floor(s/3600), m = Math.floor(s%3600/60), x = s%60;
  return String(h).padStart(2,'0') + ':' + String(m).padStart(2,'0') + ':' + String(x).padStart(2,'0'); }
function mmss(s){ s = Math.max(0, Math.floor(s)); return Math.floor(s/60) + ':' + String(s%60).padStart(2,'0'); }
function draw(){
  const t = P.t;
  ctx.drawImage(bg, 0, 0);
  ctx.font = 'bold 12px ui-monospace,monospace'; ctx.textAlign = 'left';
  let waiting = 0, late = 0;
  for (const [x, y, call, first, second, clear, need] of D.incidents) {
    if (call > t || (clear !== null && clear <= t)) continue;
    const X = px(x), Y = py(y), arrived = first !== null && first <= t;
    const overdue = (arrived ? first : t) - call > D.line_s;
    ctx.beginPath(); ctx.moveTo(X, Y - 9); ctx.lineTo(X + 9, Y); ctx.lineTo(X, Y + 9); ctx.lineTo(X - 9, Y); ctx.closePath();
    ctx.fillStyle = arrived ? 'rgba(255,127,0,0.25)' : (overdue ? '#e31a1c' : '#ffd92f');
    ctx.fill(); ctx.lineWidth = 2; ctx.strokeStyle = overdue ? '#a50f15' : '#444'; ctx.stroke();
    if (!arrived) {
      waiting++; if (overdue) late++;
      const label = mmss(t - call);
      ctx.fillStyle = 'rgba(255,255,255,0.85)'; ctx.fillRect(X + 9, Y - 19, 8 * label.length, 15);
      ctx.fillStyle = overdue ? '#e31a1c' : '#222'; ctx.fillText(label, X + 10, Y - 7);
    }
    if (need > 1 && second !== null && second <= t) {
      ctx.beginPath(); ctx.arc(X, Y, 12, 0, 2*Math.PI); ctx.lineWidth = 2.5; ctx.strokeStyle = '#6a3d9a'; ctx.stroke();
    }
  }
  const f = t / D.step_s, i = Math.min(Math.floor(f), N - 1), j = Math.min(i + 1, N - 1), w = f - i;
  for (const u of units) {
    const st = u.s[i];
    if (st === 'o' || st === undefined) continue;
    const x = u.x[i] + (u.x[j] - u.x[i]) * w, y = u.y[i] + (u.y[j] - u.y[i]) * w;
    ctx.beginPath(); ctx.arc(px(x), py(y), 5.5, 0, 2*Math.PI);
    ctx.fillStyle = colour[st]; ctx.fill(); ctx.lineWidth = 1.3; ctx.strokeStyle = '#111'; ctx.stroke();
  }
  const day = Math.floor((D.start_s + t) / 86400);
  clock.textContent = 'day ' + day + '  ' + hms((D.start_s + t) % 86400);
  document.getElementById('waiting').textContent = waiting + ' waiting for a first unit, ' + late + ' past the line';
}
let last = null;
function tick(now){
  P.frames++;
  if (last !== null && P.playing) {
    P.t = Math.min(P.duration, P.t + (now - last) / 1000 * P.speed);
    if (P.t >= P.duration) P.playing = false;
    slider.value = P.t; syncButton();
  }
  last = now; syncButton(); draw(); requestAnimationFrame(tick);
}
const btn = document.getElementById('play');
function syncButton(){ btn.textContent = P.playing ? 'Pause' : 'Play'; }
btn.onclick = () => { if (P.t >= P.duration) P.t = 0; P.playing = !P.playing; syncButton(); };
slider.oninput = () => { P.t = Number(slider.value); draw(); };
document.getElementById('speed').onchange = e => { P.speed = Number(e.target.value); };
P.seek = s => { P.t = Math.max(0, Math.min(P.duration, s)); slider.value = P.t; draw(); };
window.addEventListener('resize', () => { layout(); draw(); });
layout(); draw(); syncButton(); requestAnimationFrame(tick);
})();
"""


def render_playback(data: dict) -> str:
    """The whole page as one string."""
    legend = "".join(f'<div><span class="sw" style="background:{c}"></span>{escape(n)}</div>'
                     for n, _, c in data["states"])
    line_min = data["line_s"] / 60
    legend += (
        '<hr><b>Calls</b><div><span class="dm" style="background:#ffd92f"></span>waiting for a first unit '
        '(clock: time since the call)</div>'
        f'<div><span class="dm" style="background:#e31a1c"></span>waiting past the {line_min:g}-minute line</div>'
        '<div><span class="dm" style="background:rgba(255,127,0,0.25)"></span>a unit is on scene</div>'
        '<div><span class="sw" style="background:#fff;border:2.5px solid #6a3d9a"></span>backup arrived</div>'
        '<hr><div><span class="sw" style="background:#08306b;border-radius:0"></span>police station</div>'
        f'<div>coloured streets: the {data["n_beats"]} patrol beats</div>'
        '<div><small>Off-duty units are hidden. Drawn from the engine\'s own trips (trace.parquet), '
        'not re-simulated.</small></div>')
    speeds = "".join(f'<option value="{s}"{" selected" if s == 120 else ""}>{s}\u00d7</option>'
                     for s in (30, 60, 120, 300, 600, 1200))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(data['title'])}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>
<body><header><h1>{escape(data['title'])}</h1>
<div id="bar"><button id="play">Pause</button><span id="clock"></span>
<input id="slider" type="range" min="0" step="1" value="0" aria-label="time in the shift">
<label>speed <select id="speed">{speeds}</select></label><span id="waiting"></span></div></header>
<main><canvas id="map" height="600"></canvas><aside id="legend"><b>Units</b>{legend}</aside></main>
<script id="data" type="application/json">{playback_json(data)}</script>
<script>{_JS}</script></body></html>
"""

"""Building one self-contained HTML page: sections, tables, inline figures, embedded data.

Nothing in a page refers to another file or the network: styles are in a <style>
element, figures are inline SVG or base64 PNG, data is in a JSON <script> block.
So a report can be mailed, put on a USB stick or opened on a machine with no
internet, and looks the same.
"""

from __future__ import annotations

import html
import json

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;background:#f4f5f7}
header{background:#0b2545;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px 0;font-size:24px} header p{margin:2px 0;color:#cdd6e3;font-size:14px}
nav{background:#13315c;padding:6px 32px;position:sticky;top:0;z-index:5}
nav a{color:#fff;margin-right:18px;font-size:13px;text-decoration:none} nav a:hover{text-decoration:underline}
main{padding:8px 32px 32px 32px;max-width:1400px}
section{background:#fff;border-radius:6px;padding:14px 20px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.12)}
section h2{margin:4px 0 10px 0;font-size:19px;color:#0b2545}
.verdict{font-size:18px;font-weight:600;padding:12px 16px;border-radius:6px;margin:6px 0 12px 0}
.verdict.hold{background:#e5f5e0;border-left:8px solid #1a9850}
.verdict.fail{background:#fde0dd;border-left:8px solid #d73027}
table{border-collapse:collapse;font-size:13.5px;margin:6px 0}
th,td{padding:4px 9px;border-bottom:1px solid #e3e3e3;text-align:right} th{background:#f0f2f5}
td:first-child,th:first-child{text-align:left}
td.ok{color:#1a7431;font-weight:600} td.bad{color:#b2182b;font-weight:600} td.warn{color:#b35806;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px}
figure{margin:0} figure img,figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:13px;color:#555;margin-top:4px}
.row{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
.note{font-size:13px;color:#555} .muted{color:#777}
footer{font-size:12px;color:#666;padding:0 32px 24px 32px}
"""


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def table(headers: list[str], rows: list[list], *, classes: list[list[str]] | None = None, id_: str = "") -> str:
    """An HTML table; cell text is escaped; ``classes`` gives an optional CSS class per cell."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, v in enumerate(row):
            cls = classes[i][j] if classes and classes[i][j] else ""
            cells.append(f'<td class="{cls}">{esc(v)}</td>' if cls else f"<td>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    ident = f' id="{esc(id_)}"' if id_ else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(*, svg: str | None = None, png_uri: str | None = None, caption: str, id_: str, alt: str = "") -> str:
    """A figure element holding inline SVG or a base64 PNG, with its caption."""
    if svg is not None:
        body = svg
    else:
        body = f'<img src="{png_uri}" alt="{esc(alt or caption)}">'
    return f'<figure class="fig" id="{esc(id_)}">{body}<figcaption>{esc(caption)}</figcaption></figure>'


def section(id_: str, title: str, body: str) -> str:
    return f'<section id="{esc(id_)}"><h2>{esc(title)}</h2>{body}</section>'


def json_block(id_: str, data) -> str:
    """Data for readers and scripts, inline (``</`` escaped so it cannot close the script element)."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="{esc(id_)}">{text}</script>'


def page(*, title: str, subtitle_lines: list[str], nav: list[tuple[str, str]], sections: list[str],
         footer: str, data_blocks: list[str] = ()) -> str:
    subtitle = "".join(f"<p>{esc(s)}</p>" for s in subtitle_lines)
    links = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t in nav)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1>{subtitle}</header><nav>{links}</nav><main>"
            + "".join(sections) + f"</main><footer>{footer}</footer>" + "".join(data_blocks)
            + "</body></html>\n")

"""The report's stylesheet, inlined into the page (no external files, fonts or scripts)."""

from __future__ import annotations

from typing import Final

CSS: Final = """
:root {
  --ink: #1f2328; --muted: #57606a; --line: #d8dee4; --bg: #f6f8fa;
  --ok: #1a7f37; --bad: #cf222e; --meh: #9a6700; --accent: #0b5cad;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
.banner {
  position: sticky; top: 0; z-index: 10; background: #b42318; color: #fff; text-align: center;
  padding: .5rem 1rem; box-shadow: 0 2px 6px rgba(0,0,0,.2);
}
.banner strong { font-size: 1.05rem; letter-spacing: .18em; }
.banner span { display: block; font-size: .82rem; opacity: .92; }
header { background: #0d1117; color: #f0f6fc; padding: 2.4rem 0 1.8rem; }
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 1.5rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .4rem; letter-spacing: -.01em; }
header p { margin: .2rem 0; color: #9da7b3; max-width: 52rem; }
header .lede { color: #e6edf3; font-size: 1.08rem; }
nav { margin-top: 1.1rem; display: flex; gap: 1.1rem; flex-wrap: wrap; font-size: .9rem; }
nav a { color: #9ecbff; text-decoration: none; }
section { padding: 2rem 0 1rem; border-bottom: 1px solid var(--line); }
h2 { font-size: 1.35rem; margin: 0 0 .3rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .6rem; }
.sub { color: var(--muted); margin: 0 0 1.2rem; max-width: 56rem; }
.summary { font-size: 1.1rem; margin: 0 0 1.2rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 1.1rem; }
.card {
  border: 1px solid var(--line); border-top: 6px solid var(--meh); border-radius: 12px;
  padding: 1.1rem 1.25rem 1rem; background: #fff; box-shadow: 0 1px 3px rgba(31,35,40,.06);
}
.card[data-verdict="supported"] { border-top-color: var(--ok); }
.card[data-verdict="contradicted"] { border-top-color: var(--bad); }
.card .top { display: flex; align-items: center; gap: .6rem; flex-wrap: wrap; }
.pill {
  display: inline-block; padding: .15rem .65rem; border-radius: 999px; color: #fff;
  font-weight: 700; font-size: .75rem; letter-spacing: .07em; text-transform: uppercase;
  background: var(--meh);
}
.pill.supported { background: var(--ok); }
.pill.contradicted { background: var(--bad); }
.card blockquote { margin: .7rem 0 .2rem; font-size: 1.02rem; font-style: italic; }
.card .source { color: var(--muted); font-size: .8rem; margin: 0 0 .8rem; }
.big { font-size: 2.4rem; font-weight: 800; line-height: 1.1; letter-spacing: -.02em; }
.big small { display: block; font-size: .85rem; font-weight: 500; color: var(--muted);
  letter-spacing: 0; margin-top: .15rem; }
td small { color: var(--muted); }
.facts { margin: .6rem 0 .4rem; padding: 0; list-style: none; font-size: .9rem; }
.facts li { padding: .12rem 0; display: grid; grid-template-columns: 4.6rem 1fr; gap: .4rem; }
.facts b { color: var(--muted); font-weight: 600; }
.card[data-verdict="inconclusive"] .big { color: #6e7781; }
.reason { font-size: .85rem; color: var(--muted); border-top: 1px solid var(--line);
  padding-top: .55rem; margin: .6rem 0 0; }
.caveats { font-size: .8rem; color: var(--muted); margin: .35rem 0 0; padding-left: 1.1rem; }
table { border-collapse: collapse; width: 100%; font-size: .86rem; }
th, td { text-align: left; padding: .42rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td .pill { font-size: .68rem; padding: .1rem .5rem; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
td code { white-space: nowrap; }
td code.wrap { white-space: normal; }
.scroll { overflow-x: auto; }
figure { margin: 0 0 1.4rem; }
img { max-width: 100%; height: auto; display: block; border-radius: 8px; }
figcaption { color: var(--muted); font-size: .84rem; margin-top: .45rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1.1rem; }
.grid figure { margin: 0; }
.grid img { border: 1px solid var(--line); }
.role { font-weight: 700; color: var(--ink); text-transform: uppercase; font-size: .72rem;
  letter-spacing: .06em; }
.missing { border: 1px dashed #afb8c1; border-radius: 8px; padding: 2.2rem 1rem;
  color: var(--muted); text-align: center; background: var(--bg); font-size: .85rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .82em;
  background: var(--bg); padding: .05rem .3rem; border-radius: 4px; overflow-wrap: anywhere; }
details { margin: .8rem 0 1rem; }
details summary { cursor: pointer; font-weight: 600; color: var(--accent); }
.method li { margin: .3rem 0; max-width: 60rem; }
footer { color: var(--muted); font-size: .8rem; padding: 1.5rem 0 3rem; }
.failed td { color: var(--bad); }
@media print { .banner { position: static; } }
"""

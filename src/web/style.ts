/**
 * The pages' one style sheet, served as /assets/hoadon.css (a module, not a file, so that it is
 * in the Workers bundle too; no inline styles: the CSP says style-src 'self').
 * Colours are chosen for WCAG AA contrast (at least 4.5:1 for text) and the layout for a phone first.
 */
export const CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;line-height:1.5;color:#1a1a1a;background:#f5f6f8}
a{color:#0b4f8a}
a:hover{color:#083a66}
:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem}
header.site{background:#0b4f8a;color:#fff}
header.site .bar{max-width:60rem;margin:0 auto;padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between}
header.site a{color:#fff}
header.site .brand{font-weight:700;text-decoration:none;font-size:1.05rem}
header.site nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}
header.site form{margin:0}
header.site button{background:transparent;color:#fff;border:1px solid #fff;padding:.25rem .75rem;font-size:.95rem}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 .75rem}
h2{font-size:1.25rem;margin:0 0 .75rem}
h3{font-size:1.05rem;margin:1rem 0 .5rem}
.card{background:#fff;border:1px solid #d0d5dc;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
.hint{display:block;font-size:.9rem;color:#4a5260;margin:0 0 .25rem;overflow-wrap:anywhere}
input,select{font:inherit;width:100%;padding:.6rem .7rem;border:1px solid #6b7280;border-radius:.375rem;background:#fff;color:#1a1a1a}
input[type=file]{padding:.45rem}
.grid{display:grid;gap:0 1rem;grid-template-columns:1fr}
@media (min-width:40rem){.grid{grid-template-columns:1fr 1fr}.grid .wide{grid-column:1/-1}}
@media (min-width:56rem){.grid.three{grid-template-columns:1fr 1fr 1fr}}
button,.button{display:inline-block;font:inherit;font-weight:600;margin-top:1rem;padding:.65rem 1.4rem;border:0;border-radius:.375rem;background:#0b4f8a;color:#fff;cursor:pointer;text-decoration:none;min-height:44px}
button:hover,.button:hover{background:#083a66;color:#fff}
.error{color:#8a1c13;font-weight:600}
.verdict{border-radius:.5rem;padding:1rem;margin:0 0 1rem;border:2px solid}
.verdict h2{font-size:1.4rem;margin:0 0 .25rem}
.verdict p{margin:.25rem 0}
.verdict.ok{background:#e6f4ea;border-color:#1e7b34;color:#0d4f1f}
.verdict.warn{background:#fff4e5;border-color:#b35c00;color:#5c3000}
.verdict.bad{background:#fdecea;border-color:#b3261e;color:#7a1a12}
.verdict .mark{font-size:1.6rem;margin-right:.4rem}
dl.facts{display:grid;grid-template-columns:1fr;gap:.1rem 1rem;margin:0}
dl.facts dt{font-weight:600;color:#4a5260;margin-top:.5rem}
dl.facts dd{margin:0;overflow-wrap:anywhere}
@media (min-width:40rem){dl.facts{grid-template-columns:14rem 1fr}dl.facts dt{margin-top:0}}
.money{font-variant-numeric:tabular-nums}
.big{font-size:1.2rem;font-weight:700}
.result-grid{display:grid;gap:1rem;grid-template-columns:1fr}
@media (min-width:40rem){.result-grid{grid-template-columns:1fr 12rem}}
.qr{text-align:center}
.qr img{width:100%;max-width:12rem;height:auto;image-rendering:pixelated;border:1px solid #d0d5dc}
ul.checks{list-style:none;padding:0;margin:.5rem 0}
ul.checks li{padding:.35rem 0;border-bottom:1px solid #e3e6ea}
.pass{color:#0d4f1f;font-weight:700}
.fail{color:#7a1a12;font-weight:700}
table{border-collapse:collapse;width:100%;background:#fff}
caption{text-align:left;font-weight:600;padding:.5rem 0}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #d0d5dc;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}.scroll:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.chart{width:100%;height:auto;display:block}
.chart text{font-size:11px;fill:#1a1a1a}
.chart .axis{stroke:#6b7280;stroke-width:1}
.chart .grid{stroke:#e3e6ea;stroke-width:1}
.chart .rev{fill:#0b4f8a}
.chart .tax{fill:#b35c00}
.legend{display:flex;gap:1rem;flex-wrap:wrap;margin:.25rem 0;font-size:.95rem}
.legend span::before{content:"";display:inline-block;width:.9rem;height:.9rem;margin-right:.35rem;vertical-align:-.1rem}
.legend .rev::before{background:#0b4f8a}
.legend .tax::before{background:#b35c00}
.status-issued{color:#0d4f1f}
.status-cancelled,.status-replaced{color:#7a1a12}
.status-adjusted{color:#5c3000}
footer{max-width:60rem;margin:0 auto;padding:1rem;color:#4a5260;font-size:.9rem}
.inline-form{display:flex;gap:.5rem;align-items:flex-end;flex-wrap:wrap}
.inline-form label{margin-top:0}
.inline-form div{flex:1 1 14rem}
.inline-form button{margin-top:0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

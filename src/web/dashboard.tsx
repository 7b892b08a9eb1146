/**
 * The officer's dashboard: revenue and tax by month, by source, tax by rate, top sellers, drawn as inline
 * SVG on the server (no script, no chart library), each chart followed by its table of figures.
 * Amounts are decimal strings; they become numbers only to place bars, never for arithmetic.
 */
import type { FC } from "hono/jsx";
import type { TotalsSource } from "../storage/store.js";
import { formatMoney, type Lang, WORDS } from "./i18n.js";
import { ScrollRegion } from "./layout.js";
import { OfficerLayout, type OfficerView, OpenByCode } from "./officer.js";

export interface TotalsRow {
  key: string;
  invoices: number;
  revenue: string;
  tax: string;
}

export interface DashboardData {
  from: string;
  to: string;
  byMonth: TotalsRow[];
  byRate: TotalsRow[];
  /** Each source in a fixed order (coded, uncoded, cashRegister, summary), zeros included. */
  bySource: (TotalsRow & { key: TotalsSource })[];
  /** Sorted by revenue, largest first; `name` is the seller's registered name when known. */
  topSellers: (TotalsRow & { name: string })[];
  total: Omit<TotalsRow, "key">;
}

const n = (s: string): number => Number(s);

/** 3520000 → "3,5 tr" (vi) / "3.5M" (en): axis labels only. */
export function compact(value: number, lang: Lang): string {
  const units: [number, string, string][] = [
    [1e12, " nghìn tỷ", "T"],
    [1e9, " tỷ", "B"],
    [1e6, " tr", "M"],
    [1e3, " nghìn", "k"],
  ];
  const sign = value < 0 ? "-" : "";
  const v = Math.abs(value);
  for (const [size, vi, en] of units) {
    if (v >= size) {
      const x = (v / size).toFixed(v / size >= 100 ? 0 : 1).replace(/\.0$/, "");
      return sign + (lang === "vi" ? x.replace(".", ",") + vi : x + en);
    }
  }
  return sign + String(Math.round(v));
}

/** A scale from [lo, hi] (lo ≤ 0 ≤ hi) onto [0, size] pixels, with 4 round ticks. */
function scale(values: number[], size: number) {
  const hi = Math.max(0, ...values);
  const lo = Math.min(0, ...values);
  const span = hi - lo || 1;
  const step = niceStep(span / 4);
  const top = Math.ceil(hi / step) * step || step;
  const bottom = Math.floor(lo / step) * step;
  const at = (x: number) => ((x - bottom) / (top - bottom)) * size;
  const ticks: number[] = [];
  for (let t = bottom; t <= top + step / 2; t += step) ticks.push(t);
  return { at, ticks };
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

const W = 640;

/** Revenue and tax side by side for each month. */
const MonthChart: FC<{ rows: TotalsRow[]; lang: Lang }> = ({ rows, lang }) => {
  const w = WORDS[lang];
  const H = 260;
  const left = 64;
  const bottom = 28;
  const plotH = H - bottom - 12;
  const plotW = W - left - 8;
  const s = scale(rows.flatMap((r) => [n(r.revenue), n(r.tax)]), plotH);
  const y = (v: number) => 12 + plotH - s.at(v);
  const zero = y(0);
  const slot = plotW / Math.max(rows.length, 1);
  const bar = Math.max(2, Math.min(28, slot * 0.36));
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="month-chart-title month-chart-desc">
      <title id="month-chart-title">{w.revenueTaxByMonth}</title>
      <desc id="month-chart-desc">
        {rows.map((r) => `${r.key}: ${w.revenue} ${formatMoney(r.revenue, lang)}, ${w.tax} ${formatMoney(r.tax, lang)}`).join("; ")}
      </desc>
      {s.ticks.map((t) => (
        <g>
          <line class="grid" x1={left} x2={W - 8} y1={y(t)} y2={y(t)} />
          <text x={left - 6} y={y(t) + 4} text-anchor="end">
            {compact(t, lang)}
          </text>
        </g>
      ))}
      <line class="axis" x1={left} x2={W - 8} y1={zero} y2={zero} />
      {rows.map((r, i) => {
        const cx = left + slot * i + slot / 2;
        const rv = n(r.revenue);
        const tv = n(r.tax);
        return (
          <g>
            <rect class="rev" x={cx - bar} width={bar} y={Math.min(y(rv), zero)} height={Math.max(1, Math.abs(zero - y(rv)))} />
            <rect class="tax" x={cx} width={bar} y={Math.min(y(tv), zero)} height={Math.max(1, Math.abs(zero - y(tv)))} />
            <text x={cx} y={H - 10} text-anchor="middle">
              {r.key}
            </text>
          </g>
        );
      })}
    </svg>
  );
};

/** One horizontal bar per row (tax by rate; revenue of the top sellers). */
const BarsChart: FC<{ id: string; title: string; rows: { label: string; value: string }[]; lang: Lang; cls: "rev" | "tax" }> = ({ id, title, rows, lang, cls }) => {
  const row = 26;
  const left = 150;
  const H = rows.length * row + 24;
  const s = scale(rows.map((r) => n(r.value)), W - left - 90);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-title ${id}-desc`}>
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{rows.map((r) => `${r.label}: ${formatMoney(r.value, lang)}`).join("; ")}</desc>
      {rows.map((r, i) => {
        const x0 = left + s.at(0);
        const x1 = left + s.at(n(r.value));
        const yy = 8 + i * row;
        return (
          <g>
            <text x={left - 8} y={yy + 15} text-anchor="end">
              {r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label}
            </text>
            <rect class={cls} x={Math.min(x0, x1)} y={yy + 3} height={row - 8} width={Math.max(1, Math.abs(x1 - x0))} />
            <text x={Math.max(x0, x1) + 6} y={yy + 15}>
              {compact(n(r.value), lang)}
            </text>
          </g>
        );
      })}
    </svg>
  );
};

const Table: FC<{ caption: string; head: string; rows: TotalsRow[]; lang: Lang; labels?: Map<string, string> }> = ({ caption, head, rows, lang, labels }) => {
  const w = WORDS[lang];
  return (
    <ScrollRegion label={caption}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{head}</th>
            <th scope="col" class="num">
              {w.invoices}
            </th>
            <th scope="col" class="num">
              {w.revenue} (₫)
            </th>
            <th scope="col" class="num">
              {w.tax} (₫)
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <th scope="row">{labels?.get(r.key) ? `${labels.get(r.key)} (${r.key})` : r.key}</th>
              <td class="num">{formatMoney(String(r.invoices), lang)}</td>
              <td class="num">{formatMoney(r.revenue, lang)}</td>
              <td class="num">{formatMoney(r.tax, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
};

export const DashboardPage: FC<{ v: OfficerView; data: DashboardData | null }> = ({ v, data }) => {
  const w = WORDS[v.lang];
  const lang = v.lang;
  return (
    <OfficerLayout v={v} title={w.dashboard}>
      <h1>{w.totalsTitle}</h1>
      <section class="card" aria-labelledby="open-title">
        <h2 id="open-title" class="visually-hidden">
          {w.openByCode}
        </h2>
        <OpenByCode lang={lang} />
      </section>
      {!data ? (
        <p>{w.reportsPending}</p>
      ) : (
        <>
          <section class="card" aria-labelledby="period-title">
            <h2 id="period-title">{w.period}</h2>
            <form method="get" action="/officer" class="inline-form">
              <div>
                <label for="from">{w.from}</label>
                <input id="from" name="from" type="date" value={data.from} required />
              </div>
              <div>
                <label for="to">{w.to}</label>
                <input id="to" name="to" type="date" value={data.to} required />
              </div>
              <button type="submit">{w.show}</button>
            </form>
            <dl class="facts">
              <dt>{w.invoices}</dt>
              <dd>{formatMoney(String(data.total.invoices), lang)}</dd>
              <dt>{w.revenue}</dt>
              <dd class="big">{formatMoney(data.total.revenue, lang)} ₫</dd>
              <dt>{w.tax}</dt>
              <dd class="big">{formatMoney(data.total.tax, lang)} ₫</dd>
            </dl>
          </section>
          {data.byMonth.length === 0 ? (
            <p>{w.noData}</p>
          ) : (
            <>
              <section class="card" aria-labelledby="month-title">
                <h2 id="month-title">{w.revenueTaxByMonth}</h2>
                <p class="legend">
                  <span class="rev">{w.revenue}</span>
                  <span class="tax">{w.tax}</span>
                </p>
                <MonthChart rows={data.byMonth} lang={lang} />
                <Table caption={w.revenueTaxByMonth} head={w.month} rows={data.byMonth} lang={lang} />
              </section>
              <section class="card" aria-labelledby="source-title">
                <h2 id="source-title">{w.bySource}</h2>
                <BarsChart id="source-chart" title={`${w.bySource}: ${w.revenue}`} rows={data.bySource.map((r) => ({ label: w.sourceShort[r.key], value: r.revenue }))} lang={lang} cls="rev" />
                <Table
                  caption={w.bySource}
                  head={w.source}
                  rows={[...data.bySource.map((r) => ({ ...r, key: w.sourceName[r.key] })), { key: w.allSources, ...data.total }]}
                  lang={lang}
                />
              </section>
              <section class="card" aria-labelledby="rate-title">
                <h2 id="rate-title">{w.taxByRate}</h2>
                <BarsChart id="rate-chart" title={w.taxByRate} rows={data.byRate.map((r) => ({ label: r.key, value: r.tax }))} lang={lang} cls="tax" />
                <Table caption={w.taxByRate} head={w.rate} rows={data.byRate} lang={lang} />
              </section>
              <section class="card" aria-labelledby="sellers-title">
                <h2 id="sellers-title">{w.topSellers}</h2>
                <BarsChart id="sellers-chart" title={w.topSellers} rows={data.topSellers.map((r) => ({ label: r.key, value: r.revenue }))} lang={lang} cls="rev" />
                <Table caption={w.topSellers} head={w.seller} rows={data.topSellers} lang={lang} labels={new Map(data.topSellers.map((r) => [r.key, r.name]))} />
              </section>
            </>
          )}
        </>
      )}
    </OfficerLayout>
  );
};

/**
 * GET /officer and below (api.md): the officer's sign-in, invoice search, invoice detail with
 * its XML and history, and the dashboard of totals (charts.tsx). Server-rendered, no script.
 */
import type { Child, FC } from "hono/jsx";
import { STATUSES_FOR_DISPLAY } from "../domain/lifecycle.js";
import { buyerCheckUrl } from "../domain/qr.js";
import type { InvoiceEvent, InvoiceStatus, InvoiceSummary, RegisteredSeller } from "../storage/store.js";
import { formatDate, formatInstant, formatMoney, type Lang, WORDS } from "./i18n.js";
import { Layout, ScrollRegion } from "./layout.js";
import { qrDataUrl } from "./qr-image.js";

/** Who is signed in, and the token every form that changes something must carry. */
export interface OfficerView {
  lang: Lang;
  switchHref: string;
  officerName: string;
  csrf: string;
}

const Nav: FC<{ v: OfficerView }> = ({ v }) => {
  const w = WORDS[v.lang];
  return (
    <>
      <li>
        <a href="/officer">{w.dashboard}</a>
      </li>
      <li>
        <a href="/officer/invoices">{w.search}</a>
      </li>
      <li>
        <form method="post" action="/officer/logout">
          <input type="hidden" name="csrf" value={v.csrf} />
          <button type="submit">{w.logout}</button>
        </form>
      </li>
    </>
  );
};

/** The frame of every signed-in page. */
export const OfficerLayout: FC<{ v: OfficerView; title: string; children?: Child }> = ({ v, title, children }) => (
  <Layout lang={v.lang} title={`${title} · ${WORDS[v.lang].officerTitle}`} switchHref={v.switchHref} home="/officer" nav={<Nav v={v} />} footer={WORDS[v.lang].officerFooter}>
    <p class="hint">{WORDS[v.lang].signedInAs(v.officerName)}</p>
    {children}
  </Layout>
);

export const LoginPage: FC<{ lang: Lang; switchHref: string; error: string | null }> = ({ lang, switchHref, error }) => {
  const w = WORDS[lang];
  return (
    <Layout lang={lang} title={`${w.login} · ${w.officerTitle}`} switchHref={switchHref} home="/officer" footer={w.officerFooter}>
      <h1>
        {w.officerTitle}: {w.login}
      </h1>
      <section class="card" aria-labelledby="login-title">
        <h2 id="login-title">{w.login}</h2>
        <p>{w.loginIntro}</p>
        <form method="post" action="/officer/login">
          <label for="token">{w.tokenLabel}</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required maxlength={512} aria-describedby={error ? "login-error" : undefined} aria-invalid={error ? "true" : undefined} />
          {error ? (
            <p class="error" id="login-error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit">{w.login}</button>
        </form>
      </section>
    </Layout>
  );
};

export const Money: FC<{ amount: string; lang: Lang }> = ({ amount, lang }) => <span class="money">{formatMoney(amount, lang)}</span>;

const StatusText: FC<{ status: InvoiceStatus; lang: Lang }> = ({ status, lang }) => <span class={`status-${status}`}>{WORDS[lang].statusName[status]}</span>;

/** Open an invoice by its code (a GET form: nothing changes). */
export const OpenByCode: FC<{ lang: Lang }> = ({ lang }) => {
  const w = WORDS[lang];
  return (
    <form method="get" action="/officer/invoices" class="inline-form">
      <div>
        <label for="open-code">{w.openByCode}</label>
        <input id="open-code" name="code" type="text" autocomplete="off" maxlength={64} />
      </div>
      <button type="submit">{w.open}</button>
    </form>
  );
};

/** The invoice's facts, its QR (the buyer's check of this code, as the buyer's page shows it), the XML and the history. */
export const DetailPage: FC<{ v: OfficerView; inv: InvoiceSummary; seller: RegisteredSeller | null; history: InvoiceEvent[]; publicBase: string }> = ({ v, inv, seller, history, publicBase }) => {
  const w = WORDS[v.lang];
  const qr = buyerCheckUrl(publicBase, inv.code);
  return (
    <OfficerLayout v={v} title={`${w.detail} ${inv.code}`}>
      <h1>{w.detail}</h1>
      <section class="card" aria-labelledby="facts-title">
        <h2 id="facts-title">
          {inv.form} / {inv.symbol} / {inv.number}
        </h2>
        <div class="result-grid">
          <dl class="facts">
            <dt>{w.code}</dt>
            <dd>
              <code>{inv.code}</code>
            </dd>
            <dt>{w.status}</dt>
            <dd>
              <StatusText status={inv.status} lang={v.lang} />
            </dd>
            <dt>{w.seller}</dt>
            <dd>
              {seller?.name ?? ""}
              <br />
              {w.taxCode}: {inv.sellerTaxCode}
            </dd>
            <dt>{w.buyer}</dt>
            <dd>{inv.buyerTaxCode ? `${w.taxCode}: ${inv.buyerTaxCode}` : w.none}</dd>
            {inv.legacy.length > 0 ? (
              <>
                <dt>{w.legacyLabel}</dt>
                <dd>{inv.legacy.map((a) => w.legacyName[a]).join(", ")}</dd>
              </>
            ) : null}
            <dt>{w.issueDate}</dt>
            <dd>{formatDate(inv.issueDate, v.lang)}</dd>
            <dt>{w.totalBeforeTax}</dt>
            <dd>
              <Money amount={inv.totalBeforeTax} lang={v.lang} /> ₫
            </dd>
            <dt>{w.totalTax}</dt>
            <dd>
              <Money amount={inv.totalTax} lang={v.lang} /> ₫
            </dd>
            <dt>{w.totalPayable}</dt>
            <dd class="big">
              <Money amount={inv.totalPayable} lang={v.lang} /> ₫
              {inv.currency !== "VND" ? <span class="hint">{w.currencyNote(inv.currency)}</span> : null}
            </dd>
          </dl>
          <div class="qr">
            <img src={qrDataUrl(qr)} alt={w.qrAlt(inv.code)} width="192" height="192" />
          </div>
        </div>
        <a class="button" href={`/officer/invoices/${inv.code}/xml`} download={`${inv.code}.xml`}>
          {w.downloadXml}
        </a>
      </section>
      <section class="card" aria-labelledby="history-title">
        <h2 id="history-title">{w.history}</h2>
        <ScrollRegion label={w.history}>
          <table>
            <thead>
              <tr>
                <th scope="col">{w.at}</th>
                <th scope="col">{w.event}</th>
                <th scope="col">{w.by}</th>
                <th scope="col">{w.reason}</th>
                <th scope="col">{w.related}</th>
              </tr>
            </thead>
            <tbody>
              {history.map((e) => (
                <tr>
                  <td>{formatInstant(e.at)}</td>
                  <td>{w.eventName[e.event] ?? e.event}</td>
                  <td>
                    <code>{e.by}</code>
                  </td>
                  <td>{e.reason ?? ""}</td>
                  <td>{e.relatedCode ? <a href={`/officer/invoices/${e.relatedCode}`}>{e.relatedCode}</a> : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      </section>
    </OfficerLayout>
  );
};

/** A page that says one thing (not found, session expired, a bad request). */
export const MessagePage: FC<{ v: OfficerView; title: string; text: string }> = ({ v, title, text }) => (
  <OfficerLayout v={v} title={title}>
    <h1>{title}</h1>
    <p>{text}</p>
    <OpenByCode lang={v.lang} />
  </OfficerLayout>
);

/** The search form's values, as typed (refilled on the results page). */
export interface SearchForm {
  seller?: string;
  buyer?: string;
  from?: string;
  to?: string;
  status?: string;
  /** true | sha1 | rsa1024 | false (domain/reports.ts LEGACY_FILTER). */
  legacy?: string;
  form?: string;
  symbol?: string;
}


/** GET /officer/invoices: the filters, one page of invoices (newest first) and the link to the next. */
export const SearchPage: FC<{ v: OfficerView; q: SearchForm; items: InvoiceSummary[] | null; next: string | null; error: string | null }> = ({ v, q, items, next, error }) => {
  const w = WORDS[v.lang];
  const field = (id: keyof SearchForm, label: string, type = "text", extra: Record<string, string | number> = {}) => (
    <div>
      <label for={`q-${id}`}>{label}</label>
      <input id={`q-${id}`} name={id} type={type} value={q[id] ?? ""} autocomplete="off" {...extra} />
    </div>
  );
  return (
    <OfficerLayout v={v} title={w.search}>
      <h1>{w.search}</h1>
      <section class="card" aria-labelledby="open-title">
        <h2 id="open-title" class="visually-hidden">
          {w.openByCode}
        </h2>
        <OpenByCode lang={v.lang} />
      </section>
      <section class="card" aria-labelledby="filters-title">
        <h2 id="filters-title">{w.filters}</h2>
        <form method="get" action="/officer/invoices">
          {error ? (
            <p class="error" role="alert">
              {error}
            </p>
          ) : null}
          <div class="grid three">
            {field("seller", w.sellerLabel, "text", { inputmode: "numeric", maxlength: 14 })}
            {field("buyer", w.buyerLabel, "text", { maxlength: 14 })}
            <div>
              <label for="q-status">{w.statusLabel}</label>
              <select id="q-status" name="status">
                <option value="">{w.any}</option>
                {STATUSES_FOR_DISPLAY.map((st) => (
                  <option value={st} selected={q.status === st}>
                    {w.statusName[st]}
                  </option>
                ))}
              </select>
            </div>
            {field("from", w.from, "date")}
            {field("to", w.to, "date")}
            {field("form", w.formLabel, "text", { inputmode: "numeric", maxlength: 1 })}
            {field("symbol", w.symbolLabel, "text", { maxlength: 6 })}
            <div>
              <label for="q-legacy">{w.legacyLabel}</label>
              <select id="q-legacy" name="legacy">
                <option value="">{w.any}</option>
                {(
                  [
                    ["true", w.legacyAny],
                    ["sha1", w.legacyName.sha1],
                    ["rsa1024", w.legacyName.rsa1024],
                    ["false", w.legacyNone],
                  ] as const
                ).map(([value, label]) => (
                  <option value={value} selected={q.legacy === value}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <button type="submit">{w.search}</button>
        </form>
      </section>
      {items ? (
        <section class="card" aria-labelledby="results-title">
          <h2 id="results-title">{w.results}</h2>
          {items.length === 0 ? (
            <p>{w.noResults}</p>
          ) : (
            <ScrollRegion label={w.results}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{w.issueDate}</th>
                    <th scope="col">{w.formSymbolNumber}</th>
                    <th scope="col">{w.seller}</th>
                    <th scope="col">{w.buyer}</th>
                    <th scope="col">{w.status}</th>
                    <th scope="col" class="num">
                      {w.totalPayable} (₫)
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((i) => (
                    <tr>
                      <td>{formatDate(i.issueDate, v.lang)}</td>
                      <td>
                        <a href={`/officer/invoices/${i.code}`}>
                          {i.form} / {i.symbol} / {i.number}
                        </a>
                      </td>
                      <td>{i.sellerTaxCode}</td>
                      <td>{i.buyerTaxCode ?? ""}</td>
                      <td>
                        <StatusText status={i.status} lang={v.lang} />
                        {i.legacy.length > 0 ? <span class="hint">{` (${i.legacy.map((a) => w.legacyName[a]).join(", ")})`}</span> : null}
                      </td>
                      <td class="num">
                        <Money amount={i.totalPayable} lang={v.lang} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
          )}
          {next ? (
            <p>
              <a href={next} rel="next">
                {w.next}
              </a>
            </p>
          ) : null}
        </section>
      ) : null}
    </OfficerLayout>
  );
};

/**
 * GET / (api.md): the buyer's lookup. Three ways in (the code; seller, form, symbol, number and
 * total; the XML file) and one plain answer: genuine or not, the status, seller, date, amounts
 * and the QR, drawn from the verified record.
 */
import type { Child, FC } from "hono/jsx";
import { buildQrPayload } from "../domain/qr.js";
import type { DocumentVerification, PublicInvoice } from "../domain/verification.js";
import { formatDate, formatMoney, WORDS, type Lang, type Words } from "./i18n.js";
import { Layout } from "./layout.js";
import { qrDataUrl } from "./qr-image.js";

export type BuyerResult =
  | { kind: "found"; invoice: PublicInvoice }
  | { kind: "notFound" }
  | { kind: "document"; verification: DocumentVerification }
  | { kind: "unreadable"; message: string }
  | { kind: "inputError"; form: "code" | "details" | "file"; message: string };

export interface BuyerQuery {
  code?: string;
  seller?: string;
  form?: string;
  symbol?: string;
  number?: string;
  total?: string;
}

export interface BuyerPageProps {
  lang: Lang;
  switchHref: string;
  query: BuyerQuery;
  result: BuyerResult | null;
}

const Money: FC<{ amount: string; lang: Lang }> = ({ amount, lang }) => <span class="money">{formatMoney(amount, lang)} ₫</span>;

/** The facts of a genuine record, and its QR (from the record, never from a document's DLQRCode). */
const InvoiceFacts: FC<{ inv: PublicInvoice; lang: Lang }> = ({ inv, lang }) => {
  const w = WORDS[lang];
  const qr = buildQrPayload(inv);
  return (
    <div class="result-grid">
      <dl class="facts">
        <dt>{w.status}</dt>
        <dd class={`status-${inv.status}`}>
          <strong>{w.statusName[inv.status]}</strong>: {w.statusText[inv.status]}
        </dd>
        <dt>{w.seller}</dt>
        <dd>
          {inv.sellerName}
          <br />
          {w.taxCode}: {inv.sellerTaxCode}
        </dd>
        <dt>{w.formSymbolNumber}</dt>
        <dd>
          {inv.form} / {inv.symbol} / {inv.number}
        </dd>
        <dt>{w.issueDate}</dt>
        <dd>{formatDate(inv.issueDate, lang)}</dd>
        <dt>{w.totalBeforeTax}</dt>
        <dd>
          <Money amount={inv.totalBeforeTax} lang={lang} />
        </dd>
        <dt>{w.totalTax}</dt>
        <dd>
          <Money amount={inv.totalTax} lang={lang} />
        </dd>
        <dt>{w.totalPayable}</dt>
        <dd class="big">
          <Money amount={inv.totalPayable} lang={lang} />
          {inv.currency !== "VND" ? <span class="hint">{w.currencyNote(inv.currency)}</span> : null}
        </dd>
        <dt>{w.code}</dt>
        <dd>
          <code>{inv.code}</code>
        </dd>
      </dl>
      {qr ? (
        <div class="qr">
          <img src={qrDataUrl(qr)} alt={w.qrAlt(inv.code)} width="192" height="192" />
        </div>
      ) : null}
    </div>
  );
};

/** Genuine (by the record's own code check) and its status: a cancelled or replaced invoice is genuine but warned about. */
const Found: FC<{ inv: PublicInvoice; lang: Lang }> = ({ inv, lang }) => {
  const w = WORDS[lang];
  if (!inv.valid) return <Bad lang={lang} title={w.notGenuine} text={w.notGenuineText} />;
  const live = inv.status === "issued" || inv.status === "adjusted";
  return (
    <section class="card" aria-labelledby="result-title">
      <div class={`verdict ${live ? "ok" : "warn"}`}>
        <h2 id="result-title">
          <span class="mark" aria-hidden="true">
            {live ? "✓" : "!"}
          </span>
          {w.genuine}
        </h2>
        <p>{w.genuineText}</p>
        <p>
          <strong>{w.status}:</strong> {w.statusText[inv.status]}
        </p>
      </div>
      <InvoiceFacts inv={inv} lang={lang} />
    </section>
  );
};

const Bad: FC<{ lang: Lang; title: string; text: string; children?: Child }> = ({ title, text, children }) => (
  <section class="card" aria-labelledby="result-title">
    <div class="verdict bad">
      <h2 id="result-title">
        <span class="mark" aria-hidden="true">
          ✗
        </span>
        {title}
      </h2>
      <p>{text}</p>
    </div>
    {children}
  </section>
);

const CHECKS = ["sellerSignature", "authoritySignature", "codeAuthentic", "matchesRecord"] as const;

const Checks: FC<{ v: DocumentVerification; w: Words }> = ({ v, w }) => (
  <>
    <h3>{w.checks}</h3>
    <ul class="checks">
      {CHECKS.map((name) => (
        <li>
          {v.checks[name] ? (
            <span class="pass">✓ {w.passed}</span>
          ) : (
            <span class="fail">✗ {w.failed}</span>
          )}
          {" — "}
          {w.checkNames[name]}
          {!v.checks[name] ? (
            <span class="hint">
              {w.checkFailed[name]} <span lang="en">({v.failures.find((f) => f.check === name)?.message ?? ""})</span>
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  </>
);

const DocumentResult: FC<{ v: DocumentVerification; lang: Lang }> = ({ v, lang }) => {
  const w = WORDS[lang];
  if (v.valid && v.invoice) {
    const live = v.invoice.status === "issued" || v.invoice.status === "adjusted";
    return (
      <section class="card" aria-labelledby="result-title">
        <div class={`verdict ${live ? "ok" : "warn"}`}>
          <h2 id="result-title">
            <span class="mark" aria-hidden="true">
              {live ? "✓" : "!"}
            </span>
            {w.genuine}
          </h2>
          <p>{w.genuineText}</p>
          <p>
            <strong>{w.status}:</strong> {w.statusText[v.invoice.status]}
          </p>
        </div>
        <InvoiceFacts inv={v.invoice} lang={lang} />
        <Checks v={v} w={w} />
      </section>
    );
  }
  return (
    <Bad lang={lang} title={w.notGenuine} text={w.notGenuineText}>
      <Checks v={v} w={w} />
      {v.invoice ? (
        <>
          <h3>{w.recordTitle}</h3>
          <InvoiceFacts inv={v.invoice} lang={lang} />
        </>
      ) : null}
    </Bad>
  );
};

const Result: FC<{ result: BuyerResult; lang: Lang }> = ({ result, lang }) => {
  const w = WORDS[lang];
  switch (result.kind) {
    case "found":
      return <Found inv={result.invoice} lang={lang} />;
    case "notFound":
      return <Bad lang={lang} title={w.notFound} text={w.notFoundText} />;
    case "document":
      return <DocumentResult v={result.verification} lang={lang} />;
    case "unreadable":
      return (
        <Bad lang={lang} title={w.unreadable} text={w.unreadableText}>
          <p class="hint">{result.message}</p>
        </Bad>
      );
    case "inputError":
      return null;
  }
};

const FieldError: FC<{ result: BuyerResult | null; form: "code" | "details" | "file"; id: string }> = ({ result, form, id }) =>
  result?.kind === "inputError" && result.form === form ? (
    <p class="error" id={id} role="alert">
      {result.message}
    </p>
  ) : null;

export const BuyerPage: FC<BuyerPageProps> = ({ lang, switchHref, query, result }) => {
  const w = WORDS[lang];
  const err = (form: "code" | "details" | "file") => (result?.kind === "inputError" && result.form === form ? `${form}-error` : undefined);
  return (
    <Layout lang={lang} title={w.htmlTitle} switchHref={switchHref}>
      <h1>{w.buyerTitle}</h1>
      <p>{w.buyerIntro}</p>
      {result ? <Result result={result} lang={lang} /> : null}

      <section class="card" aria-labelledby="by-code">
        <h2 id="by-code">{w.byCode}</h2>
        <form method="get" action="/">
          <label for="code">{w.codeLabel}</label>
          <span class="hint" id="code-hint">
            {w.codeHint}
          </span>
          <input
            id="code"
            name="code"
            type="text"
            inputmode="text"
            autocomplete="off"
            autocapitalize="characters"
            spellcheck={false}
            maxlength={64}
            value={query.code ?? ""}
            aria-describedby={err("code") ? "code-hint code-error" : "code-hint"}
            aria-invalid={err("code") ? "true" : undefined}
          />
          <FieldError result={result} form="code" id="code-error" />
          <button type="submit">{w.check}</button>
        </form>
      </section>

      <section class="card" aria-labelledby="by-details">
        <h2 id="by-details">{w.byDetails}</h2>
        <form method="get" action="/">
          <FieldError result={result} form="details" id="details-error" />
          <div class="grid">
            <div>
              <label for="seller">{w.sellerLabel}</label>
              <input id="seller" name="seller" type="text" inputmode="numeric" autocomplete="off" maxlength={14} value={query.seller ?? ""} required />
            </div>
            <div>
              <label for="form">{w.formLabel}</label>
              <input id="form" name="form" type="text" inputmode="numeric" autocomplete="off" maxlength={1} value={query.form ?? ""} required />
            </div>
            <div>
              <label for="symbol">{w.symbolLabel}</label>
              <input id="symbol" name="symbol" type="text" autocomplete="off" autocapitalize="characters" maxlength={6} value={query.symbol ?? ""} required />
            </div>
            <div>
              <label for="number">{w.numberLabel}</label>
              <input id="number" name="number" type="text" inputmode="numeric" autocomplete="off" maxlength={8} value={query.number ?? ""} required />
            </div>
            <div class="wide">
              <label for="total">{w.totalLabel}</label>
              <span class="hint" id="total-hint">
                {w.totalHint}
              </span>
              <input id="total" name="total" type="text" inputmode="decimal" autocomplete="off" maxlength={24} value={query.total ?? ""} aria-describedby="total-hint" required />
            </div>
          </div>
          <button type="submit">{w.check}</button>
        </form>
      </section>

      <section class="card" aria-labelledby="by-file">
        <h2 id="by-file">{w.byFile}</h2>
        <form method="post" action="/" enctype="multipart/form-data">
          <label for="invoice">{w.fileLabel}</label>
          <span class="hint" id="invoice-hint">
            {w.fileHint}
          </span>
          <input id="invoice" name="invoice" type="file" accept=".xml,application/xml,text/xml" aria-describedby={err("file") ? "invoice-hint file-error" : "invoice-hint"} required />
          <FieldError result={result} form="file" id="file-error" />
          <button type="submit">{w.check}</button>
        </form>
      </section>
    </Layout>
  );
};

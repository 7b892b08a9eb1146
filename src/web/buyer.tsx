/**
 * GET / (api.md): the buyer's lookup. Three ways in (the code; seller, form, symbol, number and
 * total; the XML file) and one plain answer: genuine or not, the status, seller, date, amounts
 * and the QR, drawn from the verified record.
 */
import type { Child, FC } from "hono/jsx";
import { countsInReports, type InvoiceStatus } from "../domain/lifecycle.js";
import { buyerCheckUrl } from "../domain/qr.js";
import type { DocumentVerification, PublicInvoice } from "../domain/verification.js";
import type { ErrorCode } from "../errors.js";
import { tvanError } from "../tvan/errors.js";
import { formatDate, formatMoney, type Lang, WORDS, type Words } from "./i18n.js";
import { Layout } from "./layout.js";
import { qrDataUrl } from "./qr-image.js";

/** Where the invoice's issue sits in the transparency log (null until it is under a signed head). */
export interface LogPlace {
  leafIndex: number;
  treeSize: number;
}

export type BuyerResult =
  | { kind: "found"; invoice: PublicInvoice; log?: LogPlace | null }
  | { kind: "notFound" }
  | { kind: "document"; verification: DocumentVerification }
  | { kind: "unreadable"; code: ErrorCode; message: string }
  | { kind: "inputError"; form: "code" | "details" | "file"; message: string };

export interface BuyerQuery {
  code?: string;
  seller?: string;
  form?: string;
  symbol?: string;
  number?: string;
  total?: string;
  /** The form typed differs from the one printed before the symbol ("1C26TAA"). */
  formMismatch?: boolean;
}

export interface BuyerPageProps {
  lang: Lang;
  /** The public base URL of this page (ends in "/"): what the QR opens. */
  publicBase: string;
  switchHref: string;
  query: BuyerQuery;
  result: BuyerResult | null;
}

const Money: FC<{ amount: string; lang: Lang }> = ({ amount, lang }) => <span class="money">{formatMoney(amount, lang)} ₫</span>;

/**
 * The facts of a genuine record, and its QR: the URL of this check with the record's code (from
 * the record, never from a document's DLQRCode), so that a phone camera opens the verdict.
 */
const InvoiceFacts: FC<{ inv: PublicInvoice; lang: Lang; publicBase: string }> = ({ inv, lang, publicBase }) => {
  const w = WORDS[lang];
  const qr = buyerCheckUrl(publicBase, inv.code);
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
      <div class="qr">
        <img src={qrDataUrl(qr)} alt={w.qrAlt(inv.code)} width="192" height="192" />
      </div>
    </div>
  );
};


/** The headline of a genuine record: its status in the same words whenever it is not simply in force. */
const GenuineVerdict: FC<{ status: InvoiceStatus; lang: Lang }> = ({ status, lang }) => {
  const w = WORDS[lang];
  const live = countsInReports(status);
  return (
    <div class={`verdict ${live ? "ok" : "warn"}`}>
      <h2 id="result-title">
        <span class="mark" aria-hidden="true">
          {live ? "✓" : "!"}
        </span>
        {w.genuineHeadline[status]}
      </h2>
      <p>{live ? w.genuineText : w.genuineNoLongerText}</p>
    </div>
  );
};

/** Genuine (by the record's own code check) and its status: a cancelled or replaced invoice is headlined as such. */
const Found: FC<{ inv: PublicInvoice; lang: Lang; publicBase: string; log?: LogPlace | null | undefined }> = ({ inv, lang, publicBase, log }) => {
  const w = WORDS[lang];
  if (!inv.valid) return <Bad lang={lang} title={w.notGenuine} text={w.notGenuineText} />;
  return (
    <section class="card" aria-labelledby="result-title">
      <GenuineVerdict status={inv.status} lang={lang} />
      <InvoiceFacts inv={inv} lang={lang} publicBase={publicBase} />
      {log ? (
        <p class="hint log-entry">
          {w.logEntry(log.leafIndex, log.treeSize)} <a href={`/v1/log/proof/inclusion?code=${encodeURIComponent(inv.code)}`}>{w.logProof}</a>
        </p>
      ) : null}
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

/** The four checks; the technical reason of a failure only in English (the Vietnamese sentence says it in plain words). */
const Checks: FC<{ v: DocumentVerification; w: Words; lang: Lang }> = ({ v, w, lang }) => (
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
              {w.checkFailed[name]}
              {lang === "en" ? ` (${v.failures.find((f) => f.check === name)?.message ?? ""})` : null}
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  </>
);

const DocumentResult: FC<{ v: DocumentVerification; lang: Lang; publicBase: string }> = ({ v, lang, publicBase }) => {
  const w = WORDS[lang];
  if (v.valid && v.invoice) {
    return (
      <section class="card" aria-labelledby="result-title">
        <GenuineVerdict status={v.invoice.status} lang={lang} />
        <InvoiceFacts inv={v.invoice} lang={lang} publicBase={publicBase} />
        <Checks v={v} w={w} lang={lang} />
      </section>
    );
  }
  return (
    <Bad lang={lang} title={w.notGenuine} text={w.notGenuineText}>
      <Checks v={v} w={w} lang={lang} />
      {v.invoice ? (
        <>
          <h3>{w.recordTitle}</h3>
          <InvoiceFacts inv={v.invoice} lang={lang} publicBase={publicBase} />
        </>
      ) : null}
    </Bad>
  );
};

const Result: FC<{ result: BuyerResult; lang: Lang; publicBase: string }> = ({ result, lang, publicBase }) => {
  const w = WORDS[lang];
  switch (result.kind) {
    case "found":
      return <Found inv={result.invoice} lang={lang} publicBase={publicBase} log={result.log} />;
    case "notFound":
      return <Bad lang={lang} title={w.notFound} text={w.notFoundText} />;
    case "document":
      return <DocumentResult v={result.verification} lang={lang} publicBase={publicBase} />;
    case "unreadable":
      return (
        <Bad lang={lang} title={w.unreadable} text={w.unreadableText}>
          <p class="hint">{lang === "vi" ? tvanError(result.code).mtloi : result.message}</p>
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

export const BuyerPage: FC<BuyerPageProps> = ({ lang, publicBase, switchHref, query, result }) => {
  const w = WORDS[lang];
  const err = (form: "code" | "details" | "file") => (result?.kind === "inputError" && result.form === form ? `${form}-error` : undefined);
  return (
    <Layout lang={lang} title={w.htmlTitle} switchHref={switchHref}>
      <h1>{w.buyerTitle}</h1>
      <p>{w.buyerIntro}</p>
      {result ? <Result result={result} lang={lang} publicBase={publicBase} /> : null}

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
            maxlength={600}
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
              <span class="hint" id="form-hint">
                {w.formHint}
              </span>
              <input id="form" name="form" type="text" inputmode="numeric" autocomplete="off" maxlength={1} value={query.form ?? ""} aria-describedby="form-hint" />
            </div>
            <div>
              <label for="symbol">{w.symbolLabel}</label>
              <span class="hint" id="symbol-hint">
                {w.symbolHint}
              </span>
              <input id="symbol" name="symbol" type="text" autocomplete="off" autocapitalize="characters" maxlength={8} value={query.symbol ?? ""} aria-describedby="symbol-hint" required />
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
